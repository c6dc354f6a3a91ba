using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>
/// What Conv1D and Conv2D share: both run the backend's 2-D convolution kernels (Conv1D sees its
/// (N, L, C) input as (N, 1, L, C)), with Keras's defaults, glorot_uniform kernel and zero bias. At inference on
/// the cpu backend the kernel (with a following batch norm folded in, when the model fuses one) is packed once into the
/// GEMM's layout and kept until a weight changes (its <see cref="Parameter.Version"/>) or the tuned kernel for the shape
/// does; a training pass drops the packed copy.
/// </summary>
public abstract class ConvolutionLayer : ActivatedLayer
{
    private Conv2DGeometry _geometry;
    /// <summary>The kernel packed for inference on the cpu backend, what it was packed from, and for which conv.</summary>
    private PackedConv2DFilter? _packed;
    private WeightStamp _packedStamp;
    private Conv2DGeometry _packedGeometry;

    private protected ConvolutionLayer(int filters, Size2D kernelSize, Size2D strides, string padding, Size2D dilationRate,
        int groups, string? activation, bool useBias, string? name) : base(name, activation)
    {
        if (filters <= 0) throw new ArgumentException($"{ClassName} '{Name}': filters must be positive, got {filters}.");
        if (kernelSize.Height <= 0 || kernelSize.Width <= 0) throw new ArgumentException($"{ClassName} '{Name}': kernel_size must be positive, got {kernelSize}.");
        if (strides.Height <= 0 || strides.Width <= 0) throw new ArgumentException($"{ClassName} '{Name}': strides must be positive, got {strides}.");
        if (dilationRate.Height <= 0 || dilationRate.Width <= 0) throw new ArgumentException($"{ClassName} '{Name}': dilation_rate must be positive, got {dilationRate}.");
        if (groups <= 0 || filters % groups != 0) throw new ArgumentException($"{ClassName} '{Name}': groups {groups} must be positive and divide filters {filters}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides;
        DilationRate = dilationRate;
        Padding = Padding.Parse(padding);
        Groups = groups;
        UseBias = useBias;
    }

    /// <summary>The number of output channels.</summary>
    public int Filters { get; }
    /// <summary>The kernel's (height, width).</summary>
    public Size2D KernelSize { get; }
    /// <summary>The step between windows along (height, width).</summary>
    public Size2D Strides { get; }
    /// <summary>The spacing of the kernel's taps along (height, width).</summary>
    public Size2D DilationRate { get; }
    /// <summary>Valid, same or (Conv1D) causal padding.</summary>
    public Padding Padding { get; }
    /// <summary>Channel groups, each convolved on its own.</summary>
    public int Groups { get; }
    /// <summary>Whether a bias is added per output channel.</summary>
    public bool UseBias { get; }
    /// <summary>(kh, kw, in/groups, filters) for Conv2D, (k, in/groups, filters) for Conv1D, as Keras stores it.</summary>
    public Parameter? Kernel { get; private set; }
    /// <summary>The bias (filters), once built and when used.</summary>
    public Parameter? Bias { get; private set; }

    /// <summary>Spatial axes of one sample: 2 for Conv2D, 1 for Conv1D.</summary>
    private protected abstract int SpatialRank { get; }
    /// <summary>The text of the expected input, e.g. "(None, H, W, C)".</summary>
    private protected abstract string InputLayoutText { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != SpatialRank + 1)
            throw ShapeError(input, $"expects a {SpatialRank + 2}-D input {InputLayoutText}");
        int channels = input.Shape[^1];
        if (channels % Groups != 0)
            throw ShapeError(input, $"with groups {Groups} expects input channels divisible by {Groups}");
        int[] kernelShape = SpatialRank == 2
            ? [KernelSize.Height, KernelSize.Width, channels / Groups, Filters]
            : [KernelSize.Width, channels / Groups, Filters];
        if (Kernel is not null && !Kernel.Shape.Dims.SequenceEqual(kernelShape))
            throw ShapeError(input, $"expects {Kernel.Shape[-2] * Groups} input channels (kernel {Kernel.Shape})");

        Conv2DGeometry g;
        try
        {
            g = Conv2DGeometry.Create($"{ClassName} '{Name}'", AsImageShape(1, input.Shape), FilterImageShape(channels), Options());
        }
        catch (ShapeException e)
        {
            throw new ShapeException($"{e.Message} The input comes from '{input.Layer.Name}', which outputs {input.ShapeText}.");
        }

        if (Kernel is null)
        {
            long receptiveField = (long)KernelSize.Height * KernelSize.Width;
            Kernel = AddParameter("kernel", kernelShape,
                Initializer.GlorotUniform(receptiveField * (channels / Groups), receptiveField * Filters));
            if (UseBias) Bias = AddParameter("bias", [Filters], Initializer.Zeros);
        }
        return SpatialRank == 2 ? [g.OH, g.OW, Filters] : [g.OW, Filters];
    }

