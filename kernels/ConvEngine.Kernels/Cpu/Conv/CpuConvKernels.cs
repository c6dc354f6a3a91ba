using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Fast forward convolutions (NHWC input, HWIO filter). The output of one group is a GEMM:
/// (pixels × KH·KW·C/groups) column matrix · (KH·KW·C/groups × OC/groups) filter slice, which
/// <c>ImplicitGemm</c> gathers while packing and <c>Im2colGemm</c> stores first.
/// Both make one parallel split over the batch×pixel rows (over output-channel panels when that
/// leaves the busiest thread fewer tiles), read the filter in place as the GEMM's B, and fuse
/// bias and activation into the GEMM epilogue. Depthwise convs have their own direct kernel.
/// </summary>
internal static unsafe class CpuConvKernels
{
    /// <summary>
    /// im2col rows a thread builds at a time: about 1 MiB, but never fewer than 192,
    /// since every row block streams the whole filter once.
    /// </summary>
    private const int ColumnBlockBytes = 1 << 20;
    private const int MaxBlockRows = 768, MinBlockRows = 192;
    private const long SerialWork = 1L << 18;

    /// <summary>
    /// What gathering one A panel through the im2col costs next to one tile (bounds checks and up to KH·KW separate
    /// runs per row): twice a plain copy's, which keeps every 3×3 conv of 64 or fewer output channels split by rows.
    /// </summary>
    private const double Im2colPanelPackTiles = 2 * CpuParallel.DefaultPanelPackTiles;

    /// <summary>What packing the filter's B panels costs each part: nothing when it was packed ahead.</summary>
    private static double PackTiles(float* packedFilter) => packedFilter != null ? 0 : CpuParallel.DefaultPanelPackTiles;

    /// <summary>A 1×1, stride-1, unpadded conv: its column matrix is the NHWC input itself (row stride C).</summary>
    public static bool IsPointwise(in Conv2DGeometry g) => g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1
        && g.PadTop == 0 && g.PadBottom == 0 && g.PadLeft == 0 && g.PadRight == 0;

    /// <summary>True when the direct depthwise kernel applies: every group has one input channel.</summary>
    public static bool IsDepthwise(in Conv2DGeometry g) => g.Groups == g.C && g.Groups > 1;

    /// <summary>
    /// The textbook (Darknet) way, variant "im2col-gemm": each thread writes CpuIm2Col rows for a
    /// block of output pixels into its scratch (about 1 MiB, so memory stays bounded for any input),
    /// then runs the blocked GEMM on them for every group. A 1×1, stride-1, unpadded conv skips
    /// im2col: the NHWC input already is the column matrix.
    /// </summary>
    public static void Im2colGemm(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, KernelActivation activation) =>
        Im2colGemm(simd, GemmBlocking.Default(simd), threads, input, filter, null, bias, ConvTarget.Compact(output, g), g, activation);

