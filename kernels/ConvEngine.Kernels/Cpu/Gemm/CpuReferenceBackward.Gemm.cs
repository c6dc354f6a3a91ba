using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceBackward
{
    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float sum = 0f;
            for (int t = 0; t < k; t++)
                sum += (transposeA ? a[t * m + i] : a[i * k + t]) * (transposeB ? b[j * k + t] : b[t * n + j]);
            c[i * n + j] = accumulate ? c[i * n + j] + sum : sum;
        }
    }
}