    private Conv2DOptions Options() => new()
    {
        StrideH = Strides.Height, StrideW = Strides.Width,
        DilationH = DilationRate.Height, DilationW = DilationRate.Width,
        Padding = Padding, Groups = Groups,
    };

    /// <summary>The (N, H, W, C) view the conv kernels see: (N, 1, L, C) for a 1-D input.</summary>
    private TensorShape AsImageShape(int batch, IReadOnlyList<int> sample) =>
        SpatialRank == 2 ? new TensorShape(batch, sample[0], sample[1], sample[2]) : new TensorShape(batch, 1, sample[0], sample[1]);

    private TensorShape FilterImageShape(int channels) => new(KernelSize.Height, KernelSize.Width, channels / Groups, Filters);

    private Conv2DGeometry GeometryFor(Tensor input)
    {
        var image = AsImageShape(input.Shape[0], input.Shape.Dims[1..].ToArray());
        if (_geometry.N != image[0] || _geometry.H != image[1] || _geometry.W != image[2] || _geometry.OC == 0)
            _geometry = Conv2DGeometry.Create($"{ClassName} '{Name}'", image, FilterImageShape(input.Shape[-1]), Options());
        return _geometry;
    }

    /// <summary>From the batch's own size: after RandomWidth or RandomHeight a training batch differs from the symbolic shape.</summary>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs)
    {
        var g = GeometryFor(inputs[0]);
        return SpatialRank == 2 ? new TensorShape(g.N, g.OH, g.OW, g.OC) : new TensorShape(g.N, g.OW, g.OC);
    }

    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused)
    {
        var x = inputs[0];
        var g = GeometryFor(x);
        if (Inferring && x.Backend is CpuBackend cpu)
        {
            var (filter, bias) = InferenceWeights(cpu, g, null);
            cpu.Conv2D(x.Buffer, filter, bias, output.Buffer, g, fused, default);
            return;
        }
        DropPackedKernel();
        x.Backend.Conv2D(x.Buffer, Kernel!.Value!.Buffer, Bias?.Value!.Buffer, output.Buffer, g, fused);
    }

    /// <summary>
    /// Inference on the cpu backend into a buffer the model planned: act(conv(<paramref name="input"/>) + bias [+ the
    /// residual]) written at <paramref name="target"/>'s channels of <paramref name="output"/> (a residual sum's or a
    /// concatenation's output), with <paramref name="folded"/>, the BatchNormalization that reads this conv's output, folded
    /// into the kernel and bias (at inference it is an affine map per channel: γ·(z − mean)/√(variance + ε) + β).
    /// </summary>
    internal void InferInto(Tensor input, Tensor output, KernelActivation activation, Conv2DOutput target, BatchNormalization? folded)
    {
        var cpu = (CpuBackend)input.Backend;
        var g = GeometryFor(input);
        var (filter, bias) = InferenceWeights(cpu, g, folded);
        cpu.Conv2D(input.Buffer, filter, bias, output.Buffer, g, activation, target);
    }

    /// <summary>This layer's own output buffer for <paramref name="input"/>, for <see cref="InferInto"/>.</summary>
    internal Tensor InferenceOutput(Tensor input) => Workspace("output", input.Backend, OutputShapeFor([input]));

    /// <summary>What the packed kernel was prepared from: the weights' versions, and the batch norm folded into it with its weights' versions.</summary>
    private readonly record struct WeightStamp(int Kernel, int Bias, BatchNormalization? Folded, long FoldedVersions)
    {
        public static WeightStamp Of(ConvolutionLayer conv, BatchNormalization? bn) => new(conv.Kernel!.Version, conv.Bias?.Version ?? 0, bn,
            bn is null ? 0 : (long)(bn.Gamma?.Version ?? 0) + (bn.Beta?.Version ?? 0) + bn.MovingMean!.Version + bn.MovingVariance!.Version);
    }

    /// <summary>
    /// The kernel packed for <paramref name="g"/>'s conv on <paramref name="cpu"/> and the bias to add, with
    /// <paramref name="folded"/> folded into both: the kept ones while the weights and the kernel choice still fit, else
    /// folded and packed again.
    /// </summary>
    private (PackedConv2DFilter Filter, DeviceBuffer? Bias) InferenceWeights(CpuBackend cpu, in Conv2DGeometry g, BatchNormalization? folded)
    {
        var kernel = Kernel!;
        var stamp = WeightStamp.Of(this, folded);
        bool stale = _packed is null || _packedStamp != stamp;
        DeviceBuffer source = kernel.Value!.Buffer;
        DeviceBuffer? bias = Bias?.Value!.Buffer;
        if (folded is not null)
        {
            var foldedKernel = Workspace("folded_kernel", cpu, kernel.Shape);
            var foldedBias = Workspace("folded_bias", cpu, new TensorShape(Filters));
            if (stale) FoldBatchNorm(cpu, folded, foldedKernel, foldedBias);
            (source, bias) = (foldedKernel.Buffer, foldedBias.Buffer);
        }
        // A packed kernel stays correct for any kernel choice (direct reads the source, a GEMM without panels packs its own),
        // so its layout is only checked again when the conv changes (a new batch size can change the tuned blocking); the
        // check asks the tuning cache, which would cost every call a few lookups.
        if (stale || (g != _packedGeometry && !cpu.Conv2DFilterFits(_packed!, source, g)))
        {
            DropPackedKernel();
            _packed = cpu.PackConv2DFilter(source, g);
            _packedStamp = stamp;
        }
        _packedGeometry = g;
        return (_packed!, bias);
    }

    /// <summary>Writes kernel·s and (bias − mean)·s + β, s = γ/√(variance + ε) per output channel, computed in double.</summary>
    private void FoldBatchNorm(CpuBackend cpu, BatchNormalization bn, Tensor foldedKernel, Tensor foldedBias)
    {
        float[] kernel = Kernel!.ToArray(), mean = bn.MovingMean!.ToArray(), variance = bn.MovingVariance!.ToArray();
        float[]? bias = Bias?.ToArray(), gamma = bn.Gamma?.ToArray(), beta = bn.Beta?.ToArray();
        var scale = new double[Filters];
        var shifted = new float[Filters];
        for (int o = 0; o < Filters; o++)
        {
            scale[o] = (gamma?[o] ?? 1.0) / Math.Sqrt(variance[o] + bn.Epsilon);
            shifted[o] = (float)(((bias?[o] ?? 0.0) - mean[o]) * scale[o] + (beta?[o] ?? 0.0));
        }
        for (int i = 0; i < kernel.Length; i++) kernel[i] = (float)(kernel[i] * scale[i % Filters]);
        cpu.Upload(kernel, foldedKernel.Buffer);
        cpu.Upload(shifted, foldedBias.Buffer);
    }

    private void DropPackedKernel()
    {
        _packed?.Dispose();
        _packed = null;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) DropPackedKernel();
        base.Dispose(disposing);
    }

    internal override Tensor? BiasGradient => Bias is null ? null : GradientOf(Bias);

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient)
    {
        var x = LastInput;
        var backend = x.Backend;
        var g = GeometryFor(x);
        if (GradientOf(Kernel!) is { } gradKernel)
            backend.Conv2DBackwardFilter(x.Buffer, gradPreActivation.Buffer, gradKernel.Buffer, g);
        if (Bias is not null && !BiasGradientWritten && GradientOf(Bias) is { } gradBias)
            backend.BiasBackward(gradPreActivation.Buffer, gradBias.Buffer, (long)g.N * g.OH * g.OW, g.OC);
        if (!needInputGradient[0]) return [null];
        var gradInput = Workspace("grad_input", backend, x.Shape);
        backend.Conv2DBackwardData(gradPreActivation.Buffer, Kernel!.Value!.Buffer, gradInput.Buffer, g);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["filters"] = Filters;
        config["kernel_size"] = SpatialRank == 2 ? KernelSize.ToJson() : new JsonArray(KernelSize.Width);
        config["strides"] = SpatialRank == 2 ? Strides.ToJson() : new JsonArray(Strides.Width);
        config["padding"] = Padding.ToString();
        config["data_format"] = "channels_last";
        config["dilation_rate"] = SpatialRank == 2 ? DilationRate.ToJson() : new JsonArray(DilationRate.Width);
        config["groups"] = Groups;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = new JsonObject { ["class_name"] = "GlorotUniform", ["config"] = new JsonObject { ["seed"] = null } };
        config["bias_initializer"] = new JsonObject { ["class_name"] = "Zeros", ["config"] = new JsonObject() };
        return config;
    }
}
