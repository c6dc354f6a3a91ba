using System.Buffers;
using System.Numerics.Tensors;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Fast cpu batch-norm kernels over (rows, channels) data. Work goes in blocks of whole rows of about
/// <see cref="Block"/> floats, with per-channel vectors tiled to the block length, so a few channels still
/// fill SIMD registers (TensorPrimitives). Column sums accumulate block-shaped float partials that are
/// folded into double every <see cref="BlocksPerFold"/> blocks; threads take fixed contiguous ranges of
/// blocks and their double sums are added in range order, so results do not vary from run to run.
/// Readable versions: <see cref="CpuBatchNormReference"/>.
/// </summary>
internal static class CpuBatchNormKernels
{
    /// <summary>Floats per block: whole rows, near this many.</summary>
    private const int Block = 1024;
    /// <summary>Blocks summed in float before the partial sums are folded into double (bounds float rounding growth).</summary>
    private const int BlocksPerFold = 16;

    private static int RowsPerBlock(int channels) => Math.Max(1, Block / channels);

    /// <summary>Per-channel mean, then biased variance from the deviations about it (two passes: no cancellation).</summary>
    public static void Statistics(int threads, float[] input, float[] mean, float[] variance, long rows, int channels)
    {
        int rowsPerBlock = RowsPerBlock(channels);
        double[] sums = ReduceColumns(threads, rows, channels, 1, (firstRow, length, sum, _, _) =>
            TensorPrimitives.Add(sum[..length], input.AsSpan((int)(firstRow * channels), length), sum[..length]));
        for (int c = 0; c < channels; c++) mean[c] = (float)(sums[c] / rows);

        float[] tiledMean = Tile(mean, channels, rowsPerBlock);
        double[] squares = ReduceColumns(threads, rows, channels, 1, (firstRow, length, sum, _, scratch) =>
        {
            var deviation = scratch[..length];
            TensorPrimitives.Subtract(input.AsSpan((int)(firstRow * channels), length), tiledMean.AsSpan(0, length), deviation);
            TensorPrimitives.FusedMultiplyAdd(deviation, deviation, sum[..length], sum[..length]);
        });
        for (int c = 0; c < channels; c++) variance[c] = (float)(squares[c] / rows);
    }

