using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Training kernels of the cpu backend: each call checks that the buffers are this backend's and
/// long enough (the fast kernels use pointers), then runs the kernel in Cpu/Training. Their
/// readable versions are in <see cref="CpuReferenceBackward"/>.
/// </summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>
    /// Variants "flipped-filter-conv" (default: <see cref="CpuConvDataGradient"/>, the forward conv of gradOut with the
    /// flipped filter, at stride 1, on the forward kernel <see cref="GradientConvKernel"/> picks; strided convs run im2col-gemm), "im2col-gemm" (GEMM + col2im,
    /// <see cref="CpuConvBackward.BackwardData"/>) and "reference".
    /// </summary>
    public void Conv2DBackwardData(DeviceBuffer gradOutput, DeviceBuffer filter, DeviceBuffer gradInput, in Conv2DGeometry g)
    {
        const string Op = nameof(Conv2DBackwardData);
        float[] dy = Data(gradOutput, g.OutputShape.Length, Op, nameof(gradOutput)), f = Data(filter, g.FilterShape.Length, Op, nameof(filter));
        float[] dx = Data(gradInput, g.InputShape.Length, Op, nameof(gradInput));
        string variant = Variants[BackwardDataOp];
        if (variant == ReferenceVariant)
            CpuReferenceBackward.Conv2DBackwardData(dy, f, dx, g);
        else if (variant == FlippedFilterVariant && CpuConvDataGradient.Applies(g))
            fixed (float* dyp = dy, fp = f, dxp = dx)
            {
                var flipped = CpuConvDataGradient.Flipped(g);
                RunConv2D(GradientConvKernel(flipped), null, dyp, CpuConvDataGradient.FlippedFilter(fp, g), null, null,
                    ConvTarget.Compact(dxp, flipped), flipped, KernelActivation.None);
            }
        else
            CpuConvBackward.BackwardData(Threads, Simd, dy, f, dx, g);
    }

    /// <summary>
    /// Variants "direct" (default: <see cref="CpuConvFilterGradient"/>, the filter-gradient tile in registers, patches read
    /// from the input), "im2col-gemm" (<see cref="CpuConvBackward.BackwardFilter"/>) and "reference".
    /// </summary>
    public void Conv2DBackwardFilter(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradFilter, in Conv2DGeometry g)
    {
        const string Op = nameof(Conv2DBackwardFilter);
        float[] x = Data(input, g.InputShape.Length, Op, nameof(input)), dy = Data(gradOutput, g.OutputShape.Length, Op, nameof(gradOutput));
        float[] dw = Data(gradFilter, g.FilterShape.Length, Op, nameof(gradFilter));
        switch (Variants[BackwardFilterOp])
        {
            case ReferenceVariant:
                CpuReferenceBackward.Conv2DBackwardFilter(x, dy, dw, g);
                break;
            case Im2colGemmVariant:
                CpuConvBackward.BackwardFilter(Threads, Simd, x, dy, dw, g);
                break;
            default:
                fixed (float* xp = x, dyp = dy, dwp = dw) CpuConvFilterGradient.Run(Simd, Threads, xp, dyp, dwp, g);
                break;
        }
    }

    /// <summary>
    /// The forward kernel for a conv that computes a gradient: the depthwise one for a depthwise conv; direct for few
    /// input channels; else the tuner's pick for the shape (it times direct against the GEMMs), or direct, the fastest
    /// on AVX2, where nothing is tuned.
    /// </summary>
    private string GradientConvKernel(in Conv2DGeometry g)
    {
        if (CpuConvKernels.IsDepthwise(g)) return DepthwiseKernel;
        if (CpuConvDirect.PreferredFor(g)) return DirectConvVariant;
        return Tuning.Tuned(this, g)?.Variant ?? DirectConvVariant;
    }

    private const string BackwardFilterOp = "conv2d-backward-filter", BackwardDataOp = "conv2d-backward-data";
    /// <summary>conv2d-backward-data: the input gradient as the forward conv of gradOut with the flipped filter (<see cref="CpuConvDataGradient"/>).</summary>
    public const string FlippedFilterVariant = "flipped-filter-conv";

    /// <summary>The training ops' variants; the first of each is the default.</summary>
    private void RegisterTrainingVariants()
    {
        Variants.Register(BackwardFilterOp, DirectConvVariant, Im2colGemmVariant, ReferenceVariant);
        Variants.Register(BackwardDataOp, FlippedFilterVariant, Im2colGemmVariant, ReferenceVariant);
    }

    /// <inheritdoc/>
    public void BiasBackward(DeviceBuffer gradOutput, DeviceBuffer gradBias, long rows, int channels)
    {
        const string Op = nameof(BiasBackward);
        CpuTensorBackward.BiasBackward(Threads,
            Data(gradOutput, rows * channels, Op, nameof(gradOutput)), Data(gradBias, channels, Op, nameof(gradBias)), rows, channels);
    }

    /// <inheritdoc/>
    public void Pool2DBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pool2DGeometry g, PoolKind kind)
    {
        const string Op = nameof(Pool2DBackward);
        CpuPoolBackward.Pool2DBackward(Threads,
            Data(input, g.InputShape.Length, Op, nameof(input)),
            Data(gradOutput, g.OutputShape.Length, Op, nameof(gradOutput)),
            Data(gradInput, g.InputShape.Length, Op, nameof(gradInput)), g, kind);
    }

    /// <inheritdoc/>
    public void GlobalPoolBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, int n, int spatial, int channels, PoolKind kind)
    {
        const string Op = nameof(GlobalPoolBackward);
        long inputLength = (long)n * spatial * channels;
        CpuPoolBackward.GlobalPoolBackward(Threads,
            Data(input, kind == PoolKind.Max ? inputLength : 0, Op, nameof(input)),
            Data(gradOutput, (long)n * channels, Op, nameof(gradOutput)),
            Data(gradInput, inputLength, Op, nameof(gradInput)), n, spatial, channels, kind);
    }

    /// <inheritdoc/>
    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
    {
        const string Op = nameof(MatMul);
        CpuGemm.Multiply(Simd, Threads, transposeA, transposeB, m, n, k,
            Pointer(a, (long)m * k, Op, nameof(a)), transposeA ? m : k,
            Pointer(b, (long)k * n, Op, nameof(b)), transposeB ? k : n,
            Pointer(c, (long)m * n, Op, nameof(c)), n, accumulate);
    }

    /// <inheritdoc/>
    public void ActivationBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation)
    {
        const string Op = nameof(ActivationBackward);
        CpuElementwiseBackward.ActivationBackward(Threads, Simd,
            Pointer(output, length, Op, nameof(output)), Pointer(gradOutput, length, Op, nameof(gradOutput)),
            Pointer(gradInput, length, Op, nameof(gradInput)), length, activation);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, int rows, int cols, bool log)
    {
        const string Op = nameof(SoftmaxBackward);
        long length = (long)rows * cols;
        CpuElementwiseBackward.SoftmaxBackward(Threads,
            Pointer(output, length, Op, nameof(output)), Pointer(gradOutput, length, Op, nameof(gradOutput)),
            Pointer(gradInput, length, Op, nameof(gradInput)), rows, cols, log);
    }

    /// <inheritdoc/>
    public void Split(DeviceBuffer input, IReadOnlyList<DeviceBuffer> outputs, IReadOnlyList<int> channels, long pixels)
    {
        const string Op = nameof(Split);
        if (outputs.Count != channels.Count)
            throw new ArgumentException($"{Op}: {outputs.Count} output buffers but {channels.Count} channel counts.");
        var targets = new float[outputs.Count][];
        for (int t = 0; t < outputs.Count; t++) targets[t] = Data(outputs[t], pixels * channels[t], Op, $"outputs[{t}]");
        CpuTensorBackward.Split(Threads, Data(input, pixels * channels.Sum(), Op, nameof(input)), targets, [.. channels], pixels);
    }

    /// <inheritdoc/>
    public void Pad2DBackward(DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pad2DGeometry g, PadMode mode)
    {
        const string Op = nameof(Pad2DBackward);
        CpuTensorBackward.Pad2DBackward(Threads,
            Data(gradOutput, g.OutputShape.Length, Op, nameof(gradOutput)), Data(gradInput, g.InputShape.Length, Op, nameof(gradInput)), g, mode);
    }

    /// <inheritdoc/>
    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    {
        const string Op = nameof(Multiply);
        CpuTensorBackward.Multiply(Threads, Data(a, length, Op, nameof(a)), Data(b, length, Op, nameof(b)), Data(output, length, Op, nameof(output)), length);
    }

    /// <inheritdoc/>
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y, long length)
    {
        const string Op = nameof(Axpy);
        CpuTensorBackward.Axpy(Threads, alpha, Data(x, length, Op, nameof(x)), Data(y, length, Op, nameof(y)), length);
    }

    /// <inheritdoc/>
    public void Fill(DeviceBuffer buffer, float value, long length) =>
        CpuTensorBackward.Fill(Threads, Data(buffer, length, nameof(Fill), nameof(buffer)), value, length);

    /// <inheritdoc/>
    public void Dropout(DeviceBuffer input, DeviceBuffer mask, DeviceBuffer output, long length, float rate, ulong seed)
    {
        const string Op = nameof(Dropout);
        if (!(rate >= 0f && rate <= 1f))
            throw new ArgumentOutOfRangeException(nameof(rate), $"{Op}: rate must be in [0, 1], got {rate}.");
        CpuTensorBackward.Dropout(Threads, Data(input, length, Op, nameof(input)), Data(mask, length, Op, nameof(mask)),
            Data(output, length, Op, nameof(output)), length, rate, seed);
    }

    /// <inheritdoc/>
    public void Loss(LossKind kind, DeviceBuffer prediction, DeviceBuffer target, DeviceBuffer lossPerRow, DeviceBuffer gradPrediction, int rows, int cols)
    {
        string op = $"Loss {kind}";
        long length = (long)rows * cols;
        CpuLosses.Loss(Threads, kind, Data(prediction, length, op, nameof(prediction)),
            Data(target, kind == LossKind.SoftmaxSparseCategoricalCrossEntropy ? rows : length, op, nameof(target)),
            Data(lossPerRow, rows, op, nameof(lossPerRow)), Data(gradPrediction, length, op, nameof(gradPrediction)), rows, cols);
    }

    /// <inheritdoc/>
    public void AdamUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer m, DeviceBuffer v, long length, float stepSize, float beta1, float beta2, float epsilon)
    {
        const string Op = nameof(AdamUpdate);
        CpuOptimizers.Adam(Threads, Simd, Pointer(parameters, length, Op, nameof(parameters)), Pointer(gradient, length, Op, nameof(gradient)),
            Pointer(m, length, Op, nameof(m)), Pointer(v, length, Op, nameof(v)), length, stepSize, beta1, beta2, epsilon);
    }

    /// <inheritdoc/>
    public void SgdUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer velocity, long length, float learningRate, float momentum, bool nesterov)
    {
        const string Op = nameof(SgdUpdate);
        CpuOptimizers.Sgd(Threads, Simd, Pointer(parameters, length, Op, nameof(parameters)), Pointer(gradient, length, Op, nameof(gradient)),
            Pointer(velocity, length, Op, nameof(velocity)), length, learningRate, momentum, nesterov);
    }

    /// <summary>The buffer's array, after checking it is this backend's, alive and at least <paramref name="needed"/> floats long.</summary>
    private float[] Data(DeviceBuffer buffer, long needed, string op, string name)
    {
        int length = Buf(buffer).Length;
        if (needed < 0 || length < needed)
            throw new ArgumentException($"{op}: buffer '{name}' holds {length} floats but the op needs {needed}.", name);
        return ((CpuBuffer)buffer).Data;
    }

    /// <summary>
    /// A pointer to the buffer's data, checked as <see cref="Data"/>. Cpu buffers are pinned arrays
    /// (<see cref="CpuBuffer"/>), so the pointer stays valid while the buffer is alive.
    /// </summary>
    private float* Pointer(DeviceBuffer buffer, long needed, string op, string name) =>
        (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Data(buffer, needed, op, name)));
}
