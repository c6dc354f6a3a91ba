using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Batch-norm training kernels and LRN's backward (<see cref="IlgpuBatchNormKernels"/>), compiled on first use.</summary>
public sealed partial class IlgpuBackend
{
    /// <summary>Rows one thread sums in the first level of the batch-norm column sums.</summary>
    private const int BatchNormRowsPerChunk = 64;

    private Action<Index1D, View, View, View, int, int, int>? _squaredDeviationSums;
    private Action<Index1D, View, View, int, int, float>? _scaledTotals;
    private Action<Index1D, View, View, View, View, View, View, IlgpuBatchNormSettings>? _batchNormForward;
    private Action<Index1D, View, View, View, View, int, int, int, int>? _batchNormBackwardSums;
    private Action<Index1D, View, View, View, View, View, int, int, float, int, int>? _batchNormBackwardTotals;
    private Action<Index1D, View, View, View, View, View, View, View, IlgpuBatchNormSettings>? _batchNormBackwardInput;
    private Action<Index1D, View, View, float, float>? _movingAverage;
    private Action<Index1D, View, View, View, LrnGeometry>? _lrnBackward;

    /// <inheritdoc/>
    public void BatchNormStatistics(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, long rows, int channels)
    {
        const string op = "BatchNormStatistics";
        var (rowCount, chunks) = BatchNormRows(op, rows, channels);
        var (x, m, v) = (View(input, rows * channels, op, "input"), View(mean, channels, op, "mean"), View(variance, channels, op, "variance"));
        _columnSums ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, int>(IlgpuGemmKernels.ColumnSums);
        _scaledTotals ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, float>(IlgpuBatchNormKernels.ScaledTotals);
        _squaredDeviationSums ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, int>(IlgpuBatchNormKernels.SquaredDeviationSums);
        var partial = Scratch((long)chunks * channels);
        float inverseRows = 1f / rowCount;
        _columnSums(chunks * channels, x, partial, rowCount, channels, BatchNormRowsPerChunk);
        _scaledTotals(channels, partial, m, chunks, channels, inverseRows);
        _squaredDeviationSums(chunks * channels, x, m, partial, rowCount, channels, BatchNormRowsPerChunk);
        _scaledTotals(channels, partial, v, chunks, channels, inverseRows);
    }

    /// <inheritdoc/>
    public void BatchNormForward(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma, DeviceBuffer? beta,
        DeviceBuffer output, long rows, int channels, float epsilon)
    {
        const string op = "BatchNormForward";
        var (rowCount, _) = BatchNormRows(op, rows, channels);
        int count = Count(rows * channels, op);
        var (x, m, v, y) = (View(input, count, op, "input"), View(mean, channels, op, "mean"), View(variance, channels, op, "variance"), View(output, count, op, "output"));
        var (g, b) = (Optional(gamma, channels, op, "gamma"), Optional(beta, channels, op, "beta"));
        _batchNormForward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, View, View, IlgpuBatchNormSettings>(IlgpuBatchNormKernels.Forward);
        _batchNormForward(count, x, m, v, g, b, y, new IlgpuBatchNormSettings(channels, epsilon, 1f / rowCount, gamma is null ? 0 : 1, beta is null ? 0 : 1, 0));
    }

    /// <inheritdoc/>
    public void BatchNormBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma,
        DeviceBuffer? gradInput, DeviceBuffer? gradGamma, DeviceBuffer? gradBeta, long rows, int channels, float epsilon, bool batchStatistics)
    {
        const string op = "BatchNormBackward";
        var (rowCount, chunks) = BatchNormRows(op, rows, channels);
        int count = Count(rows * channels, op);
        var (x, dy, m, v) = (View(input, count, op, "input"), View(gradOutput, count, op, "gradOutput"), View(mean, channels, op, "mean"), View(variance, channels, op, "variance"));
        var g = Optional(gamma, channels, op, "gamma");
        View totals = NoBias;
        if (batchStatistics || gradGamma is not null || gradBeta is not null)
        {
            _batchNormBackwardSums ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, int, int, int, int>(IlgpuBatchNormKernels.BackwardSums);
            _batchNormBackwardTotals ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, View, int, int, float, int, int>(IlgpuBatchNormKernels.BackwardTotals);
            long partialLength = 2L * chunks * channels;
            var scratch = Scratch(partialLength + 2L * channels);
            var partial = scratch.SubView(0, partialLength);
            totals = scratch.SubView(partialLength, 2L * channels);
            _batchNormBackwardSums(chunks * channels, x, dy, m, partial, rowCount, channels, BatchNormRowsPerChunk, chunks * channels);
            _batchNormBackwardTotals(channels, partial, totals, v, Optional(gradGamma, channels, op, "gradGamma"), Optional(gradBeta, channels, op, "gradBeta"),
                chunks, channels, epsilon, gradGamma is null ? 0 : 1, gradBeta is null ? 0 : 1);
        }
        if (gradInput is null) return;
        var dx = View(gradInput, count, op, "gradInput");
        _batchNormBackwardInput ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, View, View, View, IlgpuBatchNormSettings>(IlgpuBatchNormKernels.BackwardInput);
        _batchNormBackwardInput(count, x, dy, m, v, g, totals, dx,
            new IlgpuBatchNormSettings(channels, epsilon, 1f / rowCount, gamma is null ? 0 : 1, 0, batchStatistics ? 1 : 0));
    }

    /// <inheritdoc/>
    public void MovingAverageUpdate(DeviceBuffer moving, DeviceBuffer batch, int length, float momentum, float batchScale)
    {
        const string op = "MovingAverageUpdate";
        var (mv, b) = (View(moving, length, op, "moving"), View(batch, length, op, "batch"));
        _movingAverage ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, float, float>(IlgpuBatchNormKernels.MovingAverage);
        if (length > 0) _movingAverage(length, mv, b, momentum, batchScale);
    }

    /// <inheritdoc/>
    public void LrnBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in LrnGeometry g)
    {
        const string op = "LrnBackward";
        int count = Count(g.Pixels * g.Channels, op);
        var (x, dy, dx) = (View(input, count, op, "input"), View(gradOutput, count, op, "gradOutput"), View(gradInput, count, op, "gradInput"));
        _lrnBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, LrnGeometry>(IlgpuBatchNormKernels.LrnBackward);
        if (count > 0) _lrnBackward(count, x, dy, dx, g);
    }

    /// <summary>Rows as an int and the number of row chunks; batch statistics need at least one row and one channel.</summary>
    private (int Rows, int Chunks) BatchNormRows(string op, long rows, int channels)
    {
        if (rows <= 0 || channels <= 0)
            throw new ArgumentException($"{op} on {Name}: needs rows > 0 and channels > 0; got {rows} rows and {channels} channels.");
        int rowCount = Count(rows, op);
        Count(rows * channels, op);
        return (rowCount, (rowCount + BatchNormRowsPerChunk - 1) / BatchNormRowsPerChunk);
    }

    /// <summary>The view of an optional per-channel buffer, or a placeholder the kernel is told (by a flag) not to read.</summary>
    private View Optional(DeviceBuffer? buffer, long length, string op, string name) => buffer is null ? NoBias : View(buffer, length, op, name);
}
