using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// What MaxPool2D and AveragePooling2D share: Keras defaults pool (2, 2), strides = pool size,
/// padding "valid"; SAME average pooling leaves the padding out of the divisor, as TensorFlow does.
/// </summary>
public abstract class Pooling2DLayer : Layer
{
    private Pool2DGeometry _geometry;

    private protected Pooling2DLayer(Size2D? poolSize, Size2D? strides, string padding, string? name) : base(name)
    {
        PoolSize = poolSize ?? 2;
        Strides = strides ?? PoolSize;
        Padding = Padding.Parse(padding);
        if (Padding.Mode is not (PaddingMode.Valid or PaddingMode.Same))
            throw new ArgumentException($"{ClassName} '{Name}': padding must be 'valid' or 'same', got '{padding}'.");
        if (PoolSize.Height <= 0 || PoolSize.Width <= 0 || Strides.Height <= 0 || Strides.Width <= 0)
            throw new ArgumentException($"{ClassName} '{Name}': pool_size and strides must be positive, got {PoolSize} and {Strides}.");
    }

    /// <summary>From a Keras config; <paramref name="owner"/> names the class in errors.</summary>
    private protected Pooling2DLayer(JsonObject c, string owner)
        : this(ConfigPoolSize(c, owner), c["strides"] is null ? null : JsonConfig.Pair(c, owner, "strides"), "valid", JsonConfig.String(c, owner, "name"))
    {
        Trainable = JsonConfig.Bool(c, owner, "trainable", true);
        Padding = ReadPadding(c, owner);
        CeilMode = JsonConfig.Bool(c, owner, "ceil_mode", false);
        CountIncludePad = JsonConfig.Bool(c, owner, "count_include_pad", false);
    }

    private static Size2D ConfigPoolSize(JsonObject c, string owner)
    {
        JsonConfig.RequireChannelsLast(c, owner);
        return JsonConfig.Pair(c, owner, "pool_size", 2);
    }

    /// <summary>The window's (height, width).</summary>
    public Size2D PoolSize { get; }
    /// <summary>The step between windows along (height, width).</summary>
    public Size2D Strides { get; }
    /// <summary>"valid" or "same" from the constructor; imported Caffe/ONNX models may set explicit pads instead.</summary>
    public Padding Padding { get; init; }
    /// <summary>Caffe/ONNX ceil_mode: the output length rounds up (not a Keras option; configs carry it only when true).</summary>
    public bool CeilMode { get; init; }
    /// <summary>Average pooling with explicit pads: divide by the whole window, pads included (Caffe, ONNX count_include_pad).</summary>
    public bool CountIncludePad { get; init; }
    private protected abstract PoolKind Kind { get; }

    private Pool2DOptions Options() => new()
    {
        PoolH = PoolSize.Height, PoolW = PoolSize.Width,
        StrideH = Strides.Height, StrideW = Strides.Width,
        Padding = Padding,
        CeilMode = CeilMode,
        CountIncludePad = CountIncludePad,
    };

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3)
            throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        try
        {
            var g = Pool2DGeometry.Create($"{ClassName} '{Name}'", new([1, .. input.Shape]), Options());
            return [g.OH, g.OW, g.C];
        }
        catch (ShapeException e)
        {
            throw new ShapeException($"{e.Message} The input comes from '{input.Layer.Name}', which outputs {input.ShapeText}.");
        }
    }

    private Pool2DGeometry GeometryFor(Tensor input)
    {
        if (_geometry.N != input.Shape[0])
            _geometry = Pool2DGeometry.Create($"{ClassName} '{Name}'", input.Shape, Options());
        return _geometry;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var g = GeometryFor(x);
        var output = Workspace("output", x.Backend, g.OutputShape);
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

    /// <summary>
    /// Backward through this pool and the activation of <paramref name="producer"/>, the layer whose output it pools, in
    /// one kernel: writes d(loss)/d(producer's pre-activation) into <paramref name="gradPreActivation"/> and, when given,
    /// the producer's bias gradient.
    /// </summary>
    internal void BackwardThroughActivation(Tensor gradOutput, ActivatedLayer producer, Tensor gradPreActivation, Tensor? gradBias)
    {
        var x = LastInput;
        x.Backend.Pool2DActivationBackward(x.Buffer, gradOutput.Buffer, gradPreActivation.Buffer, gradBias?.Buffer,
            GeometryFor(x), Kind, producer.Activation.Kernel);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["pool_size"] = PoolSize.ToJson();
        config["padding"] = Padding.Mode == PaddingMode.Explicit
            ? new JsonArray(new JsonArray(Padding.Top, Padding.Bottom), new JsonArray(Padding.Left, Padding.Right))
            : Padding.ToString();
        config["strides"] = Strides.ToJson();
        config["data_format"] = "channels_last";
        if (CeilMode) config["ceil_mode"] = true;
        if (CountIncludePad) config["count_include_pad"] = true;
        return config;
    }

    /// <summary>A config's padding: Keras's "valid"/"same", or [[top, bottom], [left, right]] written for explicit pads.</summary>
    private protected static Padding ReadPadding(JsonObject c, string owner)
    {
        if (c["padding"] is not JsonArray { Count: 2 } sides) return Padding.Parse(JsonConfig.String(c, owner, "padding", "valid"));
        var height = JsonConfig.Pair(new JsonObject { ["padding"] = sides[0]?.DeepClone() }, owner, "padding");
        var width = JsonConfig.Pair(new JsonObject { ["padding"] = sides[1]?.DeepClone() }, owner, "padding");
        return Padding.Explicit(height.Height, height.Width, width.Height, width.Width);
    }
}