    /// <summary>
    /// <see cref="Im2colGemm(SimdLevel, int, float*, float*, float*, float*, Conv2DGeometry, KernelActivation)"/> with an explicit
    /// GEMM blocking, optionally a filter packed by <see cref="PackFilter"/> under that blocking (then
    /// <paramref name="filter"/> is not read), and an output <paramref name="target"/>.
    /// </summary>
    public static void Im2colGemm(SimdLevel simd, GemmBlocking blocking, int threads, float* input, float* filter, float* packedFilter, float* bias,
        ConvTarget target, Conv2DGeometry g, KernelActivation activation)
    {
        int k = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, cg = g.InChannelsPerGroup;
        int rows = g.N * g.OH * g.OW;
        if (rows == 0 || ocg == 0) return;
        bool pointwise = IsPointwise(g);
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        int blockRows = Math.Clamp(ColumnBlockBytes / (k * sizeof(float)) / mr * mr, MinBlockRows / mr * mr, MaxBlockRows);

        // A column split repeats the im2col (gathered into a buffer, then packed) in every part.
        int rowPanels = (rows + mr - 1) / mr, columnPanels = (ocg + nr - 1) / nr;
        long work = (long)rows * g.OC * k;
        var (splitRows, parts) = CpuParallel.TileSplit(rowPanels, columnPanels, CpuParallel.Parts(threads, work, SerialWork),
            pointwise ? CpuParallel.DefaultPanelPackTiles : Im2colPanelPackTiles + CpuParallel.DefaultPanelPackTiles, PackTiles(packedFilter));
        long inputLength = (long)g.N * g.H * g.W * g.C, groupPacked = CpuGemm.PackedBLength(simd, k, ocg);
        int stride = target.Stride;

        CpuParallel.For(parts, part =>
        {
            var scratch = CpuScratch.Current;
            var (r0, r1) = splitRows ? CpuParallel.Range(rows, parts, part, mr) : (0, rows);
            var (j0, j1) = splitRows ? (0, ocg) : CpuParallel.Range(ocg, parts, part, nr);
            if (r0 >= r1 || j0 >= j1) return;
            float* columns = pointwise ? null : scratch.Columns.Get((long)blockRows * k);
            var source = new ReadOnlySpan<float>(input, checked((int)inputLength));
            for (int rb = r0; rb < r1; rb += blockRows)
            {
                int count = Math.Min(blockRows, r1 - rb);
                for (int group = 0; group < g.Groups; group++)
                {
                    float* a;
                    nint lda;
                    if (pointwise)
                    {
                        a = input + (nint)rb * g.C + group * cg;
                        lda = g.C;
                    }
                    else
                    {
                        ColumnRows(source, columns, g, group, rb, count);
                        a = columns;
                        lda = k;
                    }
                    int column0 = group * ocg + j0;
                    float* c = target.Output + (nint)rb * stride + column0;
                    var epilogue = target.Epilogue(bias == null ? null : bias + column0, activation);
                    CpuGemm.Block(simd, blocking, new RowMajorA(a, lda), 0, false, count, j1 - j0, k, filter == null ? null : filter + column0, g.OC,
                        c, stride, false, epilogue, scratch, packedFilter == null ? null : packedFilter + group * groupPacked, j0, ocg);
                }
            }
        });
    }

    /// <summary>
    /// The default, variant "implicit-gemm": im2col fused into the GEMM's A packing. Each A panel
    /// (MR output pixels × one K block) is gathered straight from the NHWC input by
    /// <see cref="Im2colPanels"/>, so no column matrix is stored and each value is copied once
    /// instead of twice (measured 5–10% faster than <see cref="Im2colGemm(SimdLevel, int, float*, float*, float*, float*, Conv2DGeometry, KernelActivation)"/> on VGG16 layers).
    /// </summary>
    public static void ImplicitGemm(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, KernelActivation activation) =>
        ImplicitGemm(simd, GemmBlocking.Default(simd), threads, input, filter, null, bias, ConvTarget.Compact(output, g), g, activation);

