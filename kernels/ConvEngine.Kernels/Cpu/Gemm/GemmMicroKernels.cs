using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// How a packed A panel (MR rows × kc) lies in memory. The micro-kernels are generic over it, so
/// the JIT compiles one body per layout with every offset a constant.
/// </summary>
internal interface IPanelLayout
{
    /// <summary>Floats from row i to row i+1 of a panel of <paramref name="mr"/> rows.</summary>
    static abstract nint RowStep(int mr);
    /// <summary>Floats from column k to k+1.</summary>
    static abstract nint KStep(int mr);
}

/// <summary>Rows KC floats apart: packing a row-major A is one copy per row.</summary>
internal readonly struct RowPanel : IPanelLayout
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static nint RowStep(int mr) => GemmBlocking.PanelStride;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static nint KStep(int mr) => 1;
}

/// <summary>MR floats per k: packing a transposed A (stored k×m) copies MR contiguous floats per k.</summary>
internal readonly struct KMajorPanel : IPanelLayout
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static nint RowStep(int mr) => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static nint KStep(int mr) => mr;
}

/// <summary>
/// Register-blocked micro-kernels: C tile (MR×NR) [+]= A panel (MR×kc) · B panel (kc×NR), where B
/// advances <c>ldb</c> floats per k (NR when packed, the matrix's row stride when read in place).
/// The accumulators live in registers for the whole k loop (24 zmm of the 32 for AVX-512, 12 ymm
/// of the 16 for AVX2); a broadcast of one A value meets two B vectors per row.
/// A tile cut by the matrix edge is computed in full; the rows it keeps are stored from the registers when it is full width or
/// half (one vector) wide, else through a stack tile copied in part.
/// </summary>
[SkipLocalsInit]
internal static unsafe class GemmMicroKernels
{
    /// <summary>Rows and columns of the tile for each SIMD level.</summary>
    public static (int MR, int NR) TileShape(SimdLevel simd) => simd switch
    {
        SimdLevel.Avx512 => (Avx512MR, Avx512NR),
        SimdLevel.Avx2 => (Avx2MR, Avx2NR),
        _ => (ScalarMR, ScalarNR),
    };

