using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Backward ops, fused losses and optimizer updates.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, View, Conv2DGeometry>? _convBackwardData;
    private Action<Index1D, View, View, View, Conv2DGeometry>? _convBackwardFilter;
    private Action<Index1D, View, View, int, int, int>? _columnSums;
    private Action<Index1D, View, View, View, IlgpuPoolGeometry, PoolKind>? _poolBackward;
    private Action<Index1D, View, View, View, int, int, PoolKind>? _globalPoolBackward;
    private Action<Index1D, View, View, View, int, int, int, int, int, int>? _matMulDirect;
    private Action<Index1D, View, View, View, KernelActivation>? _activationBackward;
    private Action<Index1D, View, View, View, int, int>? _softmaxBackward;
    private Action<Index1D, View, View, Pad2DGeometry, PadMode>? _padBackward;
    private Action<Index1D, View, View, View>? _multiply;
    private Action<Index1D, float, View, View>? _axpy;
    private Action<Index1D, View, float>? _fill;
    private Action<Index1D, View, View, View, float, float, ulong>? _dropout;
    private Action<Index1D, LossKind, View, View, View, View, int, int>? _loss;
    private Action<Index1D, View, View, View, View, float, float, float, float>? _adam;
    private Action<Index1D, View, View, View, float, float, int>? _sgd;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;

    /// <summary>Rows one thread sums in the first pass of BiasBackward.</summary>
    private const int BiasRowsPerChunk = 64;

    /// <inheritdoc/>
    public void Conv2DBackwardData(DeviceBuffer gradOutput, DeviceBuffer filter, DeviceBuffer gradInput, in Conv2DGeometry g)
    {
        const string op = "Conv2DBackwardData";
        int count = Count(g.InputShape.Length, op);
        var (gy, f, gx) = (View(gradOutput, g.OutputShape.Length, op, "gradOutput"), View(filter, g.FilterShape.Length, op, "filter"),
            View(gradInput, count, op, "gradInput"));
        if (count == 0) return;
        // As in the forward pass, few channels per group (depthwise) would leave most of a tile idle.
        if (Variants["conv2d-backward-data"] == "implicit-gemm-tiled" && g.InChannelsPerGroup >= 16)
        {
            RunTiled(ref _convBackwardDataTiled, new ConvBackwardDataOperands(g), gy, f, gx, NoBias, 0, 1, accumulate: false, KernelActivation.None, g.Groups, count);
            return;
        }
        _convBackwardData ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, Conv2DGeometry>(IlgpuConvKernels.BackwardDataGather);
        _convBackwardData(count, gy, f, gx, g);
    }

    /// <inheritdoc/>
    public void Conv2DBackwardFilter(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradFilter, in Conv2DGeometry g)
    {
        const string op = "Conv2DBackwardFilter";
        int count = Count(g.FilterShape.Length, op);
        var (x, gy, gf) = (View(input, g.InputShape.Length, op, "input"), View(gradOutput, g.OutputShape.Length, op, "gradOutput"),
            View(gradFilter, count, op, "gradFilter"));
        if (count == 0) return;
        if (Variants["conv2d-backward-filter"] == "implicit-gemm-tiled" && g.OutChannelsPerGroup >= 16)
        {
            RunTiled(ref _convBackwardFilterTiled, new ConvBackwardFilterOperands(g), x, gy, gf, NoBias, 0, 1, accumulate: false, KernelActivation.None, g.Groups, count);
            return;
        }
        _convBackwardFilter ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, Conv2DGeometry>(IlgpuConvKernels.BackwardFilterDirect);
        _convBackwardFilter(count, x, gy, gf, g);
    }

    /// <inheritdoc/>
    public void BiasBackward(DeviceBuffer gradOutput, DeviceBuffer gradBias, long rows, int channels)
    {
        const string op = "BiasBackward";
        var (gy, gb) = (View(gradOutput, Count(rows * channels, op), op, "gradOutput"), View(gradBias, channels, op, "gradBias"));
        if (channels <= 0) return;
        _columnSums ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, int>(IlgpuGemmKernels.ColumnSums);
        int rowCount = (int)rows;
        if (rowCount <= BiasRowsPerChunk)
        {
            _columnSums(channels, gy, gb, rowCount, channels, Math.Max(rowCount, 1));
            return;
        }
        int chunks = (rowCount + BiasRowsPerChunk - 1) / BiasRowsPerChunk;
        var partial = Scratch((long)chunks * channels);
        _columnSums(chunks * channels, gy, partial, rowCount, channels, BiasRowsPerChunk);
        _columnSums(channels, partial, gb, chunks, channels, chunks);
    }

    /// <inheritdoc/>
    public void Pool2DBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pool2DGeometry g, PoolKind kind)
    {
        const string op = "Pool2DBackward";
        int count = Count(g.InputShape.Length, op);
        var (x, gy, gx) = (View(input, count, op, "input"), View(gradOutput, g.OutputShape.Length, op, "gradOutput"), View(gradInput, count, op, "gradInput"));
        _poolBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, IlgpuPoolGeometry, PoolKind>(IlgpuPoolKernels.Backward);
        if (count > 0) _poolBackward(count, x, gy, gx, new IlgpuPoolGeometry(g), kind);
    }

    /// <inheritdoc/>
    public void GlobalPoolBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, int n, int spatial, int channels, PoolKind kind)
    {
        const string op = "GlobalPoolBackward";
        int inputLength = Count((long)n * spatial * channels, op), count = n * channels;
        var (x, gy, gx) = (View(input, inputLength, op, "input"), View(gradOutput, count, op, "gradOutput"), View(gradInput, inputLength, op, "gradInput"));
        _globalPoolBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, PoolKind>(IlgpuPoolKernels.GlobalBackward);
        if (count > 0) _globalPoolBackward(count, x, gy, gx, spatial, channels, kind);
    }

    /// <inheritdoc/>
    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
    {
        const string op = "MatMul";
        int count = Count((long)m * n, op);
        var (av, bv, cv) = (View(a, (long)m * k, op, "a"), View(b, (long)k * n, op, "b"), View(c, count, op, "c"));
        if (count == 0) return;
        if (Variants["matmul"] == "gemm-tiled")
        {
            RunTiled(ref _gemmTiled, new MatrixOperands(m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0), av, bv, cv, NoBias, 0, 1,
                accumulate, KernelActivation.None, groups: 1, count);
            return;
        }
        _matMulDirect ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, int, int, int, int>(IlgpuGemmKernels.MatMulDirect);
        _matMulDirect(count, av, bv, cv, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0);
    }

    /// <inheritdoc/>
    public void ActivationBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation)
    {
        const string op = "ActivationBackward";
        if (!activation.Fuses)
            throw new ArgumentException($"{op} on {Name}: {activation} is not a function of its output; use ActivationBackwardFromInput.", nameof(activation));
        int count = Count(length, op);
        var (y, gy, gx) = (View(output, count, op, "output"), View(gradOutput, count, op, "gradOutput"), View(gradInput, count, op, "gradInput"));
        _activationBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, KernelActivation>(IlgpuElementwiseKernels.ActivationBackward);
        if (count > 0) _activationBackward(count, y, gy, gx, activation);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, int rows, int cols, bool log)
    {
        const string op = "SoftmaxBackward";
        int count = Count((long)rows * cols, op);
        var (y, gy, gx) = (View(output, count, op, "output"), View(gradOutput, count, op, "gradOutput"), View(gradInput, count, op, "gradInput"));
        _softmaxBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int>(IlgpuTrainingKernels.SoftmaxBackward);
        if (count > 0) _softmaxBackward(rows, y, gy, gx, cols, log ? 1 : 0);
    }

    /// <inheritdoc/>
    public void Split(DeviceBuffer input, IReadOnlyList<DeviceBuffer> outputs, IReadOnlyList<int> channels, long pixels) =>
        CopyChannels(outputs, channels, input, pixels, toWide: false, "Split");

    /// <inheritdoc/>
    public void Pad2DBackward(DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pad2DGeometry g, PadMode mode)
    {
        const string op = "Pad2DBackward";
        int count = Count(g.InputShape.Length, op);
        var (gy, gx) = (View(gradOutput, g.OutputShape.Length, op, "gradOutput"), View(gradInput, count, op, "gradInput"));
        _padBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, Pad2DGeometry, PadMode>(IlgpuElementwiseKernels.Pad2DBackward);
        if (count > 0) _padBackward(count, gy, gx, g, mode);
    }

    /// <inheritdoc/>
    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    {
        const string op = "Multiply";
        int count = Count(length, op);
        var (av, bv, y) = (View(a, count, op, "a"), View(b, count, op, "b"), View(output, count, op, "output"));
        _multiply ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View>(IlgpuElementwiseKernels.Multiply);
        if (count > 0) _multiply(count, av, bv, y);
    }

    /// <inheritdoc/>
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y, long length)
    {
        const string op = "Axpy";
        int count = Count(length, op);
        var (xv, yv) = (View(x, count, op, "x"), View(y, count, op, "y"));
        _axpy ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, float, View, View>(IlgpuElementwiseKernels.Axpy);
        if (count > 0) _axpy(count, alpha, xv, yv);
    }

    /// <inheritdoc/>
    public void Fill(DeviceBuffer buffer, float value, long length)
    {
        const string op = "Fill";
        int count = Count(length, op);
        var view = View(buffer, count, op, "buffer");
        _fill ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, float>(IlgpuElementwiseKernels.Fill);
        if (count > 0) _fill(count, view, value);
    }

    /// <inheritdoc/>
    public void Dropout(DeviceBuffer input, DeviceBuffer mask, DeviceBuffer output, long length, float rate, ulong seed)
    {
        const string op = "Dropout";
        if (!(rate >= 0f && rate < 1f))
            throw new ArgumentOutOfRangeException(nameof(rate), $"{op} on {Name}: rate must be in [0, 1); got {rate}.");
        int count = Count(length, op);
        var (x, m, y) = (View(input, count, op, "input"), View(mask, count, op, "mask"), View(output, count, op, "output"));
        _dropout ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, float, float, ulong>(IlgpuElementwiseKernels.Dropout);
        if (count > 0) _dropout(count, x, m, y, rate, 1f / (1f - rate), seed);
    }

    /// <inheritdoc/>
    public void Loss(LossKind kind, DeviceBuffer prediction, DeviceBuffer target, DeviceBuffer lossPerRow, DeviceBuffer gradPrediction, int rows, int cols)
    {
        string op = $"Loss ({kind})";
        int count = Count((long)rows * cols, op);
        int targetLength = kind == LossKind.SoftmaxSparseCategoricalCrossEntropy ? rows : count;
        var (p, t, l, gp) = (View(prediction, count, op, "prediction"), View(target, targetLength, op, "target"),
            View(lossPerRow, rows, op, "lossPerRow"), View(gradPrediction, count, op, "gradPrediction"));
        _loss ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, LossKind, View, View, View, View, int, int>(IlgpuTrainingKernels.Loss);
        if (count > 0) _loss(rows, kind, p, t, l, gp, rows, cols);
    }

    /// <inheritdoc/>
    public void AdamUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer m, DeviceBuffer v, long length,
        float stepSize, float beta1, float beta2, float epsilon)
    {
        const string op = "AdamUpdate";
        int count = Count(length, op);
        var (th, g, mv, vv) = (View(parameters, count, op, "parameters"), View(gradient, count, op, "gradient"),
            View(m, count, op, "m"), View(v, count, op, "v"));
        _adam ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, float, float, float, float>(IlgpuTrainingKernels.AdamUpdate);
        if (count > 0) _adam(count, th, g, mv, vv, stepSize, beta1, beta2, epsilon);
    }

    /// <inheritdoc/>
    public void SgdUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer velocity, long length,
        float learningRate, float momentum, bool nesterov)
    {
        const string op = "SgdUpdate";
        int count = Count(length, op);
        var (th, g, vel) = (View(parameters, count, op, "parameters"), View(gradient, count, op, "gradient"), View(velocity, count, op, "velocity"));
        _sgd ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, float, float, int>(IlgpuTrainingKernels.SgdUpdate);
        if (count > 0) _sgd(count, th, g, vel, learningRate, momentum, nesterov ? 1 : 0);
    }
}