    /// <summary>
    /// <see cref="ImplicitGemm(SimdLevel, int, float*, float*, float*, float*, Conv2DGeometry, KernelActivation)"/> with an explicit
    /// GEMM blocking, optionally a filter packed by <see cref="PackFilter"/> under that blocking (then
    /// <paramref name="filter"/> is not read), and an output <paramref name="target"/>.
    /// </summary>
    public static void ImplicitGemm(SimdLevel simd, GemmBlocking blocking, int threads, float* input, float* filter, float* packedFilter, float* bias,
        ConvTarget target, Conv2DGeometry g, KernelActivation activation)
    {
        int k = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, cg = g.InChannelsPerGroup;
        int rows = g.N * g.OH * g.OW;
        if (rows == 0 || ocg == 0) return;
        int stride = target.Stride;
        if (g.Groups == 1)
        {
            // One GEMM: its parallel driver shares one packed filter between the threads and balances row chunks.
            var epilogue = target.Epilogue(bias, activation);
            if (IsPointwise(g))
                CpuGemm.Parallel(simd, blocking, threads, new RowMajorA(input, g.C), false, rows, g.OC, k, filter, g.OC, target.Output, stride, false, epilogue,
                    prepackedB: packedFilter);
            else
                CpuGemm.Parallel(simd, blocking, threads, new Im2colPanels(input, g, 0, 0), false, rows, g.OC, k, filter, g.OC, target.Output, stride, false, epilogue,
                    aPanelPackTiles: Im2colPanelPackTiles, prepackedB: packedFilter);
            return;
        }
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        int rowPanels = (rows + mr - 1) / mr, columnPanels = (ocg + nr - 1) / nr;
        var (splitRows, parts) = CpuParallel.TileSplit(rowPanels, columnPanels, CpuParallel.Parts(threads, (long)rows * g.OC * k, SerialWork),
            Im2colPanelPackTiles, PackTiles(packedFilter));
        long groupPacked = CpuGemm.PackedBLength(simd, k, ocg);

        CpuParallel.For(parts, part =>
        {
            var scratch = CpuScratch.Current;
            var (r0, r1) = splitRows ? CpuParallel.Range(rows, parts, part, mr) : (0, rows);
            var (j0, j1) = splitRows ? (0, ocg) : CpuParallel.Range(ocg, parts, part, nr);
            if (r0 >= r1 || j0 >= j1) return;
            for (int group = 0; group < g.Groups; group++)
            {
                int column0 = group * ocg + j0;
                float* c = target.Output + (nint)r0 * stride + column0;
                var epilogue = target.Epilogue(bias == null ? null : bias + column0, activation);
                float* b = filter == null ? null : filter + column0, packed = packedFilter == null ? null : packedFilter + group * groupPacked;
                if (IsPointwise(g))
                    CpuGemm.Block(simd, blocking, new RowMajorA(input + (nint)r0 * g.C + group * cg, g.C), 0, false, r1 - r0, j1 - j0, k,
                        b, g.OC, c, stride, false, epilogue, scratch, packed, j0, ocg);
                else
                    CpuGemm.Block(simd, blocking, new Im2colPanels(input, g, group, r0), 0, false, r1 - r0, j1 - j0, k,
                        b, g.OC, c, stride, false, epilogue, scratch, packed, j0, ocg);
            }
        });
    }

    /// <summary>Floats <see cref="PackFilter"/> writes for <paramref name="g"/>'s filter at <paramref name="simd"/>.</summary>
    public static long PackedFilterLength(SimdLevel simd, in Conv2DGeometry g) =>
        g.Groups * CpuGemm.PackedBLength(simd, CpuIm2Col.RowLength(g), g.OutChannelsPerGroup);

    /// <summary>
    /// Packs an HWIO filter once, group by group, into the GEMM's B layout under <paramref name="blocking"/>, for convs
    /// that run it many times (inference plans); both GEMM variants take it in place of the filter.
    /// </summary>
    public static void PackFilter(SimdLevel simd, GemmBlocking blocking, int threads, float* filter, Conv2DGeometry g, float* packed)
    {
        int k = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup;
        long groupPacked = CpuGemm.PackedBLength(simd, k, ocg);
        for (int group = 0; group < g.Groups; group++)
            CpuGemm.PackB(simd, blocking, threads, false, filter + group * ocg, g.OC, k, ocg, packed + group * groupPacked);
    }

    /// <summary>im2col of global rows [row0, row0+count) (batch×pixel order), split where a block crosses into the next image.</summary>
    private static void ColumnRows(ReadOnlySpan<float> input, float* columns, in Conv2DGeometry g, int group, int row0, int count)
    {
        int pixels = g.OH * g.OW, k = CpuIm2Col.RowLength(g);
        for (int done = 0; done < count;)
        {
            int row = row0 + done, image = row / pixels, pixel = row % pixels;
            int run = Math.Min(count - done, pixels - pixel);
            CpuIm2Col.Im2Col(input, new Span<float>(columns + (nint)done * k, run * k), g, image, group, pixel, run);
            done += run;
        }
    }

