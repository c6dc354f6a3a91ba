namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The one GEMM that the cpu backend's conv, dense and their backward passes lean on (Darknet style).
/// Row-major: C (m×n, leading dimension ldc) = [C +] op(A) · op(B), where op(A) is m×k
/// (A stored m×k with lda, or k×m when <paramref name="transposeA"/>), op(B) is k×n
/// (B stored k×n with ldb, or n×k when <paramref name="transposeB"/>).
/// </summary>
public static unsafe class CpuGemm
{
    public static void Multiply(SimdLevel simd, int threads, bool transposeA, bool transposeB,
        int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        // Placeholder: correct, unblocked, single-threaded. Replaced by the packed SIMD kernel.
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float sum = 0f;
            for (int t = 0; t < k; t++)
            {
                float av = transposeA ? a[(long)t * lda + i] : a[(long)i * lda + t];
                float bv = transposeB ? b[(long)j * ldb + t] : b[(long)t * ldb + j];
                sum += av * bv;
            }
            c[(long)i * ldc + j] = accumulate ? c[(long)i * ldc + j] + sum : sum;
        }
    }
}
