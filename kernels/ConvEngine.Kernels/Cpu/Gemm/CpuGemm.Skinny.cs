using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvEngine.Kernels.Cpu;

internal static unsafe partial class CpuGemm
{
    /// <summary>Products of at most this many rows of A (a dense layer at a small batch) take <see cref="Skinny"/>.</summary>
    public const int SkinnyMaxRows = 4;

    /// <summary>Columns of C per thread below which a skinny product does not split.</summary>
    private const int SkinnyMinColumnsPerPart = 64;

    /// <summary>
    /// C = act([C +] A·B + bias) for a few rows of a row-major A and an untransposed B (k×n). The blocked GEMM would pad
    /// A to a whole micro-kernel panel (6 or 12 rows) and read B's columns one row, and so one page, apart; here B streams
    /// through once, four of its rows at a time, into the rows of C, which stay in L1. Each thread takes a slice of C's
    /// columns and sums every element in k order, so the result does not depend on the split.
    /// </summary>
    internal static void Skinny(SimdLevel simd, int threads, int m, int n, int k, float* a, nint lda, float* b, nint ldb,
        float* c, nint ldc, bool accumulate, GemmEpilogue epilogue)
    {
        int parts = Math.Clamp(Math.Min(CpuParallel.Parts(threads, (long)m * n * k, SerialWork), n / SkinnyMinColumnsPerPart), 1, threads);
        CpuParallel.For(parts, part =>
        {
            var (j0, j1) = CpuParallel.Range(n, parts, part, 16);
            if (j0 >= j1) return;
            for (int i = 0; i < m; i++)
                if (!accumulate) new Span<float>(c + i * ldc + j0, j1 - j0).Clear();
            SkinnySums(simd, m, j0, j1, k, a, lda, b, ldb, c, ldc);
            // Bias, residual and activation on the finished sums.
            EmptySum(m, j1 - j0, c + j0, (int)ldc, accumulate: true, epilogue.Shifted(j0), simd);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SkinnySums(SimdLevel simd, int m, int j0, int j1, int k, float* a, nint lda, float* b, nint ldb, float* c, nint ldc)
    {
        int width = simd == SimdLevel.Avx512 ? 16 : simd == SimdLevel.Avx2 ? 8 : 1;
        int vectorEnd = width == 1 ? j0 : j0 + (j1 - j0) / width * width;
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            float* b0 = b + p * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            for (int i = 0; i < m; i++)
            {
                float* ai = a + i * lda + p, ci = c + i * ldc;
                float x0 = ai[0], x1 = ai[1], x2 = ai[2], x3 = ai[3];
                int j = j0;
                if (width == 16)
                {
                    Vector512<float> v0 = Vector512.Create(x0), v1 = Vector512.Create(x1), v2 = Vector512.Create(x2), v3 = Vector512.Create(x3);
                    for (; j < vectorEnd; j += 16)
                    {
                        var sum = Vector512.Load(ci + j);
                        sum = Avx512F.FusedMultiplyAdd(v0, Vector512.Load(b0 + j), sum);
                        sum = Avx512F.FusedMultiplyAdd(v1, Vector512.Load(b1 + j), sum);
                        sum = Avx512F.FusedMultiplyAdd(v2, Vector512.Load(b2 + j), sum);
                        sum = Avx512F.FusedMultiplyAdd(v3, Vector512.Load(b3 + j), sum);
                        sum.Store(ci + j);
                    }
                }
                else if (width == 8)
                {
                    Vector256<float> v0 = Vector256.Create(x0), v1 = Vector256.Create(x1), v2 = Vector256.Create(x2), v3 = Vector256.Create(x3);
                    for (; j < vectorEnd; j += 8)
                    {
                        var sum = Vector256.Load(ci + j);
                        sum = Fma.MultiplyAdd(v0, Vector256.Load(b0 + j), sum);
                        sum = Fma.MultiplyAdd(v1, Vector256.Load(b1 + j), sum);
                        sum = Fma.MultiplyAdd(v2, Vector256.Load(b2 + j), sum);
                        sum = Fma.MultiplyAdd(v3, Vector256.Load(b3 + j), sum);
                        sum.Store(ci + j);
                    }
                }
                // The same four fused steps per element as the vector lanes, so a column's result does not depend on where it falls.
                for (; j < j1; j++)
                    ci[j] = MathF.FusedMultiplyAdd(x3, b3[j], MathF.FusedMultiplyAdd(x2, b2[j], MathF.FusedMultiplyAdd(x1, b1[j], MathF.FusedMultiplyAdd(x0, b0[j], ci[j]))));
            }
        }
        for (; p < k; p++)
        {
            float* bp = b + p * ldb;
            for (int i = 0; i < m; i++)
            {
                float x = a[i * lda + p];
                float* ci = c + i * ldc;
                for (int j = j0; j < j1; j++) ci[j] = MathF.FusedMultiplyAdd(x, bp[j], ci[j]);
            }
        }
    }
}
