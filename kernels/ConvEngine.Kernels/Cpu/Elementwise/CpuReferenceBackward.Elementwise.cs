using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceBackward
{
    /// <summary>The activation's derivative, written from its output y.</summary>
    public static float ActivationDerivative(float y, KernelActivation activation) => activation.Kind switch
    {
        ActivationKind.None => 1f,
        ActivationKind.Relu => y > 0f ? 1f : 0f,
        ActivationKind.LeakyRelu => y > 0f ? 1f : activation.Alpha,
        ActivationKind.Sigmoid => y * (1f - y),
        ActivationKind.Tanh => 1f - y * y,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), $"ActivationBackward: unknown activation {activation}."),
    };

    public static void ActivationBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradOutput, Span<float> gradInput, long length, KernelActivation activation)
    {
        for (int i = 0; i < length; i++) gradInput[i] = gradOutput[i] * ActivationDerivative(output[i], activation);
    }

    /// <summary>Softmax: dx = y ⊙ (g − Σ g⊙y). Log-softmax: dx = g − e^y · Σ g.</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradOutput, Span<float> gradInput, int rows, int cols, bool log)
    {
        for (int r = 0; r < rows; r++)
        {
            int row = r * cols;
            float sum = 0f;
            for (int c = 0; c < cols; c++) sum += log ? gradOutput[row + c] : gradOutput[row + c] * output[row + c];
            for (int c = 0; c < cols; c++)
                gradInput[row + c] = log
                    ? gradOutput[row + c] - MathF.Exp(output[row + c]) * sum
                    : output[row + c] * (gradOutput[row + c] - sum);
        }
    }

    public static void Split(ReadOnlySpan<float> input, IReadOnlyList<float[]> outputs, IReadOnlyList<int> channels, long pixels)
    {
        int total = channels.Sum();
        for (long p = 0; p < pixels; p++)
        {
            int offset = 0;
            for (int t = 0; t < outputs.Count; t++)
            {
                for (int c = 0; c < channels[t]; c++)
                    outputs[t][p * channels[t] + c] = input[(int)(p * total + offset + c)];
                offset += channels[t];
            }
        }
    }

    /// <summary>Each input cell sums the gradient of every output cell that copied it (<see cref="Pad2DGeometry.SourceIndex"/>).</summary>
    public static void Pad2DBackward(ReadOnlySpan<float> gradOutput, Span<float> gradInput, in Pad2DGeometry g, PadMode mode)
    {
        gradInput[..(g.N * g.H * g.W * g.C)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode);
            int iw = Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode);
            if (ih < 0 || iw < 0) continue;
            for (int c = 0; c < g.C; c++)
                gradInput[((b * g.H + ih) * g.W + iw) * g.C + c] += gradOutput[((b * g.OH + i) * g.OW + j) * g.C + c];
        }
    }

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, long length)
    {
        for (int i = 0; i < length; i++) output[i] = a[i] * b[i];
    }

    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y, long length)
    {
        for (int i = 0; i < length; i++) y[i] = alpha * x[i] + y[i];
    }

    public static void Fill(Span<float> buffer, float value, long length)
    {
        for (int i = 0; i < length; i++) buffer[i] = value;
    }

    /// <summary>Inverted dropout: keep element i when <see cref="CounterRng.Uniform"/>(seed, i) ≥ rate, scaled by 1/(1−rate).</summary>
    public static void Dropout(ReadOnlySpan<float> input, Span<float> mask, Span<float> output, long length, float rate, ulong seed)
    {
        for (int i = 0; i < length; i++)
        {
            bool keep = CounterRng.Uniform(seed, (ulong)i) >= rate;
            mask[i] = keep ? 1f / (1f - rate) : 0f;
            output[i] = input[i] * mask[i];
        }
    }
}
