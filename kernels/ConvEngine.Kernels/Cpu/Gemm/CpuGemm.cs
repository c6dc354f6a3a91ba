
namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The one GEMM that the cpu backend's conv, dense and their backward passes lean on (Darknet style).
/// Row-major: C (m×n, leading dimension ldc) = [C +] op(A) · op(B), where op(A) is m×k
/// (A stored m×k with lda, or k×m when <c>transposeA</c>), op(B) is k×n
/// (B stored k×n with ldb, or n×k when <c>transposeB</c>).
/// </summary>
/// <remarks>
/// GotoBLAS structure: B in blocks of KC×NC (packed into NR-wide panels, or read in place when it is
/// untransposed and there are few rows), A in MR-row panels packed per K block, a register-blocked micro-kernel per
/// SIMD level (AVX-512 12×32, AVX2 6×16, scalar 4×4). One parallel split per call, over row
/// panels or column panels, whichever leaves the busiest thread fewer tiles; B and the A panels are packed
/// into reusable scratch, so a call allocates nothing but the split's closures. Blocking comes from
/// <see cref="GemmBlocking"/> (the machine's caches) unless the caller passes one. A product of a few rows with an
/// untransposed B (a dense layer at batch 1-4) streams B instead (<see cref="Skinny"/>).
/// </remarks>
internal static unsafe partial class CpuGemm
{
    /// <summary>Below this many multiply-adds a second thread costs more than it saves.</summary>
    private const long SerialWork = 1L << 18;
    /// <summary>Largest B (floats) packed whole per column block; bigger ones are packed per K block.</summary>
    private const long PackWholeFloats = 1L << 22;
    /// <summary>Fewer A panels than this read an untransposed B in place: packing it would cost more than it saves.</summary>
    private const int PackBMinPanels = 24;
    /// <summary>Largest B (floats) packed once for all threads of a row split.</summary>
    private const long SharedPackFloats = 1L << 22;
    /// <summary>Row chunks handed out in a row split have at least this many A panels, so each pays for reading B.</summary>
    private const int RowPanelsPerChunk = 16;

    public static void Multiply(SimdLevel simd, int threads, bool transposeA, bool transposeB,
        int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate) =>
        Multiply(simd, threads, transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, GemmEpilogue.None);

    /// <summary>
    /// C = act([C +] op(A)·op(B) + bias), the bias indexed by column; the epilogue runs while
    /// each output tile is still in registers or L1.
    /// </summary>
    public static void Multiply(SimdLevel simd, int threads, bool transposeA, bool transposeB,
        int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, GemmEpilogue epilogue) =>
        Multiply(simd, GemmBlocking.Default(simd), threads, transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, epilogue);

    /// <summary>The same with an explicit cache blocking (the tuner times candidates through this).</summary>
    public static void Multiply(SimdLevel simd, GemmBlocking blocking, int threads, bool transposeA, bool transposeB,
        int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, GemmEpilogue epilogue)
    {
        blocking = blocking.Checked();
        CheckArguments(transposeA, transposeB, m, n, k, lda, ldb, ldc, threads);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            EmptySum(m, n, c, ldc, accumulate, epilogue, simd);
            return;
        }
        if (!transposeA && !transposeB && m <= SkinnyMaxRows && simd != SimdLevel.Scalar)
        {
            Skinny(simd, threads, m, n, k, a, lda, b, ldb, c, ldc, accumulate, epilogue);
            return;
        }