    /// <summary>
    /// Depthwise conv (groups = C, OC = C·multiplier) without im2col. A per-group GEMM would have N = multiplier
    /// columns, almost all tile padding, so this is what <see cref="CpuBackend"/> runs for depthwise convs.
    /// Multiplier 1: for each output row and each vector of channels, four output pixels at a time sum their taps
    /// (four independent FMA chains, so the FMA latency is hidden; the filter vector is loaded once per tap for all
    /// four), with the bounds checks left to the border pixels. Multiplier &gt; 1: one output channel at a time.
    /// Parallel over chunks of (image, output row).
    /// </summary>
    public static void DepthwiseDirect(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, KernelActivation activation) =>
        DepthwiseDirect(simd, threads, input, filter, bias, ConvTarget.Compact(output, g), g, activation);

    /// <summary><see cref="DepthwiseDirect(SimdLevel, int, float*, float*, float*, float*, Conv2DGeometry, KernelActivation)"/> into an output <paramref name="target"/>.</summary>
    public static void DepthwiseDirect(SimdLevel simd, int threads, float* input, float* filter, float* bias, ConvTarget target,
        Conv2DGeometry g, KernelActivation activation)
    {
        if (g.Groups != g.C)
            throw new ArgumentException($"DepthwiseDirect: needs groups = input channels, got groups {g.Groups} with {g.C} channels.");
        int rowCount = g.N * g.OH, windowSize = g.KH * g.KW;
        long work = (long)rowCount * g.OW * g.OC * windowSize;
        int parts = Math.Min(rowCount, CpuParallel.Parts(threads, work, SerialWork));
        int chunks = parts == 1 ? 1 : Math.Min(rowCount, 4 * parts);
        // Output columns whose every tap is inside the input horizontally: [jStart, jEnd).
        int jStart = Math.Min(g.OW, (g.PadLeft + g.StrideW - 1) / g.StrideW);
        int jEnd = Math.Max(jStart, Math.Min(g.OW, (g.W - 1 - (g.KW - 1) * g.DilationW + g.PadLeft) / g.StrideW + 1));
        if (g.W - 1 - (g.KW - 1) * g.DilationW + g.PadLeft < 0) jEnd = jStart;
        CpuParallel.ForChunks(parts, chunks, chunk =>
        {
            var (r0, r1) = CpuParallel.Range(rowCount, chunks, chunk);
            for (int row = r0; row < r1; row++)
            {
                int b = row / g.OH, i = row % g.OH;
                if (g.OC == g.C) DepthwiseRow(simd, input, filter, bias, target, g, activation, b, i, jStart, jEnd);
                else MultiplierRow(input, filter, bias, target, g, activation, b, i);
            }
        });
    }

