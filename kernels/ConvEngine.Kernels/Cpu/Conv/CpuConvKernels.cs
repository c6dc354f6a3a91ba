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
        Im2colGemm(simd, GemmBlocking.Default(simd), threads, input, filter, bias, output, g, activation);

    /// <summary><see cref="Im2colGemm(SimdLevel, int, float*, float*, float*, float*, Conv2DGeometry, KernelActivation)"/> with an explicit GEMM blocking.</summary>
    public static void Im2colGemm(SimdLevel simd, GemmBlocking blocking, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, KernelActivation activation)
    {
        int k = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, cg = g.InChannelsPerGroup;
        int rows = g.N * g.OH * g.OW;
        if (rows == 0 || ocg == 0) return;
        bool pointwise = IsPointwise(g);
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        int blockRows = Math.Clamp(ColumnBlockBytes / (k * sizeof(float)) / mr * mr, MinBlockRows / mr * mr, MaxBlockRows);

        // A column split repeats the im2col in every part, so it must save a clear margin of tiles.
        int rowPanels = (rows + mr - 1) / mr, columnPanels = (ocg + nr - 1) / nr;
        long work = (long)rows * g.OC * k;
        var (splitRows, parts) = CpuParallel.TileSplit(rowPanels, columnPanels, CpuParallel.Parts(threads, work, SerialWork), pointwise ? 1.0 : 1.05);
        long inputLength = (long)g.N * g.H * g.W * g.C;

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
                    var epilogue = new GemmEpilogue(bias == null ? null : bias + column0, activation);
                    CpuGemm.Block(simd, blocking, new RowMajorA(a, lda), 0, false, count, j1 - j0, k, filter + column0, g.OC,
                        output + (nint)rb * g.OC + column0, g.OC, false, epilogue, scratch);
                }
            }
        });
    }

    /// <summary>
    /// The default, variant "implicit-gemm": im2col fused into the GEMM's A packing. Each A panel
    /// (MR output pixels × one K block) is gathered straight from the NHWC input by
    /// <see cref="Im2colPanels"/>, so no column matrix is stored and each value is copied once
    /// instead of twice (measured 5–10% faster than <c>Im2colGemm</c> on VGG16 layers).
    /// </summary>
    public static void ImplicitGemm(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, KernelActivation activation) =>
        ImplicitGemm(simd, GemmBlocking.Default(simd), threads, input, filter, bias, output, g, activation);

    /// <summary><see cref="ImplicitGemm(SimdLevel, int, float*, float*, float*, float*, Conv2DGeometry, KernelActivation)"/> with an explicit GEMM blocking.</summary>
    public static void ImplicitGemm(SimdLevel simd, GemmBlocking blocking, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, KernelActivation activation)
    {
        int k = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, cg = g.InChannelsPerGroup;
        int rows = g.N * g.OH * g.OW;
        if (rows == 0 || ocg == 0) return;
        if (g.Groups == 1)
        {
            // One GEMM: its parallel driver shares one packed filter between the threads and balances row chunks.
            var epilogue = new GemmEpilogue(bias, activation);
            if (IsPointwise(g))
                CpuGemm.Parallel(simd, blocking, threads, new RowMajorA(input, g.C), false, rows, g.OC, k, filter, g.OC, output, g.OC, false, epilogue);
            else
                CpuGemm.Parallel(simd, blocking, threads, new Im2colPanels(input, g, 0, 0), false, rows, g.OC, k, filter, g.OC, output, g.OC, false, epilogue,
                    columnSplitCost: 1.05);
            return;
        }
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        int rowPanels = (rows + mr - 1) / mr, columnPanels = (ocg + nr - 1) / nr;
        var (splitRows, parts) = CpuParallel.TileSplit(rowPanels, columnPanels, CpuParallel.Parts(threads, (long)rows * g.OC * k, SerialWork));

        CpuParallel.For(parts, part =>
        {
            var scratch = CpuScratch.Current;
            var (r0, r1) = splitRows ? CpuParallel.Range(rows, parts, part, mr) : (0, rows);
            var (j0, j1) = splitRows ? (0, ocg) : CpuParallel.Range(ocg, parts, part, nr);
            if (r0 >= r1 || j0 >= j1) return;
            for (int group = 0; group < g.Groups; group++)
            {
                int column0 = group * ocg + j0;
                var epilogue = new GemmEpilogue(bias == null ? null : bias + column0, activation);
                float* c = output + (nint)r0 * g.OC + column0;
                if (IsPointwise(g))
                    CpuGemm.Block(simd, blocking, new RowMajorA(input + (nint)r0 * g.C + group * cg, g.C), 0, false, r1 - r0, j1 - j0, k,
                        filter + column0, g.OC, c, g.OC, false, epilogue, scratch);
                else
                    CpuGemm.Block(simd, blocking, new Im2colPanels(input, g, group, r0), 0, false, r1 - r0, j1 - j0, k,
                        filter + column0, g.OC, c, g.OC, false, epilogue, scratch);
            }
        });
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
    /// Depthwise conv (groups = C, OC = C·multiplier) without im2col: each output pixel sums its
    /// in-bounds taps with the channels in vector lanes (multiplier 1), or one output channel at a
    /// time otherwise. Parallel over (image, output row). A per-group GEMM would have N = multiplier
    /// columns, almost all tile padding, so this is what <see cref="CpuBackend"/> runs for depthwise convs.
    /// </summary>
    public static void DepthwiseDirect(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, KernelActivation activation)
    {
        if (g.Groups != g.C)
            throw new ArgumentException($"DepthwiseDirect: needs groups = input channels, got groups {g.Groups} with {g.C} channels.");
        int rowCount = g.N * g.OH, windowSize = g.KH * g.KW;
        int parts = Math.Min(rowCount, CpuParallel.Parts(threads, (long)rowCount * g.OW * g.OC * windowSize, SerialWork));
        CpuParallel.For(parts, part =>
        {
            Span<int> tapSpace = windowSize <= 512 ? stackalloc int[2 * windowSize] : new int[2 * windowSize];
            fixed (int* taps = tapSpace)
            {
                var (r0, r1) = CpuParallel.Range(rowCount, parts, part);
                for (int row = r0; row < r1; row++)
                {
                    int b = row / g.OH, i = row % g.OH;
                    float* outRow = output + (nint)row * g.OW * g.OC;
                    for (int j = 0; j < g.OW; j++)
                    {
                        // taps[2t]: input pixel offset, taps[2t+1]: filter tap offset.
                        int count = 0;
                        for (int p = 0; p < g.KH; p++)
                        {
                            int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                            if (ih < 0 || ih >= g.H) continue;
                            for (int q = 0; q < g.KW; q++)
                            {
                                int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                                if (iw < 0 || iw >= g.W) continue;
                                taps[2 * count] = ((b * g.H + ih) * g.W + iw) * g.C;
                                taps[2 * count + 1] = (p * g.KW + q) * g.OC;
                                count++;
                            }
                        }
                        float* dst = outRow + (nint)j * g.OC;
                        if (g.OC == g.C) DepthwisePixel(simd, input, filter, bias, taps, count, dst, g.C);
                        else MultiplierPixel(input, filter, bias, taps, count, dst, g.OC, g.OC / g.C);
                    }
                    var finished = new Span<float>(outRow, g.OW * g.OC);
                    CpuElementwiseKernels.Activate(finished, finished, activation, simd);
                }
            }
        });
    }

    private static void DepthwisePixel(SimdLevel simd, float* input, float* filter, float* bias, int* taps, int count, float* dst, int channels)
    {
        int c = 0;
        if (simd == SimdLevel.Avx512)
            for (; c <= channels - 16; c += 16)
            {
                var acc = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + c);
                for (int t = 0; t < count; t++)
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(input + taps[2 * t] + c), Vector512.Load(filter + taps[2 * t + 1] + c), acc);
                acc.Store(dst + c);
            }
        if (simd >= SimdLevel.Avx2)
            for (; c <= channels - 8; c += 8)
            {
                var acc = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + c);
                for (int t = 0; t < count; t++)
                    acc = Fma.MultiplyAdd(Vector256.Load(input + taps[2 * t] + c), Vector256.Load(filter + taps[2 * t + 1] + c), acc);
                acc.Store(dst + c);
            }
        for (; c < channels; c++)
        {
            float acc = bias == null ? 0f : bias[c];
            for (int t = 0; t < count; t++) acc += input[taps[2 * t] + c] * filter[taps[2 * t + 1] + c];
            dst[c] = acc;
        }
    }

    /// <summary>Depth multiplier &gt; 1: output channel o reads input channel o / multiplier.</summary>
    private static void MultiplierPixel(float* input, float* filter, float* bias, int* taps, int count, float* dst, int outChannels, int multiplier)
    {
        for (int o = 0; o < outChannels; o++)
        {
            int c = o / multiplier;
            float acc = bias == null ? 0f : bias[o];
            for (int t = 0; t < count; t++) acc += input[taps[2 * t] + c] * filter[taps[2 * t + 1] + o];
            dst[o] = acc;
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
