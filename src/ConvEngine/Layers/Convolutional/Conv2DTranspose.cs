using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Conv2DTranspose (a "deconvolution"): the gradient of a Conv2D with respect to its input, used to upsample.
/// Keras's defaults: strides 1, padding "valid", output_padding None, dilation 1, use_bias, glorot_uniform kernel (kh, kw,
/// filters, in_channels), zero bias; the output size is Keras's conv_utils.deconv_output_length. Beyond Keras, for ONNX
/// ConvTranspose models: explicit pads ([[top, bottom], [left, right]] in the config) and groups.
/// Forward is the conv's backward-data pass plus bias; backward is the conv's forward pass (input gradient) and its filter gradient.
/// </summary>
public sealed class Conv2DTranspose : ActivatedLayer
{
    private ConvTranspose2DGeometry _geometry;

    /// <param name="padding">"valid" or "same".</param>
    /// <param name="outputPadding">Keras's output_padding (each entry below its stride), or null for None.</param>
    /// <param name="filters">The number of output channels.</param>
    /// <param name="kernelSize">The kernel's (height, width); one number for both.</param>
    /// <param name="strides">The upsampling step along (height, width); null for 1.</param>
    /// <param name="dilationRate">The spacing of the kernel's taps; null for 1.</param>
    /// <param name="activation">A Keras activation name ("relu", "sigmoid", …) applied to the output; null for linear.</param>
    /// <param name="useBias">Whether a bias is added per output channel.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Conv2DTranspose(int filters, Size2D kernelSize, Size2D? strides = null, string padding = "valid", Size2D? outputPadding = null,
        Size2D? dilationRate = null, string? activation = null, bool useBias = true, string? name = null)
        : this(filters, kernelSize, strides, ConvolutionSettings.Check("Conv2DTranspose", name ?? "conv2d_transpose", kernelSize, strides ?? 1, dilationRate ?? 1, padding),
            outputPadding, dilationRate, 1, activation, useBias, name) { }

    /// <summary>With explicit pads (<see cref="Padding.Explicit(int, int, int, int)"/>) or groups, as ONNX ConvTranspose has them.</summary>
    public Conv2DTranspose(int filters, Size2D kernelSize, Size2D? strides, Padding padding, Size2D? outputPadding, Size2D? dilationRate,
        int groups, string? activation = null, bool useBias = true, string? name = null) : base(name, activation)
    {
        if (filters <= 0) throw new ArgumentException($"{ClassName} '{Name}': filters must be positive, got {filters}.");
        if (groups <= 0 || filters % groups != 0) throw new ArgumentException($"{ClassName} '{Name}': groups {groups} must be positive and divide filters {filters}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides ?? 1;
        DilationRate = dilationRate ?? 1;
        Padding = padding;
        OutputPadding = outputPadding;
        Groups = groups;
        UseBias = useBias;
        ConvolutionSettings.Check(ClassName, Name, kernelSize, Strides, DilationRate, "valid");
        if (padding.Mode == PaddingMode.Explicit && (padding.Top < 0 || padding.Bottom < 0 || padding.Left < 0 || padding.Right < 0))
            throw new ArgumentException($"{ClassName} '{Name}': pads must be non-negative, got {padding}.");
        if (padding.Mode is PaddingMode.Causal)
            throw new ArgumentException($"{ClassName} '{Name}': padding must be 'valid', 'same' or explicit pads, got '{padding}'.");
        if (outputPadding is { } op && (op.Height < 0 || op.Width < 0 || op.Height >= Strides.Height || op.Width >= Strides.Width))
            throw new ArgumentException($"{ClassName} '{Name}': output_padding {op} must be non-negative and smaller than the strides {Strides}.");
    }

    /// <inheritdoc/>
    public override string ClassName => "Conv2DTranspose";
    /// <summary>The number of output channels.</summary>
    public int Filters { get; }
    /// <summary>The kernel's (height, width).</summary>
    public Size2D KernelSize { get; }
    /// <summary>The upsampling step along (height, width).</summary>
    public Size2D Strides { get; }
    /// <summary>The spacing of the kernel's taps along (height, width).</summary>
    public Size2D DilationRate { get; }
    /// <summary>Valid or same, as Keras sizes a transposed convolution's output.</summary>
    public Padding Padding { get; }
    /// <summary>Keras's output_padding; null is None.</summary>
    public Size2D? OutputPadding { get; }
    /// <summary>Channel groups, each convolved on its own.</summary>
    public int Groups { get; }
    /// <summary>Whether a bias is added per output channel.</summary>
    public bool UseBias { get; }
    /// <summary>(kh, kw, filters/groups, in_channels), as Keras stores it.</summary>
    public Parameter? Kernel { get; private set; }
    /// <summary>The bias (filters), once built and when used.</summary>
    public Parameter? Bias { get; private set; }

    private ConvTranspose2DOptions Options() => new()
    {
        StrideH = Strides.Height, StrideW = Strides.Width,
        DilationH = DilationRate.Height, DilationW = DilationRate.Width,
        Padding = Padding, OutputPaddingH = OutputPadding?.Height, OutputPaddingW = OutputPadding?.Width, Groups = Groups,
    };

    private TensorShape FilterShape(int channels) => new(KernelSize.Height, KernelSize.Width, Filters / Groups, channels);

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3) throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        int channels = input.Shape[2];
        if (Kernel is not null && Kernel.Shape[3] != channels)
            throw ShapeError(input, $"expects {Kernel.Shape[3]} input channels (kernel {Kernel.Shape})");
        ConvTranspose2DGeometry g;
        try
        {
            g = ConvTranspose2DGeometry.Create($"{ClassName} '{Name}'", new TensorShape(1, input.Shape[0], input.Shape[1], channels), FilterShape(channels), Options());
        }
        catch (ShapeException e)
        {
            throw new ShapeException($"{e.Message} The input comes from '{input.Layer.Name}', which outputs {input.ShapeText}.");
        }
        if (Kernel is null)
        {
            long receptiveField = (long)KernelSize.Height * KernelSize.Width;
            // Keras's compute_fans on the kernel's own shape: fan_in = kh·kw·filters, fan_out = kh·kw·in.
            Kernel = AddParameter("kernel", FilterShape(channels).ToArray(), Initializer.GlorotUniform(receptiveField * (Filters / Groups), receptiveField * channels));
            if (UseBias) Bias = AddParameter("bias", [Filters], Initializer.Zeros);
        }
        return [g.OutputShape[1], g.OutputShape[2], Filters];
    }

    private ConvTranspose2DGeometry GeometryFor(Tensor input)
    {
        if (_geometry.Conv.N != input.Shape[0] || _geometry.Conv.OC == 0)
            _geometry = ConvTranspose2DGeometry.Create($"{ClassName} '{Name}'", input.Shape, FilterShape(input.Shape[-1]), Options());
        return _geometry;
    }

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => BatchShape(inputs[0].Shape[0], OutputShape);

    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused)
    {
        var x = inputs[0];
        x.Backend.ConvTranspose2D(x.Buffer, Kernel!.Value!.Buffer, Bias?.Value!.Buffer, output.Buffer, GeometryFor(x), fused);
    }

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient)
    {
        var x = LastInput;
        var backend = x.Backend;
        var g = GeometryFor(x);
        // This op is the conv g.Conv run backwards: its filter gradient pairs the conv's "input" (our output gradient)
        // with the conv's "output gradient" (our input), and our input gradient is that conv's forward pass.
        if (GradientOf(Kernel!) is { } gradKernel)
            backend.Conv2DBackwardFilter(gradPreActivation.Buffer, x.Buffer, gradKernel.Buffer, g.Conv);
        if (Bias is not null && GradientOf(Bias) is { } gradBias)
            backend.BiasBackward(gradPreActivation.Buffer, gradBias.Buffer, g.OutputShape.Length / Filters, Filters);
        if (!needInputGradient[0]) return [null];
        var gradInput = Workspace("grad_input", backend, x.Shape);
        backend.Conv2D(gradPreActivation.Buffer, Kernel!.Value!.Buffer, null, gradInput.Buffer, g.Conv, KernelActivation.None);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["filters"] = Filters;
        config["kernel_size"] = KernelSize.ToJson();
        config["strides"] = Strides.ToJson();
        config["padding"] = Padding.Mode == PaddingMode.Explicit
            ? new JsonArray(new JsonArray(Padding.Top, Padding.Bottom), new JsonArray(Padding.Left, Padding.Right))
            : Padding.ToString();
        config["output_padding"] = OutputPadding?.ToJson();
        config["data_format"] = "channels_last";
        config["dilation_rate"] = DilationRate.ToJson();
        if (Groups != 1) config["groups"] = Groups;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = ConvolutionSettings.GlorotUniformJson();
        config["bias_initializer"] = Initializer.Zeros.ToJson();
        return config;
    }

    internal static Conv2DTranspose FromConfig(JsonObject c)
    {
        const string owner = "Conv2DTranspose";
        JsonConfig.RequireChannelsLast(c, owner);
        Padding padding;
        if (c["padding"] is JsonArray)
        {
            var (top, bottom, left, right) = JsonConfig.Sides(c, owner, "padding", 0);
            padding = Padding.Explicit(top, bottom, left, right);
        }
        else padding = Padding.Parse(JsonConfig.String(c, owner, "padding", "valid"));
        Size2D? outputPadding = c["output_padding"] is null ? null : JsonConfig.Pair(c, owner, "output_padding");
        string name = JsonConfig.String(c, owner, "name");
        var kernelSize = JsonConfig.Pair(c, owner, "kernel_size");
        var strides = JsonConfig.Pair(c, owner, "strides", 1);
        var dilation = JsonConfig.Pair(c, owner, "dilation_rate", 1);
        return new Conv2DTranspose(JsonConfig.Int(c, owner, "filters"), kernelSize, strides, padding, outputPadding, dilation,
            JsonConfig.Int(c, owner, "groups", 1), JsonConfig.OptionalString(c, owner, "activation"), JsonConfig.Bool(c, owner, "use_bias", true), name)
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