    /// <summary>One output row of a multiplier-1 depthwise conv, channel vector by channel vector.</summary>
    private static void DepthwiseRow(SimdLevel simd, float* input, float* filter, float* bias, in ConvTarget target, in Conv2DGeometry g,
        KernelActivation activation, int b, int i, int jStart, int jEnd)
    {
        int channels = g.C, ihBase = i * g.StrideH - g.PadTop;
        // Kernel rows inside the input for this output row.
        int p0 = 0, p1 = g.KH;
        while (p0 < p1 && ihBase + p0 * g.DilationH < 0) p0++;
        while (p1 > p0 && ihBase + (p1 - 1) * g.DilationH >= g.H) p1--;
        float* image = input + (nint)b * g.H * g.W * channels;
        nint rowOffset = ((nint)b * g.OH + i) * g.OW;
        int c = 0;
        if (simd == SimdLevel.Avx512 && channels >= 16)
        {
            c = channels / 16 * 16;
            DepthwiseVectors512(image, filter, bias, target, g, activation, rowOffset, ihBase, p0, p1, jStart, jEnd, 0, c);
        }
        if (simd >= SimdLevel.Avx2 && channels - c >= 8)
        {
            int end = c + (channels - c) / 8 * 8;
            DepthwiseVectors256(image, filter, bias, target, g, activation, rowOffset, ihBase, p0, p1, jStart, jEnd, c, end);
            c = end;
        }
        // The vector stores apply the activations that are a compare and a blend; sigmoid and tanh run over the row after.
        if (c > 0 && activation.Kind is ActivationKind.Sigmoid or ActivationKind.Tanh)
            for (int j = 0; j < g.OW; j++)
            {
                var pixel = new Span<float>(target.Output + (rowOffset + j) * target.Stride, c);
                CpuElementwiseKernels.Activate(pixel, pixel, activation, simd);
            }
        for (; c < channels; c++)
            for (int j = 0; j < g.OW; j++)
            {
                float acc = bias == null ? 0f : bias[c];
                for (int p = p0; p < p1; p++)
                {
                    int ih = ihBase + p * g.DilationH;
                    for (int q = 0; q < g.KW; q++)
                    {
                        int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                        if ((uint)iw < (uint)g.W) acc += image[((nint)ih * g.W + iw) * channels + c] * filter[(p * g.KW + q) * channels + c];
                    }
                }
                float* dst = target.Output + (rowOffset + j) * target.Stride + c;
                if (target.Residual != null) acc += target.Residual[(rowOffset + j) * target.Stride + c];
                *dst = activation.Apply(acc);
            }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void DepthwiseVectors256(float* image, float* filter, float* bias, in ConvTarget target, in Conv2DGeometry g,
        KernelActivation activation, nint rowOffset, int ihBase, int p0, int p1, int jStart, int jEnd, int cStart, int cEnd)
    {
        int channels = g.C, kw = g.KW;
        nint pixelStride = (nint)g.StrideW * channels, tapStride = (nint)g.DilationW * channels;
        bool rowOf3 = kw == 3 && g.StrideW == 1 && g.DilationW == 1;
        for (int j = 0; j < g.OW;)
        {
            if (j >= jStart && j + 4 <= jEnd)
            {
                // Four pixels, every tap in bounds, for each channel vector in turn: the pixels' inputs (all their channels) stay in L1.
                for (int c = cStart; c < cEnd; c += 8)
                {
                    var initial = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + c);
                    Vector256<float> a0 = initial, a1 = initial, a2 = initial, a3 = initial;
                    for (int p = p0; p < p1; p++)
                    {
                        float* src = image + ((nint)(ihBase + p * g.DilationH) * g.W + j * g.StrideW - g.PadLeft) * channels + c;
                        float* f = filter + (nint)p * kw * channels + c;
                        if (rowOf3)
                        {
                            // Three taps a row, stride 1: the four pixels share their inputs, so six loads serve twelve FMAs
                            // (in the same order as the general loop, so the sums are the same to the bit).
                            Vector256<float> w0 = Vector256.Load(f), w1 = Vector256.Load(f + channels), w2 = Vector256.Load(f + 2 * channels);
                            Vector256<float> x0 = Vector256.Load(src), x1 = Vector256.Load(src + channels), x2 = Vector256.Load(src + 2 * channels);
                            Vector256<float> x3 = Vector256.Load(src + 3 * channels), x4 = Vector256.Load(src + 4 * channels), x5 = Vector256.Load(src + 5 * channels);
                            a0 = Fma.MultiplyAdd(x2, w2, Fma.MultiplyAdd(x1, w1, Fma.MultiplyAdd(x0, w0, a0)));
                            a1 = Fma.MultiplyAdd(x3, w2, Fma.MultiplyAdd(x2, w1, Fma.MultiplyAdd(x1, w0, a1)));
                            a2 = Fma.MultiplyAdd(x4, w2, Fma.MultiplyAdd(x3, w1, Fma.MultiplyAdd(x2, w0, a2)));
                            a3 = Fma.MultiplyAdd(x5, w2, Fma.MultiplyAdd(x4, w1, Fma.MultiplyAdd(x3, w0, a3)));
                            continue;
                        }
                        for (int q = 0; q < kw; q++, src += tapStride, f += channels)
                        {
                            var w = Vector256.Load(f);
                            a0 = Fma.MultiplyAdd(Vector256.Load(src), w, a0);
                            a1 = Fma.MultiplyAdd(Vector256.Load(src + pixelStride), w, a1);
                            a2 = Fma.MultiplyAdd(Vector256.Load(src + 2 * pixelStride), w, a2);
                            a3 = Fma.MultiplyAdd(Vector256.Load(src + 3 * pixelStride), w, a3);
                        }
                    }
                    Store256(target, rowOffset + j, c, a0, activation);
                    Store256(target, rowOffset + j + 1, c, a1, activation);
                    Store256(target, rowOffset + j + 2, c, a2, activation);
                    Store256(target, rowOffset + j + 3, c, a3, activation);
                }
                j += 4;
                continue;
            }
            for (int c = cStart; c < cEnd; c += 8)
            {
                var acc = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + c);
                for (int p = p0; p < p1; p++)
                {
                    int ih = ihBase + p * g.DilationH;
                    for (int q = 0; q < kw; q++)
                    {
                        int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                        if ((uint)iw < (uint)g.W)
                            acc = Fma.MultiplyAdd(Vector256.Load(image + ((nint)ih * g.W + iw) * channels + c), Vector256.Load(filter + (p * kw + q) * channels + c), acc);
                    }
                }
                Store256(target, rowOffset + j, c, acc, activation);
            }
            j++;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void DepthwiseVectors512(float* image, float* filter, float* bias, in ConvTarget target, in Conv2DGeometry g,
        KernelActivation activation, nint rowOffset, int ihBase, int p0, int p1, int jStart, int jEnd, int cStart, int cEnd)
    {
        int channels = g.C, kw = g.KW;
        nint pixelStride = (nint)g.StrideW * channels, tapStride = (nint)g.DilationW * channels;
        bool rowOf3 = kw == 3 && g.StrideW == 1 && g.DilationW == 1;
        for (int j = 0; j < g.OW;)
        {
            if (j >= jStart && j + 4 <= jEnd)
            {
                // Four pixels, every tap in bounds, for each channel vector in turn: the pixels' inputs (all their channels) stay in L1.
                for (int c = cStart; c < cEnd; c += 16)
                {
                    var initial = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + c);
                    Vector512<float> a0 = initial, a1 = initial, a2 = initial, a3 = initial;
                    for (int p = p0; p < p1; p++)
                    {
                        float* src = image + ((nint)(ihBase + p * g.DilationH) * g.W + j * g.StrideW - g.PadLeft) * channels + c;
                        float* f = filter + (nint)p * kw * channels + c;
                        if (rowOf3)
                        {
                            // Three taps a row, stride 1: the four pixels share their inputs, so six loads serve twelve FMAs
                            // (in the same order as the general loop, so the sums are the same to the bit).
                            Vector512<float> w0 = Vector512.Load(f), w1 = Vector512.Load(f + channels), w2 = Vector512.Load(f + 2 * channels);
                            Vector512<float> x0 = Vector512.Load(src), x1 = Vector512.Load(src + channels), x2 = Vector512.Load(src + 2 * channels);
                            Vector512<float> x3 = Vector512.Load(src + 3 * channels), x4 = Vector512.Load(src + 4 * channels), x5 = Vector512.Load(src + 5 * channels);
                            a0 = Avx512F.FusedMultiplyAdd(x2, w2, Avx512F.FusedMultiplyAdd(x1, w1, Avx512F.FusedMultiplyAdd(x0, w0, a0)));
                            a1 = Avx512F.FusedMultiplyAdd(x3, w2, Avx512F.FusedMultiplyAdd(x2, w1, Avx512F.FusedMultiplyAdd(x1, w0, a1)));
                            a2 = Avx512F.FusedMultiplyAdd(x4, w2, Avx512F.FusedMultiplyAdd(x3, w1, Avx512F.FusedMultiplyAdd(x2, w0, a2)));
                            a3 = Avx512F.FusedMultiplyAdd(x5, w2, Avx512F.FusedMultiplyAdd(x4, w1, Avx512F.FusedMultiplyAdd(x3, w0, a3)));
                            continue;
                        }
                        for (int q = 0; q < kw; q++, src += tapStride, f += channels)
                        {
                            var w = Vector512.Load(f);
                            a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(src), w, a0);
                            a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(src + pixelStride), w, a1);
                            a2 = Avx512F.FusedMultiplyAdd(Vector512.Load(src + 2 * pixelStride), w, a2);
                            a3 = Avx512F.FusedMultiplyAdd(Vector512.Load(src + 3 * pixelStride), w, a3);
                        }
                    }
                    Store512(target, rowOffset + j, c, a0, activation);
                    Store512(target, rowOffset + j + 1, c, a1, activation);
                    Store512(target, rowOffset + j + 2, c, a2, activation);
                    Store512(target, rowOffset + j + 3, c, a3, activation);
                }
                j += 4;
                continue;
            }
            for (int c = cStart; c < cEnd; c += 16)
            {
                var acc = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + c);
                for (int p = p0; p < p1; p++)
                {
                    int ih = ihBase + p * g.DilationH;
                    for (int q = 0; q < kw; q++)
                    {
                        int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                        if ((uint)iw < (uint)g.W)
                            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(image + ((nint)ih * g.W + iw) * channels + c), Vector512.Load(filter + (p * kw + q) * channels + c), acc);
                    }
                }
                Store512(target, rowOffset + j, c, acc, activation);
            }
            j++;
        }
    }

    /// <summary>
    /// Adds the residual, applies the activation when it is a compare and a blend (sigmoid and tanh are left to a pass
    /// over the row: a call here would make the JIT keep the other accumulators in memory) and stores 8 channels of one pixel.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Store256(in ConvTarget target, nint pixel, int c, Vector256<float> acc, KernelActivation activation)
    {
        nint at = pixel * target.Stride + c;
        if (target.Residual != null) acc += Vector256.Load(target.Residual + at);
        acc = activation.Kind switch
        {
            ActivationKind.None => acc,
            ActivationKind.Relu => Vector256.ConditionalSelect(Vector256.GreaterThan(acc, Vector256<float>.Zero), acc, Vector256<float>.Zero),
            ActivationKind.LeakyRelu => Vector256.ConditionalSelect(Vector256.GreaterThan(acc, Vector256<float>.Zero), acc, acc * Vector256.Create(activation.Alpha)),
            _ => acc,
        };
        acc.Store(target.Output + at);
    }

    /// <summary>The 16-channel twin of <see cref="Store256"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Store512(in ConvTarget target, nint pixel, int c, Vector512<float> acc, KernelActivation activation)
    {
        nint at = pixel * target.Stride + c;
        if (target.Residual != null) acc += Vector512.Load(target.Residual + at);
        acc = activation.Kind switch
        {
            ActivationKind.None => acc,
            ActivationKind.Relu => Vector512.ConditionalSelect(Vector512.GreaterThan(acc, Vector512<float>.Zero), acc, Vector512<float>.Zero),
            ActivationKind.LeakyRelu => Vector512.ConditionalSelect(Vector512.GreaterThan(acc, Vector512<float>.Zero), acc, acc * Vector512.Create(activation.Alpha)),
            _ => acc,
        };
        acc.Store(target.Output + at);
    }

    /// <summary>Depth multiplier &gt; 1: output channel o reads input channel o / multiplier.</summary>
    private static void MultiplierRow(float* input, float* filter, float* bias, in ConvTarget target, in Conv2DGeometry g, KernelActivation activation, int b, int i)
    {
        int multiplier = g.OC / g.C;
        nint rowOffset = ((nint)b * g.OH + i) * g.OW;
        for (int j = 0; j < g.OW; j++)
            for (int o = 0; o < g.OC; o++)
            {
                int c = o / multiplier;
                float acc = bias == null ? 0f : bias[o];
                for (int p = 0; p < g.KH; p++)
                {
                    int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                    if ((uint)ih >= (uint)g.H) continue;
                    for (int q = 0; q < g.KW; q++)
                    {
                        int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                        if ((uint)iw < (uint)g.W) acc += input[(((nint)b * g.H + ih) * g.W + iw) * g.C + c] * filter[(p * g.KW + q) * g.OC + o];
                    }
                }
                nint at = (rowOffset + j) * target.Stride + o;
                if (target.Residual != null) acc += target.Residual[at];
                target.Output[at] = activation.Apply(acc);
            }
    }
}