    /// <summary>The affine form y = x·s + (β − mean·s), s = γ/√(var+ε): scale and shift in double, then ChannelAffine's kernel.</summary>
    public static void Forward(int threads, float[] input, float[] mean, float[] variance, float[]? gamma, float[]? beta,
        float[] output, long rows, int channels, float epsilon)
    {
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double s = (gamma?[c] ?? 1.0) / Math.Sqrt(variance[c] + (double)epsilon);
            scale[c] = (float)s;
            shift[c] = (float)((beta?[c] ?? 0.0) - mean[c] * s);
        }
        CpuNormalizationKernels.ChannelAffine(threads, input, scale, shift, output, rows, channels);
    }

    /// <summary>
    /// One pass sums dy and dy·(x − mean) per channel; gradients of γ and β follow. The input gradient is
    /// dx = A·dy + K·(x − mean) + D per channel, with A = γ/σ and, for batch statistics, K = −A·Σ(dy·(x−mean))/(σ²·n),
    /// D = −A·Σdy/n (for fixed statistics K = D = 0).
    /// </summary>
    public static void Backward(int threads, float[] input, float[] gradOutput, float[] mean, float[] variance, float[]? gamma,
        float[]? gradInput, float[]? gradGamma, float[]? gradBeta, long rows, int channels, float epsilon, bool batchStatistics)
    {
        int rowsPerBlock = RowsPerBlock(channels);
        float[] tiledMean = Tile(mean, channels, rowsPerBlock);
        var invStd = new double[channels];
        for (int c = 0; c < channels; c++) invStd[c] = 1.0 / Math.Sqrt(variance[c] + (double)epsilon);

        double[]? sums = null;
        if (batchStatistics || gradGamma is not null || gradBeta is not null)
        {
            sums = ReduceColumns(threads, rows, channels, 2, (firstRow, length, sumDy, sumDyDeviation, scratch) =>
            {
                int offset = (int)(firstRow * channels);
                var dy = gradOutput.AsSpan(offset, length);
                var deviation = scratch[..length];
                TensorPrimitives.Add(sumDy[..length], dy, sumDy[..length]);
                TensorPrimitives.Subtract(input.AsSpan(offset, length), tiledMean.AsSpan(0, length), deviation);
                TensorPrimitives.FusedMultiplyAdd(deviation, dy, sumDyDeviation[..length], sumDyDeviation[..length]);
            });
            for (int c = 0; c < channels; c++)
            {
                if (gradBeta is not null) gradBeta[c] = (float)sums[c];
                if (gradGamma is not null) gradGamma[c] = (float)(sums[channels + c] * invStd[c]);
            }
        }
        if (gradInput is null) return;

        var a = new float[channels];
        for (int c = 0; c < channels; c++) a[c] = (float)((gamma?[c] ?? 1.0) * invStd[c]);
        if (!batchStatistics)
        {
            CpuNormalizationKernels.ChannelAffine(threads, gradOutput, a, new float[channels], gradInput, rows, channels);
            return;
        }
        var k = new float[channels];
        var d = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double ac = (gamma?[c] ?? 1.0) * invStd[c];
            k[c] = (float)(-ac * invStd[c] * invStd[c] * sums![channels + c] / rows);
            d[c] = (float)(-ac * sums[c] / rows);
        }
        float[] tiledA = Tile(a, channels, rowsPerBlock), tiledK = Tile(k, channels, rowsPerBlock), tiledD = Tile(d, channels, rowsPerBlock);
        int blockLength = rowsPerBlock * channels;
        long blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        CpuParallel.For(threads, blocks, Math.Max(1, CpuVectorLoop.MinPerPart / blockLength), (start, end) =>
        {
            for (long b = start; b < end; b++)
            {
                int offset = (int)(b * blockLength);
                int length = (int)Math.Min(blockLength, rows * channels - offset);
                var dx = gradInput.AsSpan(offset, length);
                TensorPrimitives.Subtract(input.AsSpan(offset, length), tiledMean.AsSpan(0, length), dx);
                TensorPrimitives.FusedMultiplyAdd(dx, tiledK.AsSpan(0, length), tiledD.AsSpan(0, length), dx);
                TensorPrimitives.FusedMultiplyAdd(gradOutput.AsSpan(offset, length), tiledA.AsSpan(0, length), dx, dx);
            }
        });
    }

    /// <summary>moving = momentum·moving + (1 − momentum)·batchScale·batch, in double per value.</summary>
    public static void MovingAverage(float[] moving, float[] batch, int length, float momentum, float batchScale)
    {
        for (int i = 0; i < length; i++)
            moving[i] = (float)(momentum * (double)moving[i] + (1.0 - momentum) * batchScale * batch[i]);
    }

    /// <summary>
    /// Per pixel: s from the window sums of squares (as the forward kernel), t_i = dy_i·x_i·s_i^(−β−1), then
    /// dx_j = dy_j·s_j^−β − (2αβ/size)·x_j·Σ t over the windows that contain j, i.e. t[j − After .. j + Before].
    /// </summary>
    public static void LrnBackward(int threads, float[] input, float[] gradOutput, float[] gradInput, LrnGeometry g)
    {
        int channels = g.Channels, size = g.Size;
        float coefficient = -2f * g.Alpha * g.Beta / size;
        CpuParallel.For(threads, g.Pixels, Math.Max(1, CpuVectorLoop.MinPerPart / (channels * Math.Max(1, size))), (start, end) =>
        {
            float[] padded = ArrayPool<float>.Shared.Rent(channels + size);
            float[] rowBuffers = ArrayPool<float>.Shared.Rent(3 * channels);
            try
            {
                var window = padded.AsSpan(0, channels + size - 1);
                var s = rowBuffers.AsSpan(0, channels);
                var sPow = rowBuffers.AsSpan(channels, channels);
                var sum = rowBuffers.AsSpan(2 * channels, channels);
                for (long p = start; p < end; p++)
                {
                    var x = input.AsSpan((int)(p * channels), channels);
                    var dy = gradOutput.AsSpan((int)(p * channels), channels);
                    var dx = gradInput.AsSpan((int)(p * channels), channels);
                    // s = bias + α/size · Σ x² over [c − Before, c + After]: squares sit at window[Before + c].
                    window.Clear();
                    TensorPrimitives.Multiply(x, x, window.Slice(g.Before, channels));
                    WindowSum(window, size, s);
                    TensorPrimitives.Multiply(s, g.Alpha / size, s);
                    TensorPrimitives.Add(s, g.Bias, s);
                    TensorPrimitives.Pow(s, -g.Beta, sPow);
                    // t_i = dy_i·x_i·s_i^−β / s_i sits at window[After + i]; j's sum runs over window[j .. j + size).
                    window.Clear();
                    var t = window.Slice(g.After, channels);
                    TensorPrimitives.Multiply(dy, x, t);
                    TensorPrimitives.Multiply(t, sPow, t);
                    TensorPrimitives.Divide(t, s, t);
                    WindowSum(window, size, sum);
                    TensorPrimitives.Multiply(sum, x, sum);
                    TensorPrimitives.Multiply(dy, sPow, dx);
                    TensorPrimitives.MultiplyAdd(sum, coefficient, dx, dx);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(padded);
                ArrayPool<float>.Shared.Return(rowBuffers);
            }
        });
    }

    /// <summary>result[c] = Σ_{k &lt; size} padded[c + k], as shifted vector adds.</summary>
    private static void WindowSum(ReadOnlySpan<float> padded, int size, Span<float> result)
    {
        padded[..result.Length].CopyTo(result);
        for (int k = 1; k < size; k++) TensorPrimitives.Add(result, padded.Slice(k, result.Length), result);
    }

    /// <summary>Adds one block (rows from firstRow, length floats) into the float accumulators (the second is empty for one output).</summary>
    private delegate void AccumulateBlock(long firstRow, int length, Span<float> first, Span<float> second, Span<float> scratch);

    /// <summary>
    /// Column sums of (rows, channels) quantities: returns <paramref name="outputs"/> × channels doubles.
    /// Blocks split into fixed contiguous parts; each part sums block-shaped float partials, folds them into
    /// its own doubles, and the parts are added in order.
    /// </summary>
    private static double[] ReduceColumns(int threads, long rows, int channels, int outputs, AccumulateBlock accumulate)
    {
        int rowsPerBlock = RowsPerBlock(channels);
        int blockLength = rowsPerBlock * channels;
        long blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        if (outputs is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(outputs), "ReduceColumns sums one or two quantities.");
        int parts = CpuParallel.Parts(threads, blocks, Math.Max(1, CpuVectorLoop.MinPerPart / blockLength));
        var partSums = new double[parts][];
        CpuParallel.ForEachPart(threads, parts, part =>
        {
            var sums = new double[outputs * channels];
            float[] pooled = ArrayPool<float>.Shared.Rent((outputs + 1) * blockLength);
            try
            {
                var accumulators = pooled.AsSpan(0, outputs * blockLength);
                var first = accumulators[..blockLength];
                var second = outputs == 2 ? accumulators[blockLength..] : Span<float>.Empty;
                var scratch = pooled.AsSpan(outputs * blockLength, blockLength);
                accumulators.Clear();
                long end = CpuParallel.Start(blocks, parts, part + 1);
                int pending = 0;
                for (long b = CpuParallel.Start(blocks, parts, part); b < end; b++)
                {
                    long firstRow = b * rowsPerBlock;
                    int length = (int)(Math.Min(rowsPerBlock, rows - firstRow) * channels);
                    accumulate(firstRow, length, first, second, scratch);
                    if (++pending == BlocksPerFold)
                    {
                        Fold(accumulators, sums, channels);
                        pending = 0;
                    }
                }
                Fold(accumulators, sums, channels);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(pooled);
            }
            partSums[part] = sums;
        });
        var total = partSums[0];
        for (int part = 1; part < parts; part++)
            for (int i = 0; i < total.Length; i++) total[i] += partSums[part][i];
        return total;
    }

    /// <summary>Adds the block-shaped float accumulators (outputs × whole rows, back to back) into their channels' doubles and clears them.</summary>
    private static void Fold(Span<float> accumulators, double[] sums, int channels)
    {
        int rowsPerOutput = accumulators.Length / (sums.Length / channels) / channels;
        for (int i = 0, row = 0; i < accumulators.Length; i += channels, row++)
        {
            int output = row / rowsPerOutput;
            for (int c = 0; c < channels; c++) sums[output * channels + c] += accumulators[i + c];
        }
        accumulators.Clear();
    }

    /// <summary>A per-channel vector repeated for <paramref name="rowsPerBlock"/> rows.</summary>
    private static float[] Tile(float[] values, int channels, int rowsPerBlock)
    {
        var tiled = new float[rowsPerBlock * channels];
        for (int r = 0; r < rowsPerBlock; r++) values.AsSpan(0, channels).CopyTo(tiled.AsSpan(r * channels));
        return tiled;
    }
}
