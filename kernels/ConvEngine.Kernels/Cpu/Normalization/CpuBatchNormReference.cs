using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Readable versions of the batch-norm and LRN-backward kernels: plain loops over the definitions, in double.</summary>
internal static class CpuBatchNormReference
{
    public static void Statistics(ReadOnlySpan<float> input, Span<float> mean, Span<float> variance, long rows, int channels)
    {
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (long r = 0; r < rows; r++) sum += input[(int)(r * channels + c)];
            double m = sum / rows, squares = 0;
            for (long r = 0; r < rows; r++)
            {
                double d = input[(int)(r * channels + c)] - m;
                squares += d * d;
            }
            mean[c] = (float)m;
            variance[c] = (float)(squares / rows);
        }
    }

    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, Span<float> output, long rows, int channels, float epsilon)
    {
        for (long r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++)
        {
            int i = (int)(r * channels + c);
            double normalized = (input[i] - mean[c]) / Math.Sqrt(variance[c] + (double)epsilon);
            output[i] = (float)(normalized * (gamma.IsEmpty ? 1.0 : gamma[c]) + (beta.IsEmpty ? 0.0 : beta[c]));
        }
    }

    /// <summary>Empty spans stand for a null gamma (1) or an output not asked for.</summary>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        ReadOnlySpan<float> gamma, Span<float> gradInput, Span<float> gradGamma, Span<float> gradBeta, long rows, int channels, float epsilon, bool batchStatistics)
    {
        for (int c = 0; c < channels; c++)
        {
            double invStd = 1.0 / Math.Sqrt(variance[c] + (double)epsilon), g = gamma.IsEmpty ? 1.0 : gamma[c];
            double sumDy = 0, sumDyXhat = 0;
            for (long r = 0; r < rows; r++)
            {
                int i = (int)(r * channels + c);
                sumDy += gradOutput[i];
                sumDyXhat += gradOutput[i] * (input[i] - mean[c]) * invStd;
            }
            if (!gradBeta.IsEmpty) gradBeta[c] = (float)sumDy;
            if (!gradGamma.IsEmpty) gradGamma[c] = (float)sumDyXhat;
            if (gradInput.IsEmpty) continue;
            for (long r = 0; r < rows; r++)
            {
                int i = (int)(r * channels + c);
                double xhat = (input[i] - mean[c]) * invStd;
                gradInput[i] = (float)(batchStatistics
                    ? g * invStd * (gradOutput[i] - sumDy / rows - xhat * sumDyXhat / rows)
                    : g * invStd * gradOutput[i]);
            }
        }
    }

    public static void LrnBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradInput, in LrnGeometry g)
    {
        int channels = g.Channels;
        var s = new double[channels];
        for (long p = 0; p < g.Pixels; p++)
        {
            int row = (int)(p * channels);
            for (int i = 0; i < channels; i++)
            {
                double sum = 0;
                for (int k = Math.Max(0, i - g.Before); k <= Math.Min(channels - 1, i + g.After); k++) sum += (double)input[row + k] * input[row + k];
                s[i] = g.Bias + (double)g.Alpha / g.Size * sum;
            }
            for (int j = 0; j < channels; j++)
            {
                // Output i reads x_j when j ∈ [i − Before, i + After], i.e. i ∈ [j − After, j + Before].
                double cross = 0;
                for (int i = Math.Max(0, j - g.After); i <= Math.Min(channels - 1, j + g.Before); i++)
                    cross += gradOutput[row + i] * (double)input[row + i] * Math.Pow(s[i], -g.Beta - 1);
                gradInput[row + j] = (float)(gradOutput[row + j] * Math.Pow(s[j], -g.Beta)
                    - 2.0 * g.Alpha * g.Beta / g.Size * input[row + j] * cross);
            }
        }
    }
}