    public const int Avx512MR = 12, Avx512NR = 32;
    public const int Avx2MR = 6, Avx2NR = 16;
    public const int ScalarMR = 4, ScalarNR = 4;
    /// <summary>The tallest tile: packed A panels are sized for it.</summary>
    public const int MaxMR = Avx512MR;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512<TA>(int kc, float* a, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, bool accumulate, in GemmEpilogue ep) where TA : struct, IPanelLayout
    {
        const int MR = Avx512MR, NR = Avx512NR;
        var s = new Store512(accumulate, ep);
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default, c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default, c9a = default, c9b = default, c10a = default, c10b = default, c11a = default, c11b = default;
        nint rs = TA.RowStep(MR), ks = TA.KStep(MR);
        for (int k = 0; k < kc; k++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), x;
            x = Vector512.Create(a[0]); c0a = Avx512F.FusedMultiplyAdd(x, b0, c0a); c0b = Avx512F.FusedMultiplyAdd(x, b1, c0b);
            x = Vector512.Create(a[rs]); c1a = Avx512F.FusedMultiplyAdd(x, b0, c1a); c1b = Avx512F.FusedMultiplyAdd(x, b1, c1b);
            x = Vector512.Create(a[2 * rs]); c2a = Avx512F.FusedMultiplyAdd(x, b0, c2a); c2b = Avx512F.FusedMultiplyAdd(x, b1, c2b);
            x = Vector512.Create(a[3 * rs]); c3a = Avx512F.FusedMultiplyAdd(x, b0, c3a); c3b = Avx512F.FusedMultiplyAdd(x, b1, c3b);
            x = Vector512.Create(a[4 * rs]); c4a = Avx512F.FusedMultiplyAdd(x, b0, c4a); c4b = Avx512F.FusedMultiplyAdd(x, b1, c4b);
            x = Vector512.Create(a[5 * rs]); c5a = Avx512F.FusedMultiplyAdd(x, b0, c5a); c5b = Avx512F.FusedMultiplyAdd(x, b1, c5b);
            x = Vector512.Create(a[6 * rs]); c6a = Avx512F.FusedMultiplyAdd(x, b0, c6a); c6b = Avx512F.FusedMultiplyAdd(x, b1, c6b);
            x = Vector512.Create(a[7 * rs]); c7a = Avx512F.FusedMultiplyAdd(x, b0, c7a); c7b = Avx512F.FusedMultiplyAdd(x, b1, c7b);
            x = Vector512.Create(a[8 * rs]); c8a = Avx512F.FusedMultiplyAdd(x, b0, c8a); c8b = Avx512F.FusedMultiplyAdd(x, b1, c8b);
            x = Vector512.Create(a[9 * rs]); c9a = Avx512F.FusedMultiplyAdd(x, b0, c9a); c9b = Avx512F.FusedMultiplyAdd(x, b1, c9b);
            x = Vector512.Create(a[10 * rs]); c10a = Avx512F.FusedMultiplyAdd(x, b0, c10a); c10b = Avx512F.FusedMultiplyAdd(x, b1, c10b);
            x = Vector512.Create(a[11 * rs]); c11a = Avx512F.FusedMultiplyAdd(x, b0, c11a); c11b = Avx512F.FusedMultiplyAdd(x, b1, c11b);
            a += ks;
            b += ldb;
        }
        if (rows == MR && cols == NR)
        {
            s.Row(c + 0 * ldc, c0a, c0b);
            s.Row(c + 1 * ldc, c1a, c1b);
            s.Row(c + 2 * ldc, c2a, c2b);
            s.Row(c + 3 * ldc, c3a, c3b);
            s.Row(c + 4 * ldc, c4a, c4b);
            s.Row(c + 5 * ldc, c5a, c5b);
            s.Row(c + 6 * ldc, c6a, c6b);
            s.Row(c + 7 * ldc, c7a, c7b);
            s.Row(c + 8 * ldc, c8a, c8b);
            s.Row(c + 9 * ldc, c9a, c9b);
            s.Row(c + 10 * ldc, c10a, c10b);
            s.Row(c + 11 * ldc, c11a, c11b);
        }
        else if (cols == NR || cols == NR / 2)
        {
            // Cut by the last rows, or half as wide (16 output channels): stored straight from the registers.
            bool half = cols < NR;
            s.Rows(c, half, c0a, c0b);
            if (rows > 1) s.Rows(c + 1 * ldc, half, c1a, c1b);
            if (rows > 2) s.Rows(c + 2 * ldc, half, c2a, c2b);
            if (rows > 3) s.Rows(c + 3 * ldc, half, c3a, c3b);
            if (rows > 4) s.Rows(c + 4 * ldc, half, c4a, c4b);
            if (rows > 5) s.Rows(c + 5 * ldc, half, c5a, c5b);
            if (rows > 6) s.Rows(c + 6 * ldc, half, c6a, c6b);
            if (rows > 7) s.Rows(c + 7 * ldc, half, c7a, c7b);
            if (rows > 8) s.Rows(c + 8 * ldc, half, c8a, c8b);
            if (rows > 9) s.Rows(c + 9 * ldc, half, c9a, c9b);
            if (rows > 10) s.Rows(c + 10 * ldc, half, c10a, c10b);
            if (rows > 11) s.Rows(c + 11 * ldc, half, c11a, c11b);
        }
        else
        {
            float* tile = stackalloc float[MR * NR];
            c0a.Store(tile + 0); c0b.Store(tile + 16);
            c1a.Store(tile + 32); c1b.Store(tile + 48);
            c2a.Store(tile + 64); c2b.Store(tile + 80);
            c3a.Store(tile + 96); c3b.Store(tile + 112);
            c4a.Store(tile + 128); c4b.Store(tile + 144);
            c5a.Store(tile + 160); c5b.Store(tile + 176);
            c6a.Store(tile + 192); c6b.Store(tile + 208);
            c7a.Store(tile + 224); c7b.Store(tile + 240);
            c8a.Store(tile + 256); c8b.Store(tile + 272);
            c9a.Store(tile + 288); c9b.Store(tile + 304);
            c10a.Store(tile + 320); c10b.Store(tile + 336);
            c11a.Store(tile + 352); c11b.Store(tile + 368);
            FinishEdgeTile(tile, NR, c, ldc, rows, cols, accumulate, ep);
        }
    }

    /// <summary>Rows a short AVX-512 tile computes: the last panel of a matrix with 1–4 (or, in two passes, 5–8) rows left.</summary>
    public const int Avx512ShortMR = 4;

    /// <summary>
    /// <see cref="Avx512{TA}"/> for a tile of at most <see cref="Avx512ShortMR"/> rows, read from a panel packed for
    /// <see cref="Avx512MR"/>: 8 accumulators instead of 24, so the edge panel of an M such as 49 (a 7×7 feature map) costs a
    /// third of a full tile rather than a whole one. The sums are the same as the full tile's, k in the same order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512Short<TA>(int kc, float* a, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, bool accumulate, in GemmEpilogue ep) where TA : struct, IPanelLayout
    {
        const int NR = Avx512NR;
        var s = new Store512(accumulate, ep);
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default;
        nint rs = TA.RowStep(Avx512MR), ks = TA.KStep(Avx512MR);
        for (int k = 0; k < kc; k++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), x;
            x = Vector512.Create(a[0]); c0a = Avx512F.FusedMultiplyAdd(x, b0, c0a); c0b = Avx512F.FusedMultiplyAdd(x, b1, c0b);
            x = Vector512.Create(a[rs]); c1a = Avx512F.FusedMultiplyAdd(x, b0, c1a); c1b = Avx512F.FusedMultiplyAdd(x, b1, c1b);
            x = Vector512.Create(a[2 * rs]); c2a = Avx512F.FusedMultiplyAdd(x, b0, c2a); c2b = Avx512F.FusedMultiplyAdd(x, b1, c2b);
            x = Vector512.Create(a[3 * rs]); c3a = Avx512F.FusedMultiplyAdd(x, b0, c3a); c3b = Avx512F.FusedMultiplyAdd(x, b1, c3b);
            a += ks;
            b += ldb;
        }
        if (cols == NR || cols == NR / 2)
        {
            bool half = cols < NR;
            s.Rows(c, half, c0a, c0b);
            if (rows > 1) s.Rows(c + 1 * ldc, half, c1a, c1b);
            if (rows > 2) s.Rows(c + 2 * ldc, half, c2a, c2b);
            if (rows > 3) s.Rows(c + 3 * ldc, half, c3a, c3b);
        }
        else
        {
            float* tile = stackalloc float[Avx512ShortMR * NR];
            c0a.Store(tile + 0); c0b.Store(tile + 16);
            c1a.Store(tile + 32); c1b.Store(tile + 48);
            c2a.Store(tile + 64); c2b.Store(tile + 80);
            c3a.Store(tile + 96); c3b.Store(tile + 112);
            FinishEdgeTile(tile, NR, c, ldc, rows, cols, accumulate, ep);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2<TA>(int kc, float* a, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, bool accumulate, in GemmEpilogue ep) where TA : struct, IPanelLayout
    {
        const int MR = Avx2MR, NR = Avx2NR;
        var s = new Store256(accumulate, ep);
        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        nint rs = TA.RowStep(MR), ks = TA.KStep(MR);
        Vector256<float> b0, b1, x;
        // Unrolled by four: the loop's own increments and branch are a sixth of its instructions otherwise.
        int k = 0;
        for (; k + 4 <= kc; k += 4)
        {
            b0 = Vector256.Load(b); b1 = Vector256.Load(b + 8);
            x = Vector256.Create(a[0]); c0a = Fma.MultiplyAdd(x, b0, c0a); c0b = Fma.MultiplyAdd(x, b1, c0b);
            x = Vector256.Create(a[rs]); c1a = Fma.MultiplyAdd(x, b0, c1a); c1b = Fma.MultiplyAdd(x, b1, c1b);
            x = Vector256.Create(a[2 * rs]); c2a = Fma.MultiplyAdd(x, b0, c2a); c2b = Fma.MultiplyAdd(x, b1, c2b);
            x = Vector256.Create(a[3 * rs]); c3a = Fma.MultiplyAdd(x, b0, c3a); c3b = Fma.MultiplyAdd(x, b1, c3b);
            x = Vector256.Create(a[4 * rs]); c4a = Fma.MultiplyAdd(x, b0, c4a); c4b = Fma.MultiplyAdd(x, b1, c4b);
            x = Vector256.Create(a[5 * rs]); c5a = Fma.MultiplyAdd(x, b0, c5a); c5b = Fma.MultiplyAdd(x, b1, c5b);
            b0 = Vector256.Load(b + 1 * ldb); b1 = Vector256.Load(b + 1 * ldb + 8);
            x = Vector256.Create(a[0 + 1 * ks]); c0a = Fma.MultiplyAdd(x, b0, c0a); c0b = Fma.MultiplyAdd(x, b1, c0b);
            x = Vector256.Create(a[rs + 1 * ks]); c1a = Fma.MultiplyAdd(x, b0, c1a); c1b = Fma.MultiplyAdd(x, b1, c1b);
            x = Vector256.Create(a[2 * rs + 1 * ks]); c2a = Fma.MultiplyAdd(x, b0, c2a); c2b = Fma.MultiplyAdd(x, b1, c2b);
            x = Vector256.Create(a[3 * rs + 1 * ks]); c3a = Fma.MultiplyAdd(x, b0, c3a); c3b = Fma.MultiplyAdd(x, b1, c3b);
            x = Vector256.Create(a[4 * rs + 1 * ks]); c4a = Fma.MultiplyAdd(x, b0, c4a); c4b = Fma.MultiplyAdd(x, b1, c4b);
            x = Vector256.Create(a[5 * rs + 1 * ks]); c5a = Fma.MultiplyAdd(x, b0, c5a); c5b = Fma.MultiplyAdd(x, b1, c5b);
            b0 = Vector256.Load(b + 2 * ldb); b1 = Vector256.Load(b + 2 * ldb + 8);
            x = Vector256.Create(a[0 + 2 * ks]); c0a = Fma.MultiplyAdd(x, b0, c0a); c0b = Fma.MultiplyAdd(x, b1, c0b);
            x = Vector256.Create(a[rs + 2 * ks]); c1a = Fma.MultiplyAdd(x, b0, c1a); c1b = Fma.MultiplyAdd(x, b1, c1b);
            x = Vector256.Create(a[2 * rs + 2 * ks]); c2a = Fma.MultiplyAdd(x, b0, c2a); c2b = Fma.MultiplyAdd(x, b1, c2b);
            x = Vector256.Create(a[3 * rs + 2 * ks]); c3a = Fma.MultiplyAdd(x, b0, c3a); c3b = Fma.MultiplyAdd(x, b1, c3b);
            x = Vector256.Create(a[4 * rs + 2 * ks]); c4a = Fma.MultiplyAdd(x, b0, c4a); c4b = Fma.MultiplyAdd(x, b1, c4b);
            x = Vector256.Create(a[5 * rs + 2 * ks]); c5a = Fma.MultiplyAdd(x, b0, c5a); c5b = Fma.MultiplyAdd(x, b1, c5b);
            b0 = Vector256.Load(b + 3 * ldb); b1 = Vector256.Load(b + 3 * ldb + 8);
            x = Vector256.Create(a[0 + 3 * ks]); c0a = Fma.MultiplyAdd(x, b0, c0a); c0b = Fma.MultiplyAdd(x, b1, c0b);
            x = Vector256.Create(a[rs + 3 * ks]); c1a = Fma.MultiplyAdd(x, b0, c1a); c1b = Fma.MultiplyAdd(x, b1, c1b);
            x = Vector256.Create(a[2 * rs + 3 * ks]); c2a = Fma.MultiplyAdd(x, b0, c2a); c2b = Fma.MultiplyAdd(x, b1, c2b);
            x = Vector256.Create(a[3 * rs + 3 * ks]); c3a = Fma.MultiplyAdd(x, b0, c3a); c3b = Fma.MultiplyAdd(x, b1, c3b);
            x = Vector256.Create(a[4 * rs + 3 * ks]); c4a = Fma.MultiplyAdd(x, b0, c4a); c4b = Fma.MultiplyAdd(x, b1, c4b);
            x = Vector256.Create(a[5 * rs + 3 * ks]); c5a = Fma.MultiplyAdd(x, b0, c5a); c5b = Fma.MultiplyAdd(x, b1, c5b);
            a += 4 * ks;
            b += 4 * ldb;
        }
        for (; k < kc; k++)
        {
            b0 = Vector256.Load(b); b1 = Vector256.Load(b + 8);
            x = Vector256.Create(a[0]); c0a = Fma.MultiplyAdd(x, b0, c0a); c0b = Fma.MultiplyAdd(x, b1, c0b);
            x = Vector256.Create(a[rs]); c1a = Fma.MultiplyAdd(x, b0, c1a); c1b = Fma.MultiplyAdd(x, b1, c1b);
            x = Vector256.Create(a[2 * rs]); c2a = Fma.MultiplyAdd(x, b0, c2a); c2b = Fma.MultiplyAdd(x, b1, c2b);
            x = Vector256.Create(a[3 * rs]); c3a = Fma.MultiplyAdd(x, b0, c3a); c3b = Fma.MultiplyAdd(x, b1, c3b);
            x = Vector256.Create(a[4 * rs]); c4a = Fma.MultiplyAdd(x, b0, c4a); c4b = Fma.MultiplyAdd(x, b1, c4b);
            x = Vector256.Create(a[5 * rs]); c5a = Fma.MultiplyAdd(x, b0, c5a); c5b = Fma.MultiplyAdd(x, b1, c5b);
            a += ks;
            b += ldb;
        }
        if (rows == MR && cols == NR)
        {
            s.Row(c + 0 * ldc, c0a, c0b);
            s.Row(c + 1 * ldc, c1a, c1b);
            s.Row(c + 2 * ldc, c2a, c2b);
            s.Row(c + 3 * ldc, c3a, c3b);
            s.Row(c + 4 * ldc, c4a, c4b);
            s.Row(c + 5 * ldc, c5a, c5b);
        }
        else if (cols == NR || cols == NR / 2)
        {
            bool half = cols < NR;
            s.Rows(c, half, c0a, c0b);
            if (rows > 1) s.Rows(c + 1 * ldc, half, c1a, c1b);
            if (rows > 2) s.Rows(c + 2 * ldc, half, c2a, c2b);
            if (rows > 3) s.Rows(c + 3 * ldc, half, c3a, c3b);
            if (rows > 4) s.Rows(c + 4 * ldc, half, c4a, c4b);
            if (rows > 5) s.Rows(c + 5 * ldc, half, c5a, c5b);
        }
        else
        {
            float* tile = stackalloc float[MR * NR];
            c0a.Store(tile + 0); c0b.Store(tile + 8);
            c1a.Store(tile + 16); c1b.Store(tile + 24);
            c2a.Store(tile + 32); c2b.Store(tile + 40);
            c3a.Store(tile + 48); c3b.Store(tile + 56);
            c4a.Store(tile + 64); c4b.Store(tile + 72);
            c5a.Store(tile + 80); c5b.Store(tile + 88);
            FinishEdgeTile(tile, NR, c, ldc, rows, cols, accumulate, ep);
        }
    }

    /// <summary>Rows a short AVX2 tile computes: the last panel of a matrix with 1–3 rows left.</summary>
    public const int Avx2ShortMR = 3;

    /// <summary>
    /// <see cref="Avx2{TA}"/> for a tile of at most <see cref="Avx2ShortMR"/> rows, read from a panel packed for
    /// <see cref="Avx2MR"/>: 6 accumulators instead of 12, so an edge panel of 1–3 rows (M = 49, a 7×7 feature map, leaves
    /// one) costs half a full tile. The sums are the full tile's, k in the same order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Short<TA>(int kc, float* a, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, bool accumulate, in GemmEpilogue ep) where TA : struct, IPanelLayout
    {
        const int NR = Avx2NR;
        var s = new Store256(accumulate, ep);
        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        nint rs = TA.RowStep(Avx2MR), ks = TA.KStep(Avx2MR);
        for (int k = 0; k < kc; k++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8), x;
            x = Vector256.Create(a[0]); c0a = Fma.MultiplyAdd(x, b0, c0a); c0b = Fma.MultiplyAdd(x, b1, c0b);
            x = Vector256.Create(a[rs]); c1a = Fma.MultiplyAdd(x, b0, c1a); c1b = Fma.MultiplyAdd(x, b1, c1b);
            x = Vector256.Create(a[2 * rs]); c2a = Fma.MultiplyAdd(x, b0, c2a); c2b = Fma.MultiplyAdd(x, b1, c2b);
            a += ks;
            b += ldb;
        }
        if (cols == NR || cols == NR / 2)
        {
            bool half = cols < NR;
            s.Rows(c, half, c0a, c0b);
            if (rows > 1) s.Rows(c + 1 * ldc, half, c1a, c1b);
            if (rows > 2) s.Rows(c + 2 * ldc, half, c2a, c2b);
        }
        else
        {
            float* tile = stackalloc float[Avx2ShortMR * NR];
            c0a.Store(tile + 0); c0b.Store(tile + 8);
            c1a.Store(tile + 16); c1b.Store(tile + 24);
            c2a.Store(tile + 32); c2b.Store(tile + 40);
            FinishEdgeTile(tile, NR, c, ldc, rows, cols, accumulate, ep);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scalar<TA>(int kc, float* a, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, bool accumulate, in GemmEpilogue ep) where TA : struct, IPanelLayout
    {
        const int MR = ScalarMR, NR = ScalarNR;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        nint rs = TA.RowStep(MR), ks = TA.KStep(MR);
        for (int k = 0; k < kc; k++)
        {
            float a0 = a[0], a1 = a[rs], a2 = a[2 * rs], a3 = a[3 * rs];
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            a += ks;
            b += ldb;
        }
        float* tile = stackalloc float[MR * NR]
        {
            c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33,
        };
        FinishEdgeTile(tile, NR, c, ldc, rows, cols, accumulate, ep);
    }

    /// <summary>Copies the valid rows×cols of a computed tile into C, with accumulate, bias, residual and the in-register activations.</summary>
    private static void FinishEdgeTile(float* tile, int nr, float* c, nint ldc, int rows, int cols, bool accumulate, in GemmEpilogue ep)
    {
        for (int r = 0; r < rows; r++)
        {
            float* row = c + r * ldc;
            for (int j = 0; j < cols; j++)
            {
                float x = tile[r * nr + j];
                if (accumulate) x += row[j];
                if (ep.Bias != null) x += ep.Bias[j];
                if (ep.HasResidual) x += row[j + ep.ResidualOffset];
                row[j] = ep.ApplyInRegisterKind(x);
            }
        }
    }

    /// <summary>Writes full AVX-512 tile rows: [C +] acc [+ bias] [+ residual], then ReLU/LeakyReLU as Activation.Apply defines them.</summary>
    private readonly struct Store512
    {
        private readonly float* _bias;
        private readonly float _alpha;
        private readonly bool _accumulate, _residual;
        private readonly nint _residualOffset;
        private readonly ActivationKind _kind;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Store512(bool accumulate, in GemmEpilogue ep)
        {
            _accumulate = accumulate;
            _residual = ep.HasResidual;
            _residualOffset = ep.ResidualOffset;
            _bias = ep.Bias;
            _kind = ep.Activation.Kind;
            _alpha = ep.Activation.Alpha;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Row(float* p, Vector512<float> lo, Vector512<float> hi)
        {
            StoreVector(p, 0, lo);
            StoreVector(p, 16, hi);
        }

        /// <summary>A full row, or only its first 16 columns when <paramref name="half"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Rows(float* p, bool half, Vector512<float> lo, Vector512<float> hi)
        {
            StoreVector(p, 0, lo);
            if (!half) StoreVector(p, 16, hi);
        }

        /// <summary>The 16 columns from <paramref name="column"/> on: [C +] acc [+ bias] [+ residual], the activation, stored.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreVector(float* p, int column, Vector512<float> v)
        {
            p += column;
            if (_accumulate) v += Vector512.Load(p);
            if (_bias != null) v += Vector512.Load(_bias + column);
            if (_residual) v += Vector512.Load(p + _residualOffset);
            if (_kind == ActivationKind.Relu) v = Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, Vector512<float>.Zero);
            else if (_kind == ActivationKind.LeakyRelu) v = Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, v * Vector512.Create(_alpha));
            v.Store(p);
        }
    }

    /// <summary>The AVX2 twin of <see cref="Store512"/>.</summary>
    private readonly struct Store256
    {
        private readonly float* _bias;
        private readonly float _alpha;
        private readonly bool _accumulate, _residual;
        private readonly nint _residualOffset;
        private readonly ActivationKind _kind;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Store256(bool accumulate, in GemmEpilogue ep)
        {
            _accumulate = accumulate;
            _residual = ep.HasResidual;
            _residualOffset = ep.ResidualOffset;
            _bias = ep.Bias;
            _kind = ep.Activation.Kind;
            _alpha = ep.Activation.Alpha;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Row(float* p, Vector256<float> lo, Vector256<float> hi)
        {
            StoreVector(p, 0, lo);
            StoreVector(p, 8, hi);
        }

        /// <summary>A full row, or only its first 8 columns when <paramref name="half"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Rows(float* p, bool half, Vector256<float> lo, Vector256<float> hi)
        {
            StoreVector(p, 0, lo);
            if (!half) StoreVector(p, 8, hi);
        }

        /// <summary>The 8 columns from <paramref name="column"/> on: [C +] acc [+ bias] [+ residual], the activation, stored.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreVector(float* p, int column, Vector256<float> v)
        {
            p += column;
            if (_accumulate) v += Vector256.Load(p);
            if (_bias != null) v += Vector256.Load(_bias + column);
            if (_residual) v += Vector256.Load(p + _residualOffset);
            if (_kind == ActivationKind.Relu) v = Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero);
            else if (_kind == ActivationKind.LeakyRelu) v = Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * Vector256.Create(_alpha));
            v.Store(p);
        }
    }
}
