using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras SeparableConv2D (tf.nn.separable_conv2d): a depthwise conv (strides, padding and dilation apply here) into
/// C·depth_multiplier channels, then a 1×1 pointwise conv to <see cref="Filters"/> channels with the bias and the
/// activation. One layer with three weights in Keras's order: depthwise_kernel (kh, kw, C, multiplier),
/// pointwise_kernel (1, 1, C·multiplier, filters), bias (filters). Defaults as Keras: strides 1, padding "valid",
/// depth_multiplier 1, dilation 1, use_bias, glorot_uniform kernels, zero bias.
/// </summary>
public sealed class SeparableConv2D : ActivatedLayer
{
    private Conv2DGeometry _depthwise, _pointwise;

    /// <param name="padding">"valid" or "same" (TensorFlow's split), for the depthwise step.</param>
    /// <param name="depthMultiplier">Depthwise output channels per input channel.</param>
    /// <param name="filters">The number of output channels.</param>
    /// <param name="kernelSize">The kernel's (height, width); one number for both.</param>
    /// <param name="strides">The step between windows along (height, width); null for 1.</param>
    /// <param name="dilationRate">The spacing of the kernel's taps; null for 1.</param>
    /// <param name="activation">A Keras activation name ("relu", "sigmoid", …) applied to the output; null for linear.</param>
    /// <param name="useBias">Whether a bias is added per output channel.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public SeparableConv2D(int filters, Size2D kernelSize, Size2D? strides = null, string padding = "valid", int depthMultiplier = 1,
        Size2D? dilationRate = null, string? activation = null, bool useBias = true, string? name = null) : base(name, activation)
    {
        if (filters <= 0) throw new ArgumentException($"{ClassName} '{Name}': filters must be positive, got {filters}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides ?? 1;
        DilationRate = dilationRate ?? 1;
        DepthMultiplier = depthMultiplier;
        UseBias = useBias;
        Padding = ConvolutionSettings.Check(ClassName, Name, kernelSize, Strides, DilationRate, padding);
        if (depthMultiplier <= 0) throw new ArgumentException($"{ClassName} '{Name}': depth_multiplier must be positive, got {depthMultiplier}.");
    }

    /// <inheritdoc/>
    public override string ClassName => "SeparableConv2D";
    /// <summary>The number of output channels of the pointwise step.</summary>
    public int Filters { get; }
    /// <summary>The depthwise kernel's (height, width).</summary>
    public Size2D KernelSize { get; }
    /// <summary>The depthwise step between windows along (height, width).</summary>
    public Size2D Strides { get; }
    /// <summary>The spacing of the depthwise kernel's taps along (height, width).</summary>
    public Size2D DilationRate { get; }
    /// <summary>Valid or same padding.</summary>
    public Padding Padding { get; }
    /// <summary>Depthwise output channels per input channel.</summary>
    public int DepthMultiplier { get; }
    /// <summary>Whether a bias is added per output channel.</summary>
    public bool UseBias { get; }
    /// <summary>(kh, kw, C, depth_multiplier).</summary>
    public Parameter? DepthwiseKernel { get; private set; }
    /// <summary>(1, 1, C·depth_multiplier, filters).</summary>
    public Parameter? PointwiseKernel { get; private set; }
    /// <summary>The bias (filters), once built and when used.</summary>
    public Parameter? Bias { get; private set; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3) throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        int channels = input.Shape[2];
        if (DepthwiseKernel is not null && DepthwiseKernel.Shape[2] != channels)
            throw ShapeError(input, $"expects {DepthwiseKernel.Shape[2]} input channels (depthwise_kernel {DepthwiseKernel.Shape})");
        var g = ConvolutionSettings.Geometry(this, input, new TensorShape(1, input.Shape[0], input.Shape[1], channels), DepthwiseShape(channels), DepthwiseOptions(channels));
        if (DepthwiseKernel is null)
        {
            long receptiveField = (long)KernelSize.Height * KernelSize.Width;
            int middle = channels * DepthMultiplier;
            DepthwiseKernel = AddParameter("depthwise_kernel", [KernelSize.Height, KernelSize.Width, channels, DepthMultiplier],
                Initializer.GlorotUniform(receptiveField * channels, receptiveField * DepthMultiplier));
            PointwiseKernel = AddParameter("pointwise_kernel", [1, 1, middle, Filters], Initializer.GlorotUniform(middle, Filters));
            if (UseBias) Bias = AddParameter("bias", [Filters], Initializer.Zeros);
        }
        return [g.OH, g.OW, Filters];
    }

    private TensorShape DepthwiseShape(int channels) => new(KernelSize.Height, KernelSize.Width, 1, channels * DepthMultiplier);

    private Conv2DOptions DepthwiseOptions(int channels) => new()
    {
        StrideH = Strides.Height, StrideW = Strides.Width,
        DilationH = DilationRate.Height, DilationW = DilationRate.Width,
        Padding = Padding, Groups = channels,
    };

    private (Conv2DGeometry Depthwise, Conv2DGeometry Pointwise) GeometryFor(Tensor input)
    {
        if (_depthwise.N != input.Shape[0] || _depthwise.OC == 0)
        {
            int channels = input.Shape[-1];
            string op = $"{ClassName} '{Name}'";
            _depthwise = Conv2DGeometry.Create(op, input.Shape, DepthwiseShape(channels), DepthwiseOptions(channels));
            _pointwise = Conv2DGeometry.Create(op, _depthwise.OutputShape, new TensorShape(1, 1, _depthwise.OC, Filters), new Conv2DOptions());
        }
        return (_depthwise, _pointwise);
    }

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => BatchShape(inputs[0].Shape[0], OutputShape);

    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused)
    {
        var x = inputs[0];
        var backend = x.Backend;
        var (dw, pw) = GeometryFor(x);
        var middle = Workspace("depthwise_output", backend, dw.OutputShape);
        backend.Conv2D(x.Buffer, DepthwiseKernel!.Value!.Buffer, null, middle.Buffer, dw, KernelActivation.None);
        backend.Conv2D(middle.Buffer, PointwiseKernel!.Value!.Buffer, Bias?.Value!.Buffer, output.Buffer, pw, fused);
    }

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient)
    {
        var x = LastInput;
        var backend = x.Backend;
        var (dw, pw) = GeometryFor(x);
        var middle = Workspace("depthwise_output", backend, dw.OutputShape);
        if (GradientOf(PointwiseKernel!) is { } gradPointwise)
            backend.Conv2DBackwardFilter(middle.Buffer, gradPreActivation.Buffer, gradPointwise.Buffer, pw);
        if (Bias is not null && GradientOf(Bias) is { } gradBias)
            backend.BiasBackward(gradPreActivation.Buffer, gradBias.Buffer, (long)pw.N * pw.OH * pw.OW, pw.OC);
        var gradDepthwiseKernel = GradientOf(DepthwiseKernel!);
        if (gradDepthwiseKernel is null && !needInputGradient[0]) return [null];

        var gradMiddle = Workspace("grad_depthwise_output", backend, dw.OutputShape);
        backend.Conv2DBackwardData(gradPreActivation.Buffer, PointwiseKernel!.Value!.Buffer, gradMiddle.Buffer, pw);
        if (gradDepthwiseKernel is not null)
            backend.Conv2DBackwardFilter(x.Buffer, gradMiddle.Buffer, gradDepthwiseKernel.Buffer, dw);
        if (!needInputGradient[0]) return [null];
        var gradInput = Workspace("grad_input", backend, x.Shape);
        backend.Conv2DBackwardData(gradMiddle.Buffer, DepthwiseKernel!.Value!.Buffer, gradInput.Buffer, dw);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["filters"] = Filters;
        config["kernel_size"] = KernelSize.ToJson();
        config["strides"] = Strides.ToJson();
        config["padding"] = Padding.ToString();
        config["data_format"] = "channels_last";
        config["dilation_rate"] = DilationRate.ToJson();
        config["depth_multiplier"] = DepthMultiplier;
        config["use_bias"] = UseBias;
        config["depthwise_initializer"] = ConvolutionSettings.GlorotUniformJson();
        config["pointwise_initializer"] = ConvolutionSettings.GlorotUniformJson();
        config["bias_initializer"] = Initializer.Zeros.ToJson();
        return config;
    }

    internal static SeparableConv2D FromConfig(JsonObject c)
    {
        const string owner = "SeparableConv2D";
        JsonConfig.RequireChannelsLast(c, owner);
        return new SeparableConv2D(JsonConfig.Int(c, owner, "filters"), JsonConfig.Pair(c, owner, "kernel_size"),
            JsonConfig.Pair(c, owner, "strides", 1), JsonConfig.String(c, owner, "padding", "valid"),
            JsonConfig.Int(c, owner, "depth_multiplier", 1), JsonConfig.Pair(c, owner, "dilation_rate", 1),
            JsonConfig.OptionalString(c, owner, "activation"), JsonConfig.Bool(c, owner, "use_bias", true), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
