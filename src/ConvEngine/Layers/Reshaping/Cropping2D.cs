using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Cropping2D: removes rows and columns at the borders of each image of (N, H, W, C). Cropping is an int (all
/// four sides), (symmetric height, symmetric width) or ((top, bottom), (left, right)); Keras's default is none.
/// Cropping is ZeroPadding2D run backwards, so it runs on the zero-padding kernels: forward is the padding's
/// gradient kernel, backward pads the gradient with zeros.
/// </summary>
public sealed class Cropping2D : Layer
{
    private Pad2DGeometry _geometry;

    /// <summary>The same cropping on all four sides.</summary>
    public Cropping2D(int cropping = 0, string? name = null) : this(cropping, cropping, cropping, cropping, name) { }

    /// <summary>Symmetric cropping: <paramref name="cropping"/>.Height rows above and below, .Width columns left and right.</summary>
    public Cropping2D(Size2D cropping, string? name = null) : this(cropping.Height, cropping.Height, cropping.Width, cropping.Width, name) { }

    /// <summary>Keras's ((top, bottom), (left, right)).</summary>
    public Cropping2D((int Top, int Bottom) height, (int Left, int Right) width, string? name = null)
        : this(height.Top, height.Bottom, width.Left, width.Right, name) { }

    private Cropping2D(int top, int bottom, int left, int right, string? name) : base(name)
    {
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ArgumentException($"Cropping2D '{Name}': cropping must be non-negative, got ((top {top}, bottom {bottom}), (left {left}, right {right})).");
        (Top, Bottom, Left, Right) = (top, bottom, left, right);
    }

    /// <inheritdoc/>
    public override string ClassName => "Cropping2D";
    /// <summary>Rows removed at the top.</summary>
    public int Top { get; }
    /// <summary>Rows removed at the bottom.</summary>
    public int Bottom { get; }
    /// <summary>Columns removed at the left.</summary>
    public int Left { get; }
    /// <summary>Columns removed at the right.</summary>
    public int Right { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3)
            throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        int height = input.Shape[0] - Top - Bottom, width = input.Shape[1] - Left - Right;
        if (height <= 0 || width <= 0)
            throw new ShapeException($"Cropping2D '{Name}': cropping ((top {Top}, bottom {Bottom}), (left {Left}, right {Right})) " +
                $"leaves nothing of {input.ShapeText} from '{input.Layer.Name}' ({height} rows, {width} columns).");
        return [height, width, input.Shape[2]];
    }

    /// <summary>The padding that takes the cropped image back to the input's size.</summary>
    private Pad2DGeometry GeometryFor(Tensor input)
    {
        if (_geometry.N != input.Shape[0] || _geometry.C == 0)
            _geometry = Pad2DGeometry.Create($"Cropping2D '{Name}'", BatchShape(input.Shape[0], OutputShape), Top, Bottom, Left, Right, PadMode.Zero);
        return _geometry;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var g = GeometryFor(x);
        var output = Workspace("output", x.Backend, g.InputShape);
        x.Backend.Pad2DBackward(x.Buffer, output.Buffer, g, PadMode.Zero);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.Pad2D(gradOutput.Buffer, gradInput.Buffer, GeometryFor(x), PadMode.Zero);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["cropping"] = new JsonArray(new JsonArray(Top, Bottom), new JsonArray(Left, Right));
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Reads Keras's cropping: 1, [1, 2] or [[1, 1], [2, 2]].</summary>
    internal static Cropping2D FromConfig(JsonObject c)
    {
        const string owner = "Cropping2D";
        JsonConfig.RequireChannelsLast(c, owner);
        string name = JsonConfig.String(c, owner, "name");
        var (top, bottom, left, right) = JsonConfig.Sides(c, owner, "cropping", 0);
        return new Cropping2D((top, bottom), (left, right), name) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
