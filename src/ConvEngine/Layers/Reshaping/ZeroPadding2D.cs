using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras ZeroPadding2D: adds rows and columns of zeros around each image of (N, H, W, C). Padding is an int
/// (all four sides), (symmetric height, symmetric width), or ((top, bottom), (left, right)); Keras's default is 1.
/// </summary>
public sealed class ZeroPadding2D : Layer
{
    private Pad2DGeometry _geometry;

    /// <summary>The same padding on all four sides.</summary>
    public ZeroPadding2D(int padding = 1, string? name = null) : this(padding, padding, padding, padding, name) { }

    /// <summary>Symmetric padding: <paramref name="padding"/>.Height rows above and below, .Width columns left and right.</summary>
    public ZeroPadding2D(Size2D padding, string? name = null) : this(padding.Height, padding.Height, padding.Width, padding.Width, name) { }

    /// <summary>Keras's ((top, bottom), (left, right)).</summary>
    public ZeroPadding2D((int Top, int Bottom) height, (int Left, int Right) width, string? name = null)
        : this(height.Top, height.Bottom, width.Left, width.Right, name) { }

    private ZeroPadding2D(int top, int bottom, int left, int right, string? name) : base(name)
    {
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ArgumentException($"ZeroPadding2D '{Name}': padding must be non-negative, got ((top {top}, bottom {bottom}), (left {left}, right {right})).");
        (Top, Bottom, Left, Right) = (top, bottom, left, right);
    }

    /// <inheritdoc/>
    public override string ClassName => "ZeroPadding2D";
    /// <summary>Zero rows added at the top.</summary>
    public int Top { get; }
    /// <summary>Zero rows added at the bottom.</summary>
    public int Bottom { get; }
    /// <summary>Zero columns added at the left.</summary>
    public int Left { get; }
    /// <summary>Zero columns added at the right.</summary>
    public int Right { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3)
            throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        return [input.Shape[0] + Top + Bottom, input.Shape[1] + Left + Right, input.Shape[2]];
    }

    private Pad2DGeometry GeometryFor(Tensor input)
    {
        if (_geometry.N != input.Shape[0] || _geometry.C == 0)
            _geometry = Pad2DGeometry.Create($"ZeroPadding2D '{Name}'", input.Shape, Top, Bottom, Left, Right, PadMode.Zero);
        return _geometry;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var g = GeometryFor(x);
        var output = Workspace("output", x.Backend, g.OutputShape);
        x.Backend.Pad2D(x.Buffer, output.Buffer, g, PadMode.Zero);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.Pad2DBackward(gradOutput.Buffer, gradInput.Buffer, GeometryFor(x), PadMode.Zero);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["padding"] = new JsonArray(new JsonArray(Top, Bottom), new JsonArray(Left, Right));
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Reads Keras's padding: 1, [1, 2] or [[1, 1], [2, 2]].</summary>
    internal static ZeroPadding2D FromConfig(JsonObject c)
    {
        const string owner = "ZeroPadding2D";
        JsonConfig.RequireChannelsLast(c, owner);
        var (top, bottom, left, right) = JsonConfig.Sides(c, owner, "padding", 1);
        return new ZeroPadding2D((top, bottom), (left, right), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
