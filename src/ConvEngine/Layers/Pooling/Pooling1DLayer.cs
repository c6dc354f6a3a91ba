using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// What MaxPooling1D and AveragePooling1D share, on (N, L, C): Keras defaults pool_size 2, strides = pool size,
/// padding "valid". They run the 2-D pool kernels on (N, 1, L, C), the same memory, so both kernel families and
/// their backward passes come with them; SAME average pooling leaves the padding out of the divisor, as TensorFlow.
/// </summary>
public abstract class Pooling1DLayer : Layer
{
    private Pool2DGeometry _geometry;

    private protected Pooling1DLayer(int poolSize, int? strides, string padding, string? name) : base(name)
    {
        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        Padding = Padding.Parse(padding);
        if (Padding.Mode is not (PaddingMode.Valid or PaddingMode.Same))
            throw new ArgumentException($"{ClassName} '{Name}': padding must be 'valid' or 'same', got '{padding}'.");
        if (PoolSize <= 0 || Strides <= 0)
            throw new ArgumentException($"{ClassName} '{Name}': pool_size and strides must be positive, got {PoolSize} and {Strides}.");
    }

    /// <summary>From a Keras config (pool_size and strides as an int or a list of one); <paramref name="owner"/> names the class in errors.</summary>
    private protected Pooling1DLayer(JsonObject c, string owner)
        : this(ConfigPoolSize(c, owner), c["strides"] is null ? null : JsonConfig.Single(c, owner, "strides"),
            JsonConfig.String(c, owner, "padding", "valid"), JsonConfig.String(c, owner, "name"))
    {
        Trainable = JsonConfig.Bool(c, owner, "trainable", true);
    }

    private static int ConfigPoolSize(JsonObject c, string owner)
    {
        JsonConfig.RequireChannelsLast(c, owner);
        return JsonConfig.Single(c, owner, "pool_size", 2);
    }

    /// <summary>The window length.</summary>
    public int PoolSize { get; }
    /// <summary>The step between windows (the pool size unless given).</summary>
    public int Strides { get; }
    /// <summary>valid or same.</summary>
    public Padding Padding { get; }
    private protected abstract PoolKind Kind { get; }

    /// <summary>The pool as a 2-D pool over (N, 1, L, C): a window of height 1 never pads the height.</summary>
    internal Pool2DOptions Options() => new() { PoolH = 1, PoolW = PoolSize, StrideH = 1, StrideW = Strides, Padding = Padding };

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 2)
            throw ShapeError(input, "expects a 3-D input (None, L, C)");
        try
        {
            var g = Pool2DGeometry.Create($"{ClassName} '{Name}'", new(1, 1, input.Shape[0], input.Shape[1]), Options());
            return [g.OW, g.C];
        }
        catch (ShapeException e)
        {
            throw new ShapeException($"{e.Message} The input comes from '{input.Layer.Name}', which outputs {input.ShapeText}.");
        }
    }

    private Pool2DGeometry GeometryFor(Tensor input)
    {
        if (_geometry.N != input.Shape[0])
            _geometry = Pool2DGeometry.Create($"{ClassName} '{Name}'", new(input.Shape[0], 1, input.Shape[1], input.Shape[2]), Options());
        return _geometry;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var g = GeometryFor(x);
        var output = Workspace("output", x.Backend, new(g.N, g.OW, g.C));
        x.Backend.Pool2D(x.Buffer, output.Buffer, g, Kind);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.Pool2DBackward(x.Buffer, gradOutput.Buffer, gradInput.Buffer, GeometryFor(x), Kind);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        // Keras writes 1-D sizes as tuples of one: "pool_size": [2].
        config["pool_size"] = new JsonArray(PoolSize);
        config["padding"] = Padding.ToString();
        config["strides"] = new JsonArray(Strides);
        config["data_format"] = "channels_last";
        return config;
    }
}

/// <summary>Keras MaxPooling1D (alias MaxPool1D): the max of each window along L; the gradient goes to the first max.</summary>
public sealed class MaxPooling1D : Pooling1DLayer
{
    /// <param name="strides">Null means the pool size, as in Keras.</param>
    /// <param name="poolSize">The window length (Keras's default 2).</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public MaxPooling1D(int poolSize = 2, int? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name) { }

    private MaxPooling1D(JsonObject c) : base(c, "MaxPooling1D") { }

    /// <inheritdoc/>
    public override string ClassName => "MaxPooling1D";
    private protected override PoolKind Kind => PoolKind.Max;

    internal static MaxPooling1D FromConfig(JsonObject c) => new(c);
}

/// <summary>Keras AveragePooling1D (alias AvgPool1D): the mean of each window along L; with "same" the padded cells are left out of the divisor (TensorFlow).</summary>
public sealed class AveragePooling1D : Pooling1DLayer
{
    /// <param name="strides">Null means the pool size, as in Keras.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    /// <param name="poolSize">The window length (Keras's default 2).</param>
    /// <param name="padding">"valid" or "same".</param>
    public AveragePooling1D(int poolSize = 2, int? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name) { }

    private AveragePooling1D(JsonObject c) : base(c, "AveragePooling1D") { }

    /// <inheritdoc/>
    public override string ClassName => "AveragePooling1D";
    private protected override PoolKind Kind => PoolKind.Average;

    internal static AveragePooling1D FromConfig(JsonObject c) => new(c);
}