/// <summary>
/// A panels of a conv's column matrix, gathered from the NHWC input as they are packed. Row r is
/// output pixel r of the batch (image, oh, ow); column (p·KW + q)·Cg + c is input channel
/// group·Cg + c under tap (p, q), or 0 where the tap lands in the padding: the layout
/// <see cref="CpuIm2Col"/> defines. A K block may start or end inside a tap's channel run.
/// </summary>
internal readonly unsafe struct Im2colPanels(float* input, Conv2DGeometry g, int group, int rowStart) : IAPanelSource
{
    public bool KMajor => false;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Pack(int i0, int k0, int rows, int kc, int mr, float* panel)
    {
        int cg = g.InChannelsPerGroup, pixels = g.OH * g.OW;
        int row = rowStart + i0, image = row / pixels, pixel = row % pixels;
        int oh = pixel / g.OW, ow = pixel % g.OW;
        int firstTap = k0 / cg, firstChannel = k0 - firstTap * cg;
        for (int r = 0; r < rows; r++)
        {
            float* dst = panel + r * (nint)GemmBlocking.PanelStride;
            float* imageBase = input + (nint)image * g.H * g.W * g.C + group * cg;
            int ihBase = oh * g.StrideH - g.PadTop, iwBase = ow * g.StrideW - g.PadLeft;
            int p = firstTap / g.KW, q = firstTap - p * g.KW, c = firstChannel;
            for (int left = kc; left > 0;)
            {
                int run = Math.Min(cg - c, left);
                int ih = ihBase + p * g.DilationH, iw = iwBase + q * g.DilationW;
                if ((uint)ih < (uint)g.H && (uint)iw < (uint)g.W) CopyRun(dst, imageBase + ((nint)ih * g.W + iw) * g.C + c, run);
                else new Span<float>(dst, run).Clear();
                dst += run;
                left -= run;
                c = 0;
                if (++q == g.KW) { q = 0; p++; }
            }
            if (++ow == g.OW) { ow = 0; if (++oh == g.OH) { oh = 0; image++; } }
        }
        for (int r = rows; r < mr; r++)
            new Span<float>(panel + r * (nint)GemmBlocking.PanelStride, kc).Clear();
    }

    /// <summary>A few floats (the 3 channels of an RGB tap) are cheaper to move one by one than through memmove.</summary>
    private static void CopyRun(float* dst, float* src, int count)
    {
        if (count <= 8)
            for (int i = 0; i < count; i++) dst[i] = src[i];
        else
            System.Runtime.CompilerServices.Unsafe.CopyBlockUnaligned(dst, src, (uint)count * sizeof(float));
    }
}

