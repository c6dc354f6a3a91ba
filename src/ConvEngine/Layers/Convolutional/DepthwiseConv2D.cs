using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras DepthwiseConv2D: each input channel convolved with its own depth_multiplier filters, output channel
/// c·depth_multiplier + m (tf.nn.depthwise_conv2d). Keras's defaults: strides 1, padding "valid", depth_multiplier 1,
/// dilation 1, use_bias, glorot_uniform depthwise_kernel, zero bias. The kernel is Keras's (kh, kw, C, multiplier),
/// whose memory order is exactly the grouped conv filter (kh, kw, 1, C·multiplier) with groups = C, so the backend's
/// grouped conv kernels and their backward passes run it unchanged.
/// </summary>
public sealed class DepthwiseConv2D : ActivatedLayer
{
    private Conv2DGeometry _geometry;

    /// <param name="padding">"valid" or "same" (TensorFlow's split: the odd pixel goes bottom/right).</param>
    /// <param name="depthMultiplier">Depthwise output channels per input channel.</param>
    /// <param name="kernelSize">The kernel's (height, width); one number for both.</param>
    /// <param name="strides">The step between windows along (height, width); null for 1.</param>
    /// <param name="dilationRate">The spacing of the kernel's taps; null for 1.</param>
    /// <param name="activation">A Keras activation name ("relu", "sigmoid", …) applied to the output; null for linear.</param>
    /// <param name="useBias">Whether a bias is added per output channel.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public DepthwiseConv2D(Size2D kernelSize, Size2D? strides = null, string padding = "valid", int depthMultiplier = 1,
        Size2D? dilationRate = null, string? activation = null, bool useBias = true, string? name = null) : base(name, activation)
    {
        KernelSize = kernelSize;
        Strides = strides ?? 1;
        DilationRate = dilationRate ?? 1;
        DepthMultiplier = depthMultiplier;
        UseBias = useBias;
        Padding = ConvolutionSettings.Check(ClassName, Name, kernelSize, Strides, DilationRate, padding);
        if (depthMultiplier <= 0) throw new ArgumentException($"{ClassName} '{Name}': depth_multiplier must be positive, got {depthMultiplier}.");
    }

    /// <inheritdoc/>
    public override string ClassName => "DepthwiseConv2D";
    /// <summary>The kernel's (height, width).</summary>
    public Size2D KernelSize { get; }
    /// <summary>The step between windows along (height, width).</summary>
    public Size2D Strides { get; }
    /// <summary>The spacing of the kernel's taps along (height, width).</summary>
    public Size2D DilationRate { get; }
    /// <summary>Valid or same padding.</summary>
    public Padding Padding { get; }
    /// <summary>Output channels per input channel.</summary>
    public int DepthMultiplier { get; }
    /// <summary>Whether a bias is added per output channel.</summary>
    public bool UseBias { get; }
    /// <summary>(kh, kw, C, depth_multiplier), as Keras stores it.</summary>
    public Parameter? DepthwiseKernel { get; private set; }
    /// <summary>The bias (C·depth_multiplier), once built and when used.</summary>
    public Parameter? Bias { get; private set; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3) throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        int channels = input.Shape[2];
        if (DepthwiseKernel is not null && DepthwiseKernel.Shape[2] != channels)
            throw ShapeError(input, $"expects {DepthwiseKernel.Shape[2]} input channels (depthwise_kernel {DepthwiseKernel.Shape})");
        var g = ConvolutionSettings.Geometry(this, input, new TensorShape(1, input.Shape[0], input.Shape[1], channels), FilterShape(channels), Options(channels));
        if (DepthwiseKernel is null)
        {
            long receptiveField = (long)KernelSize.Height * KernelSize.Width;
            DepthwiseKernel = AddParameter("depthwise_kernel", [KernelSize.Height, KernelSize.Width, channels, DepthMultiplier],
                Initializer.GlorotUniform(receptiveField * channels, receptiveField * DepthMultiplier));
            if (UseBias) Bias = AddParameter("bias", [channels * DepthMultiplier], Initializer.Zeros);
        }
        return [g.OH, g.OW, g.OC];
    }

    /// <summary>The grouped-conv view of the kernel: (kh, kw, 1, C·multiplier), the same floats in the same order.</summary>
    private TensorShape FilterShape(int channels) => new(KernelSize.Height, KernelSize.Width, 1, channels * DepthMultiplier);

    private Conv2DOptions Options(int channels) => new()
    {
        StrideH = Strides.Height, StrideW = Strides.Width,
        DilationH = DilationRate.Height, DilationW = DilationRate.Width,
        Padding = Padding, Groups = channels,
    };

    private Conv2DGeometry GeometryFor(Tensor input)
    {
        if (_geometry.N != input.Shape[0] || _geometry.OC == 0)
            _geometry = Conv2DGeometry.Create($"{ClassName} '{Name}'", input.Shape, FilterShape(input.Shape[-1]), Options(input.Shape[-1]));
        return _geometry;
    }

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => BatchShape(inputs[0].Shape[0], OutputShape);

    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused)
    {
        var x = inputs[0];
        x.Backend.Conv2D(x.Buffer, DepthwiseKernel!.Value!.Buffer, Bias?.Value!.Buffer, output.Buffer, GeometryFor(x), fused);
    }

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient)
    {
        var x = LastInput;
        var backend = x.Backend;
        var g = GeometryFor(x);
        if (GradientOf(DepthwiseKernel!) is { } gradKernel)
            backend.Conv2DBackwardFilter(x.Buffer, gradPreActivation.Buffer, gradKernel.Buffer, g);
        if (Bias is not null && GradientOf(Bias) is { } gradBias)
            backend.BiasBackward(gradPreActivation.Buffer, gradBias.Buffer, (long)g.N * g.OH * g.OW, g.OC);
        if (!needInputGradient[0]) return [null];
        var gradInput = Workspace("grad_input", backend, x.Shape);
        backend.Conv2DBackwardData(gradPreActivation.Buffer, DepthwiseKernel!.Value!.Buffer, gradInput.Buffer, g);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["kernel_size"] = KernelSize.ToJson();
        config["strides"] = Strides.ToJson();
        config["padding"] = Padding.ToString();
        config["depth_multiplier"] = DepthMultiplier;
        config["data_format"] = "channels_last";
        config["dilation_rate"] = DilationRate.ToJson();
        config["use_bias"] = UseBias;
        config["depthwise_initializer"] = ConvolutionSettings.GlorotUniformJson();
        config["bias_initializer"] = Initializer.Zeros.ToJson();
        return config;
    }

    internal static DepthwiseConv2D FromConfig(JsonObject c)
    {
        const string owner = "DepthwiseConv2D";
        JsonConfig.RequireChannelsLast(c, owner);
        return new DepthwiseConv2D(JsonConfig.Pair(c, owner, "kernel_size"), JsonConfig.Pair(c, owner, "strides", 1),
            JsonConfig.String(c, owner, "padding", "valid"), JsonConfig.Int(c, owner, "depth_multiplier", 1),
            JsonConfig.Pair(c, owner, "dilation_rate", 1), JsonConfig.OptionalString(c, owner, "activation"),
            JsonConfig.Bool(c, owner, "use_bias", true), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
