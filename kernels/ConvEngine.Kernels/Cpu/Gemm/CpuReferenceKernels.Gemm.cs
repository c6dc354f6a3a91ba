using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceKernels
{
    public static void Dense(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output, int m, int k, int n, KernelActivation act)
    {
        for (int r = 0; r < m; r++)
        for (int c = 0; c < n; c++)
        {
            float sum = bias.IsEmpty ? 0f : bias[c];
            for (int t = 0; t < k; t++) sum += input[r * k + t] * weights[t * n + c];
            output[r * n + c] = act.Apply(sum);
        }
    }
}
