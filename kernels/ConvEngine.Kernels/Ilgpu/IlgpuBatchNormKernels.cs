using ConvEngine.Kernels.Geometry;
using ILGPU;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>What the batch-norm kernels share besides their buffers (ILGPU kernels take few arguments well as one struct).</summary>
internal readonly record struct IlgpuBatchNormSettings(int Channels, float Epsilon, float InverseRows, int HasGamma, int HasBeta, int BatchStatistics);

/// <summary>
/// Batch-norm and LRN-backward kernels, the simple way: column sums in two levels (one thread per chunk of rows
/// and channel, then one per channel, as BiasBackward does), then one thread per element.
/// </summary>
internal static class IlgpuBatchNormKernels
{
    /// <summary>partial[chunk, c] = Σ over the chunk's rows of (x − mean[c])².</summary>
    public static void SquaredDeviationSums(Index1D index, ArrayView<float> input, ArrayView<float> mean, ArrayView<float> partial,
        int rows, int channels, int rowsPerChunk)
    {
        int c = index % channels, chunk = index / channels;
        int end = Math.Min(rows, (chunk + 1) * rowsPerChunk);
        float m = mean[c], sum = 0f;
        for (int r = chunk * rowsPerChunk; r < end; r++)
        {
            float d = input[r * channels + c] - m;
            sum += d * d;
        }
        partial[index] = sum;
    }

    /// <summary>destination[c] = scale · Σ over chunks of partial[chunk, c].</summary>
    public static void ScaledTotals(Index1D index, ArrayView<float> partial, ArrayView<float> destination, int chunks, int channels, float scale)
    {
        float sum = 0f;
        for (int chunk = 0; chunk < chunks; chunk++) sum += partial[chunk * channels + index];
        destination[index] = sum * scale;
    }

    /// <summary>y = x·s + (β − mean·s), s = γ/√(var + ε) (tf.nn.batch_normalization's form).</summary>
    public static void Forward(Index1D index, ArrayView<float> input, ArrayView<float> mean, ArrayView<float> variance,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> output, IlgpuBatchNormSettings s)
    {
        int c = index % s.Channels;
        float scale = (s.HasGamma != 0 ? gamma[c] : 1f) / MathF.Sqrt(variance[c] + s.Epsilon);
        float shift = (s.HasBeta != 0 ? beta[c] : 0f) - mean[c] * scale;
        output[index] = input[index] * scale + shift;
    }

    /// <summary>partial[chunk, c] = Σ dy and, <paramref name="secondOffset"/> further on, Σ dy·(x − mean[c]) over the chunk's rows.</summary>
    public static void BackwardSums(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> mean,
        ArrayView<float> partial, int rows, int channels, int rowsPerChunk, int secondOffset)
    {
        int c = index % channels, chunk = index / channels;
        int end = Math.Min(rows, (chunk + 1) * rowsPerChunk);
        float m = mean[c], sumDy = 0f, sumDyDeviation = 0f;
        for (int r = chunk * rowsPerChunk; r < end; r++)
        {
            int i = r * channels + c;
            sumDy += gradOutput[i];
            sumDyDeviation += gradOutput[i] * (input[i] - m);
        }
        partial[index] = sumDy;
        partial[secondOffset + index] = sumDyDeviation;
    }

    /// <summary>
    /// Per channel: totals[c] = Σ dy, totals[C + c] = Σ dy·(x − mean) from the chunk partials; writes
    /// gradBeta = Σ dy and gradGamma = Σ dy·x̂ where asked (flags).
    /// </summary>
    public static void BackwardTotals(Index1D index, ArrayView<float> partial, ArrayView<float> totals, ArrayView<float> variance,
        ArrayView<float> gradGamma, ArrayView<float> gradBeta, int chunks, int channels, float epsilon, int writeGamma, int writeBeta)
    {
        float sumDy = 0f, sumDyDeviation = 0f;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            sumDy += partial[chunk * channels + index];
            sumDyDeviation += partial[(chunks + chunk) * channels + index];
        }
        totals[index] = sumDy;
        totals[channels + index] = sumDyDeviation;
        if (writeBeta != 0) gradBeta[index] = sumDy;
        if (writeGamma != 0) gradGamma[index] = sumDyDeviation / MathF.Sqrt(variance[index] + epsilon);
    }

    /// <summary>Batch statistics: dx = γ/σ·(dy − Σdy/n − (x − mean)/σ²·Σ dy·(x − mean)/n); fixed statistics: dx = γ/σ·dy.</summary>
    public static void BackwardInput(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> mean,
        ArrayView<float> variance, ArrayView<float> gamma, ArrayView<float> totals, ArrayView<float> gradInput, IlgpuBatchNormSettings s)
    {
        int c = index % s.Channels;
        float invStd = 1f / MathF.Sqrt(variance[c] + s.Epsilon);
        float a = (s.HasGamma != 0 ? gamma[c] : 1f) * invStd;
        float dy = gradOutput[index];
        if (s.BatchStatistics == 0)
        {
            gradInput[index] = a * dy;
            return;
        }
        float deviation = input[index] - mean[c];
        gradInput[index] = a * (dy - totals[c] * s.InverseRows - deviation * invStd * invStd * totals[s.Channels + c] * s.InverseRows);
    }

    /// <summary>moving = momentum·moving + (1 − momentum)·batchScale·batch.</summary>
    public static void MovingAverage(Index1D index, ArrayView<float> moving, ArrayView<float> batch, float momentum, float batchScale) =>
        moving[index] = momentum * moving[index] + (1f - momentum) * batchScale * batch[index];

    /// <summary>
    /// dx_j = dy_j·s_j^−β − (2αβ/size)·x_j·Σ_{i ∈ [j − After, j + Before]} dy_i·x_i·s_i^(−β−1),
    /// each s_i recomputed from its window (size² work per element: fine for LRN's small windows).
    /// </summary>
    public static void LrnBackward(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradInput, LrnGeometry g)
    {
        int j = index % g.Channels;
        int rowStart = index - j;
        float cross = 0f;
        int first = Math.Max(0, j - g.After), last = Math.Min(g.Channels - 1, j + g.Before);
        for (int i = first; i <= last; i++)
        {
            float si = WindowScale(input, rowStart, i, g);
            float xi = input[rowStart + i];
            cross += gradOutput[rowStart + i] * xi * MathF.Pow(si, -g.Beta) / si;
        }
        float sj = WindowScale(input, rowStart, j, g);
        gradInput[index] = gradOutput[index] * MathF.Pow(sj, -g.Beta) - 2f * g.Alpha * g.Beta / g.Size * input[index] * cross;
    }

    /// <summary>s_c = bias + α/size · Σ x² over channels [c − Before, c + After] of one pixel.</summary>
    private static float WindowScale(ArrayView<float> input, int rowStart, int c, LrnGeometry g)
    {
        int first = Math.Max(0, c - g.Before), last = Math.Min(g.Channels - 1, c + g.After);
        float sum = 0f;
        for (int k = first; k <= last; k++)
        {
            float v = input[rowStart + k];
            sum += v * v;
        }
        return g.Bias + g.Alpha / g.Size * sum;
    }
}