        if (transposeA) Parallel(simd, blocking, threads, new TransposedA(a, lda), transposeB, m, n, k, b, ldb, c, ldc, accumulate, epilogue);
        else Parallel(simd, blocking, threads, new RowMajorA(a, lda), transposeB, m, n, k, b, ldb, c, ldc, accumulate, epilogue);
    }

    /// <summary>
    /// The parallel GEMM over any A source (k ≥ 1): one split over row panels or column panels, whichever leaves the
    /// busiest thread less to do, counting the packing a split repeats in every part (<paramref name="aPanelPackTiles"/>
    /// is what packing one A panel costs in tiles: more for a conv's im2col gather than for a plain copy). A row split
    /// packs B once for all threads when there are enough rows to pay for it, then hands out row chunks to whichever
    /// thread is free; without a shared B each thread packs its own and takes one part. A <paramref name="prepackedB"/>
    /// serves either split.
    /// </summary>
    internal static void Parallel<TA>(SimdLevel simd, GemmBlocking blocking, int threads, TA a, bool transposeB, int m, int n, int k,
        float* b, nint ldb, float* c, nint ldc, bool accumulate, GemmEpilogue epilogue, double aPanelPackTiles = CpuParallel.DefaultPanelPackTiles, float* prepackedB = null)
        where TA : struct, IAPanelSource
    {
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        int rowPanels = (m + mr - 1) / mr, columnPanels = (n + nr - 1) / nr;
        var (splitRows, parts) = CpuParallel.TileSplit(rowPanels, columnPanels, CpuParallel.Parts(threads, (long)m * n * k, SerialWork),
            aPanelPackTiles, prepackedB != null ? 0 : CpuParallel.DefaultPanelPackTiles);
        if (parts == 1)
        {
            Block(simd, blocking, a, 0, transposeB, m, n, k, b, ldb, c, ldc, accumulate, epilogue, CpuScratch.Current, prepackedB);
            return;
        }
        if (!splitRows)
        {
            CpuParallel.For(parts, part =>
            {
                var (j0, j1) = CpuParallel.Range(n, parts, part, nr);
                if (j0 >= j1) return;
                float* subB = b == null ? null : transposeB ? b + (nint)j0 * ldb : b + j0;
                Block(simd, blocking, a, 0, transposeB, m, j1 - j0, k, subB, ldb, c + j0, ldc, accumulate, epilogue.Shifted(j0), CpuScratch.Current,
                    prepackedB, packedColumn0: j0, packedWidth: n);
            });
            return;
        }

        long packedFloats = PackedBFloats(k, n, nr);
        float* packed = prepackedB;
        if (packed == null)
        {
            if (rowPanels / parts < PackBMinPanels || packedFloats > SharedPackFloats)
            {
                CpuParallel.For(parts, part =>
                {
                    var (i0, i1) = CpuParallel.Range(m, parts, part, mr);
                    if (i0 < i1)
                        Block(simd, blocking, a, i0, transposeB, i1 - i0, n, k, b, ldb, c + (nint)i0 * ldc, ldc, accumulate, epilogue, CpuScratch.Current);
                });
                return;
            }
            // One packed copy of B for every thread (packed in parallel, block by block), then row chunks on demand.
            packed = CpuScratch.Current.SharedB.Get(packedFloats);
            PackB(simd, blocking, parts, transposeB, b, ldb, k, n, packed);
        }
        int chunks = RowChunks(parts, rowPanels);
        CpuParallel.ForChunks(parts, chunks, chunk =>
        {
            var (i0, i1) = CpuParallel.Range(m, chunks, chunk, mr);
            if (i0 < i1)
                Block(simd, blocking, a, i0, transposeB, i1 - i0, n, k, b, ldb, c + (nint)i0 * ldc, ldc, accumulate, epilogue, CpuScratch.Current, packed);
        });
    }

    /// <summary>
    /// The row chunks a row split over a shared packed B hands out: <see cref="RowPanelsPerChunk"/> panels or more each,
    /// but at least one a part, since fewer chunks than parts leave a thread idle (17 row panels once ran as one chunk on one
    /// thread: ResNet18's 14×14 256→256 convs at batch 1, with their filter packed ahead).
    /// </summary>
    internal static int RowChunks(int parts, int rowPanels) =>
        Math.Min(rowPanels, Math.Max(parts, CpuParallel.Chunks(parts, rowPanels, RowPanelsPerChunk)));

    /// <summary>
    /// Floats that <see cref="PackB"/> writes for a k×n op(B) at <paramref name="simd"/>: every N block padded to whole
    /// micro-kernel panels.
    /// </summary>
    public static long PackedBLength(SimdLevel simd, int k, int n) => PackedBFloats(k, n, GemmMicroKernels.TileShape(simd).NR);

    /// <summary>
    /// Packs op(B) (k×n; stored k×n with <paramref name="ldb"/>, or n×k when <paramref name="transposeB"/>) once into the
    /// layout the GEMM reads under <paramref name="blocking"/>: N blocks, each split into K blocks of NR-wide panels.
    /// A constant B (a conv filter at inference) packed this way is passed to every later product instead of being
    /// packed again; it is only valid for the same SIMD level, blocking and k.
    /// </summary>
    public static void PackB(SimdLevel simd, GemmBlocking blocking, int threads, bool transposeB, float* b, nint ldb, int k, int n, float* packed)
    {
        var (_, nr) = GemmMicroKernels.TileShape(simd);
        var (kc, nc) = Blocks(blocking.Checked(), k, nr);
        int kBlocks = (k + kc - 1) / kc, nBlocks = (n + nc - 1) / nc;
        CpuParallel.ForChunks(Math.Max(1, threads), kBlocks * nBlocks, block =>
        {
            int jc = block / kBlocks * nc, pc = block % kBlocks * kc;
            int width = Math.Min(nc, n - jc), padded = (width + nr - 1) / nr * nr;
            GemmPacking.BPanels(transposeB, b, ldb, pc, jc, Math.Min(kc, k - pc), width, nr, packed + (nint)jc * k + (nint)pc * padded);
        });
    }

    /// <summary>Floats of a whole packed B: every column block padded to whole NR panels.</summary>
    private static long PackedBFloats(int k, int n, int nr) => (long)k * ((n + nr - 1) / nr * nr);

    /// <summary>
    /// The K and N block sizes of one GEMM: K cut into blocks of near-equal depth (multiples of 16, so no shallow
    /// last block pays a full pass over C), N in blocks of whole panels.
    /// </summary>
    private static (int KC, int NC) Blocks(in GemmBlocking blocking, int k, int nr)
    {
        int kBlocks = (k + blocking.KC - 1) / blocking.KC;
        int kc = Math.Min(blocking.KC, ((k + kBlocks - 1) / kBlocks + 15) / 16 * 16);
        return (kc, Math.Max(nr, blocking.NC / nr * nr));
    }

    /// <summary>
    /// The single-threaded blocked GEMM on one sub-problem (k ≥ 1), A coming from any panel source.
    /// Kernels that split the work themselves (conv over pixel rows) call this from inside their own parallel part.
    /// <paramref name="packedB"/>, when given, is a whole B of <paramref name="packedWidth"/> columns (0: <paramref name="n"/>)
    /// packed by <see cref="PackB"/> under the same blocking, of which this sub-problem takes the columns from NR-aligned
    /// <paramref name="packedColumn0"/> on.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static void Block<TA>(SimdLevel simd, in GemmBlocking blocking, in TA a, int aRow0, bool transposeB, int m, int n, int k,
        float* b, nint ldb, float* c, nint ldc, bool accumulate, in GemmEpilogue epilogue, CpuScratch scratch, float* packedB = null,
        int packedColumn0 = 0, int packedWidth = 0)
        where TA : struct, IAPanelSource
    {
        bool kMajorA = a.KMajor;
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        var (KC, NC) = Blocks(blocking, k, nr);
        int MC = Math.Max(mr, blocking.MC / mr * mr);
        float* aPanel = scratch.APanel.Get(GemmMicroKernels.MaxMR * GemmBlocking.PanelStride);
        // B is packed into contiguous NR-wide panels (aligned, so its KC × NC block sits in L2 without set conflicts)
        // unless there are too few A panels to pay for the copy; then an untransposed B is read in place and only its
        // ragged last panel is packed.
        bool packB = packedB != null || transposeB || m >= PackBMinPanels * mr;
        // A B packed ahead is addressed panel by panel in its own layout, so this sub-problem may start inside one of its N blocks.
        int packedN = packedWidth > 0 ? packedWidth : n;

        for (int jc = 0; jc < n; jc += NC)
        {
            int nc = Math.Min(NC, n - jc);
            int fullColumns = nc / nr * nr, paddedColumns = (nc + nr - 1) / nr * nr;
            // Packed once per column block for all of K when that fits (every M block then reuses it), else per K block.
            int mBlocks = (m + MC - 1) / MC;
            bool packWhole = packB && mBlocks > 1 && (long)k * paddedColumns <= PackWholeFloats;
            float* bPacked = packedB != null ? null : scratch.BBlock.Get(packWhole ? (long)k * paddedColumns : (long)KC * paddedColumns);
            if (packWhole && packedB == null)
                for (int pc = 0; pc < k; pc += KC)
                    GemmPacking.BPanels(transposeB, b, ldb, pc, jc, Math.Min(KC, k - pc), nc, nr, bPacked + (nint)pc * paddedColumns);

            // M blocks of near-equal height (whole panels). Inside one, each K block's B block stays in L2 while every
            // A panel of the M block meets it; the C rows of the M block stay in L3 from one K block to the next.
            int blockHeight = ((m + mBlocks - 1) / mBlocks + mr - 1) / mr * mr;
            for (int ic = 0; ic < m; ic += blockHeight)
            {
                int mRows = Math.Min(blockHeight, m - ic);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    float* bBlock = packWhole ? bPacked + (nint)pc * paddedColumns : bPacked;
                    if (packedB == null && packB && !packWhole)
                        GemmPacking.BPanels(transposeB, b, ldb, pc, jc, kc, nc, nr, bBlock);
                    else if (!packB && fullColumns < nc)
                        GemmPacking.BPanels(false, b, ldb, pc, jc + fullColumns, kc, nc - fullColumns, nr, bBlock);

                    bool accumulateTile = accumulate || pc > 0, last = pc + kc == k;
                    for (int ir = ic; ir < ic + mRows; ir += mr)
                    {
                        int rows = Math.Min(mr, ic + mRows - ir);
                        a.Pack(aRow0 + ir, pc, rows, kc, mr, aPanel);

                        float* cRow = c + ir * ldc + jc;
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            float* bPanel;
                            nint bStep;
                            if (packedB != null) { bPanel = PackedPanel(packedB, packedN, k, KC, NC, nr, packedColumn0 + jc + jr, pc); bStep = nr; }
                            else if (packB) { bPanel = bBlock + (nint)jr * kc; bStep = nr; }
                            else if (jr < fullColumns) { bPanel = b + pc * ldb + jc + jr; bStep = ldb; }
                            else { bPanel = bBlock; bStep = nr; }
                            var tileEpilogue = last ? epilogue.Shifted(jc + jr) : GemmEpilogue.None;
                            MicroKernel(simd, kMajorA, kc, aPanel, bPanel, bStep, cRow + jr, ldc, rows, cols, accumulateTile, tileEpilogue);
                        }
                        if (last && !epilogue.InRegisters)
                            for (int r = 0; r < rows; r++)
                                epilogue.ApplyPostPass(new Span<float>(cRow + r * ldc, nc), simd);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The panel of a B packed whole by <see cref="PackB"/> (<paramref name="width"/> columns, depth
    /// <paramref name="k"/>) that starts at NR-aligned <paramref name="column"/> and K block <paramref name="pc"/>:
    /// N blocks of <paramref name="nc"/> columns lie one after the other, each as K blocks of its NR-wide panels.
    /// </summary>
    private static float* PackedPanel(float* packed, int width, int k, int kcMax, int nc, int nr, int column, int pc)
    {
        int block = column / nc * nc, padded = (Math.Min(nc, width - block) + nr - 1) / nr * nr;
        return packed + (nint)block * k + (nint)pc * padded + (nint)(column - block) * Math.Min(kcMax, k - pc);
    }

    private static void MicroKernel(SimdLevel simd, bool kMajorA, int kc, float* a, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, bool accumulate, in GemmEpilogue ep)
    {
        if (simd == SimdLevel.Avx512 && rows <= 2 * GemmMicroKernels.Avx512ShortMR)
        {
            // An edge panel of 1–8 rows: one or two short tiles instead of a full 12-row one.
            const int Short = GemmMicroKernels.Avx512ShortMR;
            nint rowStep = kMajorA ? KMajorPanel.RowStep(GemmMicroKernels.Avx512MR) : RowPanel.RowStep(GemmMicroKernels.Avx512MR);
            for (int r0 = 0; r0 < rows; r0 += Short)
            {
                int part = Math.Min(Short, rows - r0);
                float* aPart = a + r0 * rowStep;
                if (kMajorA) GemmMicroKernels.Avx512Short<KMajorPanel>(kc, aPart, b, ldb, c + r0 * ldc, ldc, part, cols, accumulate, ep);
                else GemmMicroKernels.Avx512Short<RowPanel>(kc, aPart, b, ldb, c + r0 * ldc, ldc, part, cols, accumulate, ep);
            }
            return;
        }
        if (simd == SimdLevel.Avx2 && rows <= GemmMicroKernels.Avx2ShortMR)
        {
            // An edge panel of 1–3 rows: a 3-row tile instead of a full 6-row one.
            if (kMajorA) GemmMicroKernels.Avx2Short<KMajorPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep);
            else GemmMicroKernels.Avx2Short<RowPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep);
            return;
        }
        switch (simd)
        {
            case SimdLevel.Avx512 when kMajorA: GemmMicroKernels.Avx512<KMajorPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep); break;
            case SimdLevel.Avx512: GemmMicroKernels.Avx512<RowPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep); break;
            case SimdLevel.Avx2 when kMajorA: GemmMicroKernels.Avx2<KMajorPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep); break;
            case SimdLevel.Avx2: GemmMicroKernels.Avx2<RowPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep); break;
            case SimdLevel.Scalar when kMajorA: GemmMicroKernels.Scalar<KMajorPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep); break;
            default: GemmMicroKernels.Scalar<RowPanel>(kc, a, b, ldb, c, ldc, rows, cols, accumulate, ep); break;
        }
    }

    /// <summary>k = 0: the product is empty, so C = act([C] + bias).</summary>
    private static void EmptySum(int m, int n, float* c, int ldc, bool accumulate, in GemmEpilogue ep, SimdLevel simd)
    {
        for (int i = 0; i < m; i++)
        {
            float* rowStart = c + (nint)i * ldc;
            var row = new Span<float>(rowStart, n);
            if (!accumulate) row.Clear();
            for (int j = 0; j < n; j++)
            {
                float x = ep.Bias == null ? row[j] : row[j] + ep.Bias[j];
                if (ep.HasResidual) x += rowStart[j + ep.ResidualOffset];
                row[j] = ep.ApplyInRegisterKind(x);
            }
            ep.ApplyPostPass(row, simd);
        }
    }

    private static void CheckArguments(bool transposeA, bool transposeB, int m, int n, int k, int lda, int ldb, int ldc, int threads)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"CpuGemm: sizes must be non-negative, got m={m}, n={n}, k={k}.");
        if (threads <= 0)
            throw new ArgumentOutOfRangeException(nameof(threads), $"CpuGemm: needs at least one thread, got {threads}.");
        int aWidth = transposeA ? m : k, bWidth = transposeB ? k : n;
        if (lda < Math.Max(1, aWidth) || ldb < Math.Max(1, bWidth) || ldc < Math.Max(1, n))
            throw new ArgumentException($"CpuGemm: leading dimensions lda={lda}, ldb={ldb}, ldc={ldc} are narrower than the rows they stride " +
                $"(A {(transposeA ? "k×m" : "m×k")} row width {aWidth}, B {(transposeB ? "n×k" : "k×n")} row width {bWidth}, C row width {n}).");
    }
}