/// <summary>
/// Where a conv writes its output (NHWC rows of <see cref="Stride"/> floats, so a conv can write straight into its
/// channels of a concatenation) and an optional residual added before the activation (laid out like the output,
/// e.g. a ResNet shortcut): output = act(conv + bias + residual).
/// </summary>
internal readonly unsafe struct ConvTarget
{
    public ConvTarget(float* output, int stride, float* residual = null)
    {
        Output = output;
        Stride = stride;
        Residual = residual;
    }

    /// <summary>The first output channel of the first pixel.</summary>
    public float* Output { get; }
    /// <summary>Floats from one output pixel to the next (the conv's OC when compact).</summary>
    public int Stride { get; }
    /// <summary>Added to the output before the activation, with the output's stride; null for none.</summary>
    public float* Residual { get; }

    /// <summary>A compact output of <paramref name="g"/>'s shape, nothing added.</summary>
    public static ConvTarget Compact(float* output, in Conv2DGeometry g) => new(output, g.OC);

    /// <summary>The GEMM epilogue: bias and activation, and the residual at the same offset from every output element.</summary>
    internal GemmEpilogue Epilogue(float* bias, KernelActivation activation) =>
        Residual == null ? new GemmEpilogue(bias, activation) : new GemmEpilogue(bias, activation, (nint)(Residual - Output));
}
