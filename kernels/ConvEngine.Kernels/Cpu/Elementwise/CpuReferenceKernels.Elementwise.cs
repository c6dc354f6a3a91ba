using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceKernels
{
    public static void Activate(ReadOnlySpan<float> input, Span<float> output, KernelActivation act)
    {
        for (int i = 0; i < input.Length; i++) output[i] = act.Apply(input[i]);
    }

    /// <summary>Subtracts the row max first so exp never overflows.</summary>
    public static void Softmax(ReadOnlySpan<float> input, Span<float> output, int rows, int cols, bool log)
    {
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * cols, cols);
            var y = output.Slice(r * cols, cols);
            float max = float.NegativeInfinity;
            foreach (float v in x) max = MathF.Max(max, v);
            float sum = 0f;
            foreach (float v in x) sum += MathF.Exp(v - max);
            for (int c = 0; c < cols; c++)
                y[c] = log ? x[c] - max - MathF.Log(sum) : MathF.Exp(x[c] - max) / sum;
        }
    }

    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output)
    {
        for (int i = 0; i < output.Length; i++) output[i] = a[i] + b[i];
    }

    public static void Concat(IReadOnlyList<float[]> inputs, IReadOnlyList<int> channels, Span<float> output, long pixels)
    {
        int total = channels.Sum();
        for (long p = 0; p < pixels; p++)
        {
            int offset = 0;
            for (int t = 0; t < inputs.Count; t++)
            {
                for (int c = 0; c < channels[t]; c++)
                    output[(int)(p * total + offset + c)] = inputs[t][p * channels[t] + c];
                offset += channels[t];
            }
        }
    }

    public static void Pad2D(ReadOnlySpan<float> input, Span<float> output, in Pad2DGeometry g, PadMode mode)
    {
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode);
            int iw = Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode);
            for (int c = 0; c < g.C; c++)
                output[((b * g.OH + i) * g.OW + j) * g.C + c] =
                    ih < 0 || iw < 0 ? 0f : input[((b * g.H + ih) * g.W + iw) * g.C + c];
        }
    }
}
