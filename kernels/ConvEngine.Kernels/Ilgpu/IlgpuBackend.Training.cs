using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Backward ops, fused losses and optimizer updates; the tiled GEMM launchers.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, View, Conv2DGeometry>? _convBackwardData;
    private Action<Index1D, View, View, View, Conv2DGeometry>? _convBackwardFilter;
    private Action<Index1D, View, View, int, int, int>? _columnSums;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;
    private Action<Index1D, View, View, View, IlgpuPoolGeometry, PoolKind>? _poolBackward;
    private Action<Index1D, View, View, View, int, int, PoolKind>? _globalPoolBackward;
    private Action<Index1D, View, View, View, int, int, int, int, int, int>? _matMulDirect;
    private Action<Index1D, View, View, View, Activation>? _activationBackward;
    private Action<Index1D, View, View, View, int, int>? _softmaxBackward;
    private Action<Index1D, View, View, Pad2DGeometry, PadMode>? _padBackward;
    private Action<Index1D, View, View, View>? _multiply;
    private Action<Index1D, float, View, View>? _axpy;
    private Action<Index1D, View, float>? _fill;
    private Action<Index1D, View, View, View, float, float, ulong>? _dropout;
    private Action<Index1D, LossKind, View, View, View, View, int, int>? _loss;
    private Action<Index1D, View, View, View, View, float, float, float, float>? _adam;
    private Action<Index1D, View, View, View, float, float, int>? _sgd;
    private Action<KernelConfig, View, View, View, View, int, int, Activation, MatrixOperands>? _gemmTiled;
    private Action<KernelConfig, View, View, View, View, int, int, Activation, ConvOperands>? _convTiled;
    private Action<KernelConfig, View, View, View, View, int, int, Activation, ConvBackwardDataOperands>? _convBackwardDataTiled;
    private Action<KernelConfig, View, View, View, View, int, int, Activation, ConvBackwardFilterOperands>? _convBackwardFilterTiled;

    /// <summary>Rows one thread sums in the first pass of BiasBackward.</summary>
    private const int BiasRowsPerChunk = 64;

    public void Conv2DBackwardData(DeviceBuffer gradOutput, DeviceBuffer filter, DeviceBuffer gradInput, in Conv2DGeometry g)
    {
        int count = Count(g.InputShape.Length, "Conv2DBackwardData");
        if (count == 0) return;
        // As in the forward pass, few channels per group (depthwise) would leave most of a tile idle.
        if (Variants["conv2d-backward-data"] == "implicit-gemm-tiled" && g.InChannelsPerGroup >= 16)
        {
            _convBackwardDataTiled ??= _accelerator.LoadStreamKernel<View, View, View, View, int, int, Activation, ConvBackwardDataOperands>(IlgpuTiledGemmKernel.Run);
            var operands = new ConvBackwardDataOperands(g);
            _convBackwardDataTiled(TiledConfig(operands.M, operands.N, g.Groups), View(gradOutput), View(filter), View(gradInput),
                OptionalBias(null), 0, 0, Activation.None, operands);
            return;
        }
        _convBackwardData ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, Conv2DGeometry>(IlgpuConvKernels.BackwardDataGather);
        _convBackwardData(count, View(gradOutput), View(filter), View(gradInput), g);
    }

    public void Conv2DBackwardFilter(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradFilter, in Conv2DGeometry g)
    {
        int count = Count(g.FilterShape.Length, "Conv2DBackwardFilter");
        if (count == 0) return;
        if (Variants["conv2d-backward-filter"] == "implicit-gemm-tiled" && g.OutChannelsPerGroup >= 16)
        {
            _convBackwardFilterTiled ??= _accelerator.LoadStreamKernel<View, View, View, View, int, int, Activation, ConvBackwardFilterOperands>(IlgpuTiledGemmKernel.Run);
            var operands = new ConvBackwardFilterOperands(g);
            _convBackwardFilterTiled(TiledConfig(operands.M, operands.N, g.Groups), View(input), View(gradOutput), View(gradFilter),
                OptionalBias(null), 0, 0, Activation.None, operands);
            return;
        }
        _convBackwardFilter ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, Conv2DGeometry>(IlgpuConvKernels.BackwardFilterDirect);
        _convBackwardFilter(count, View(input), View(gradOutput), View(gradFilter), g);
    }

    public void BiasBackward(DeviceBuffer gradOutput, DeviceBuffer gradBias, long rows, int channels)
    {
        Count(rows * channels, "BiasBackward");
        if (channels <= 0) return;
        _columnSums ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, int>(IlgpuGemmKernels.ColumnSums);
        int rowCount = (int)rows;
        if (rowCount <= BiasRowsPerChunk)
        {
            _columnSums(channels, View(gradOutput), View(gradBias), rowCount, channels, Math.Max(rowCount, 1));
            return;
        }
        int chunks = (rowCount + BiasRowsPerChunk - 1) / BiasRowsPerChunk;
        var partial = Scratch((long)chunks * channels);
        _columnSums(chunks * channels, View(gradOutput), partial, rowCount, channels, BiasRowsPerChunk);
        _columnSums(channels, partial, View(gradBias), chunks, channels, chunks);
    }

    /// <summary>A reusable device scratch area of at least <paramref name="length"/> floats, grown on demand.</summary>
    private View Scratch(long length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            _scratch?.Dispose();
            _scratch = _accelerator.Allocate1D<float>(length);
        }
        return ((View)_scratch.View).SubView(0, length);
    }

    public void Pool2DBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pool2DGeometry g, PoolKind kind)
    {
        _poolBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, IlgpuPoolGeometry, PoolKind>(IlgpuPoolKernels.Backward);
        int count = Count(g.InputShape.Length, "Pool2DBackward");
        if (count > 0) _poolBackward(count, View(input), View(gradOutput), View(gradInput), new IlgpuPoolGeometry(g), kind);
    }

    public void GlobalPoolBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, int n, int spatial, int channels, PoolKind kind)
    {
        _globalPoolBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, PoolKind>(IlgpuPoolKernels.GlobalBackward);
        Count((long)n * spatial * channels, "GlobalPoolBackward");
        int count = n * channels;
        if (count > 0) _globalPoolBackward(count, View(input), View(gradOutput), View(gradInput), spatial, channels, kind);
    }

    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
    {
        int count = Count((long)m * n, "MatMul");
        if (count == 0) return;
        if (Variants["matmul"] == "gemm-tiled")
        {
            GemmTiled(View(a), View(b), View(c), OptionalBias(null), 0, m, k, n, transposeA, transposeB, accumulate, Activation.None);
            return;
        }
        _matMulDirect ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, int, int, int, int>(IlgpuGemmKernels.MatMulDirect);
        _matMulDirect(count, View(a), View(b), View(c), m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0);
    }

    public void ActivationBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, Activation activation)
    {
        _activationBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, Activation>(IlgpuElementwiseKernels.ActivationBackward);
        int count = Count(length, "ActivationBackward");
        if (count > 0) _activationBackward(count, View(output), View(gradOutput), View(gradInput), activation);
    }

    public void SoftmaxBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, int rows, int cols, bool log)
    {
        _softmaxBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int>(IlgpuTrainingKernels.SoftmaxBackward);
        if (rows > 0) _softmaxBackward(rows, View(output), View(gradOutput), View(gradInput), cols, log ? 1 : 0);
    }

    public void Split(DeviceBuffer input, IReadOnlyList<DeviceBuffer> outputs, IReadOnlyList<int> channels, long pixels) =>
        CopyChannels(outputs, channels, input, pixels, toWide: false, "Split");

    public void Pad2DBackward(DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pad2DGeometry g, PadMode mode)
    {
        _padBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, Pad2DGeometry, PadMode>(IlgpuElementwiseKernels.Pad2DBackward);
        int count = Count(g.InputShape.Length, "Pad2DBackward");
        if (count > 0) _padBackward(count, View(gradOutput), View(gradInput), g, mode);
    }

    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    {
        _multiply ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View>(IlgpuElementwiseKernels.Multiply);
        int count = Count(length, "Multiply");
        if (count > 0) _multiply(count, View(a), View(b), View(output));
    }

    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y, long length)
    {
        _axpy ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, float, View, View>(IlgpuElementwiseKernels.Axpy);
        int count = Count(length, "Axpy");
        if (count > 0) _axpy(count, alpha, View(x), View(y));
    }

    public void Fill(DeviceBuffer buffer, float value, long length)
    {
        _fill ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, float>(IlgpuElementwiseKernels.Fill);
        int count = Count(length, "Fill");
        if (count > 0) _fill(count, View(buffer), value);
    }

    public void Dropout(DeviceBuffer input, DeviceBuffer mask, DeviceBuffer output, long length, float rate, ulong seed)
    {
        if (!(rate >= 0f && rate < 1f))
            throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout on {Name}: rate must be in [0, 1); got {rate}.");
        _dropout ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, float, float, ulong>(IlgpuElementwiseKernels.Dropout);
        int count = Count(length, "Dropout");
        if (count > 0) _dropout(count, View(input), View(mask), View(output), rate, 1f / (1f - rate), seed);
    }

    public void Loss(LossKind kind, DeviceBuffer prediction, DeviceBuffer target, DeviceBuffer lossPerRow, DeviceBuffer gradPrediction, int rows, int cols)
    {
        _loss ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, LossKind, View, View, View, View, int, int>(IlgpuTrainingKernels.Loss);
        Count((long)rows * cols, "Loss");
        if (rows > 0) _loss(rows, kind, View(prediction), View(target), View(lossPerRow), View(gradPrediction), rows, cols);
    }

    public void AdamUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer m, DeviceBuffer v, long length,
        float stepSize, float beta1, float beta2, float epsilon)
    {
        _adam ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, float, float, float, float>(IlgpuTrainingKernels.AdamUpdate);
        int count = Count(length, "AdamUpdate");
        if (count > 0) _adam(count, View(parameters), View(gradient), View(m), View(v), stepSize, beta1, beta2, epsilon);
    }

    public void SgdUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer velocity, long length,
        float learningRate, float momentum, bool nesterov)
    {
        _sgd ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, float, float, int>(IlgpuTrainingKernels.SgdUpdate);
        int count = Count(length, "SgdUpdate");
        if (count > 0) _sgd(count, View(parameters), View(gradient), View(velocity), learningRate, momentum, nesterov ? 1 : 0);
    }

    private void GemmTiled(View a, View b, View c, View bias, int hasBias, int m, int k, int n,
        bool transposeA, bool transposeB, bool accumulate, Activation activation)
    {
        _gemmTiled ??= _accelerator.LoadStreamKernel<View, View, View, View, int, int, Activation, MatrixOperands>(IlgpuTiledGemmKernel.Run);
        var operands = new MatrixOperands(m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0);
        _gemmTiled(TiledConfig(m, n, 1), a, b, c, bias, hasBias, accumulate ? 1 : 0, activation, operands);
    }

    private void ConvTiled(View input, View filter, View bias, int hasBias, View output, in Conv2DGeometry g, Activation activation)
    {
        _convTiled ??= _accelerator.LoadStreamKernel<View, View, View, View, int, int, Activation, ConvOperands>(IlgpuTiledGemmKernel.Run);
        var operands = new ConvOperands(g);
        _convTiled(TiledConfig(operands.M, operands.N, g.Groups), input, filter, output, bias, hasBias, 0, activation, operands);
    }

    private static KernelConfig TiledConfig(int m, int n, int groups) => new(
        new Index3D((n + IlgpuTiledGemmKernel.Tile - 1) / IlgpuTiledGemmKernel.Tile, (m + IlgpuTiledGemmKernel.Tile - 1) / IlgpuTiledGemmKernel.Tile, groups),
        new Index3D(IlgpuTiledGemmKernel.Threads, IlgpuTiledGemmKernel.Threads, 1));
}
