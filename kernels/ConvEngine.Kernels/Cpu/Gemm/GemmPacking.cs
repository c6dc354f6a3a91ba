using System.Runtime.CompilerServices;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Copies pieces of op(A) and op(B) into the layouts the micro-kernels stream: A panels of MR rows
/// (zero rows below the matrix edge), B panels of NR columns, k-major (zero columns past the edge).
/// Transposes happen here, so the micro-kernels never see them.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// A panel from a row-major A (element (i, k) at a[i·lda + k]) into <see cref="RowPanel"/> layout:
    /// rows i0.. of columns k0..k0+kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ARows(float* a, nint lda, int i0, int k0, int rows, int kc, int mr, float* panel)
    {
        for (int r = 0; r < rows; r++)
            Unsafe.CopyBlockUnaligned(panel + r * (nint)GemmBlocking.PanelStride, a + (i0 + r) * lda + k0, (uint)kc * sizeof(float));
        for (int r = rows; r < mr; r++)
            Unsafe.InitBlockUnaligned(panel + r * (nint)GemmBlocking.PanelStride, 0, (uint)kc * sizeof(float));
    }

    /// <summary>
    /// A panel from a transposed A (stored k×m: element (i, k) at a[k·lda + i]) into
    /// <see cref="KMajorPanel"/> layout: each k contributes MR contiguous floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AColumns(float* a, nint lda, int i0, int k0, int rows, int kc, int mr, float* panel)
    {
        float* src = a + k0 * lda + i0;
        // Full panels: fixed-size moves the JIT turns into one or two vector loads and stores.
        if (rows == mr && mr == GemmMicroKernels.Avx512MR)
        {
            for (int k = 0; k < kc; k++, src += lda, panel += mr)
                Unsafe.CopyBlockUnaligned(panel, src, GemmMicroKernels.Avx512MR * sizeof(float));
            return;
        }
        if (rows == mr && mr == GemmMicroKernels.Avx2MR)
        {
            for (int k = 0; k < kc; k++, src += lda, panel += mr)
                Unsafe.CopyBlockUnaligned(panel, src, GemmMicroKernels.Avx2MR * sizeof(float));
            return;
        }
        for (int k = 0; k < kc; k++, src += lda, panel += mr)
        {
            int r = 0;
            for (; r < rows; r++) panel[r] = src[r];
            for (; r < mr; r++) panel[r] = 0f;
        }
    }

    /// <summary>
    /// B panels of NR columns for rows k0..k0+kc and columns j0..j0+nc of op(B); panel p starts at
    /// block + p·kc·NR. Untransposed B (element (k, j) at b[k·ldb + j]) copies NR floats per k;
    /// transposed B (at b[j·ldb + k]) reads each column contiguously and scatters it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BPanels(bool transposed, float* b, nint ldb, int k0, int j0, int kc, int nc, int nr, float* block)
    {
        for (int jp = 0; jp < nc; jp += nr)
        {
            int cols = Math.Min(nr, nc - jp);
            float* panel = block + (nint)(jp / nr) * kc * nr;
            if (!transposed)
            {
                float* src = b + k0 * ldb + j0 + jp;
                if (cols == nr && nr == GemmMicroKernels.Avx512NR)
                {
                    for (int k = 0; k < kc; k++, src += ldb, panel += nr)
                        Unsafe.CopyBlockUnaligned(panel, src, GemmMicroKernels.Avx512NR * sizeof(float));
                }
                else if (cols == nr && nr == GemmMicroKernels.Avx2NR)
                {
                    for (int k = 0; k < kc; k++, src += ldb, panel += nr)
                        Unsafe.CopyBlockUnaligned(panel, src, GemmMicroKernels.Avx2NR * sizeof(float));
                }
                else if (cols == nr)
                {
                    for (int k = 0; k < kc; k++, src += ldb, panel += nr)
                        Unsafe.CopyBlockUnaligned(panel, src, (uint)nr * sizeof(float));
                }
                else
                {
                    for (int k = 0; k < kc; k++, src += ldb, panel += nr)
                    {
                        int j = 0;
                        for (; j < cols; j++) panel[j] = src[j];
                        for (; j < nr; j++) panel[j] = 0f;
                    }
                }
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (j0 + jp + j) * ldb + k0;
                    for (int k = 0; k < kc; k++) panel[k * nr + j] = src[k];
                }
                for (int j = cols; j < nr; j++)
                    for (int k = 0; k < kc; k++) panel[k * nr + j] = 0f;
            }
        }
    }
}
