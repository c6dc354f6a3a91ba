using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Forward conv without im2col, variant "direct" of conv2d, and what the default runs when a group has few input
/// channels (the RGB or greyscale first layer): a tile of 6 output pixels × 16 output channels (12 × 32 at AVX-512) is
/// summed in registers over every tap, each tap's input values broadcast straight from a zero-padded strip of the input
/// rows (<see cref="ConvInputStrip"/>) and its filter row read from a repacked copy of the filter, one tile wide. With 1-3
/// input channels im2col spends more time gathering 1-3 floats per tap than the GEMM spends on the multiply-adds.
/// </summary>
/// <remarks>Parallel over fixed parts of the batch's output rows.</remarks>
[SkipLocalsInit]
internal static unsafe class CpuConvDirect
{
    /// <summary>The tile of the AVX2 and scalar levels: 6 output pixels × 16 output channels (12 ymm accumulators).</summary>
    private const int TilePixels = 6, TileChannels = 16;
    /// <summary>The AVX-512 tile: 12 pixels × 32 channels (24 zmm accumulators), four times the multiply-adds for a tile's
    /// setup and stores, and half the loads and broadcasts per multiply-add.</summary>
    private const int WideTilePixels = 12, WideTileChannels = 32;

    /// <summary>
    /// The tile for <paramref name="ocg"/> output channels a group: the AVX-512 one unless padding the channels to 32 costs
    /// over a tenth more multiply-adds than padding them to 16 (16 or 48 channels run the 6 × 16 tile).
    /// </summary>
    private static (int Pixels, int Channels) TileShape(SimdLevel simd, int ocg)
    {
        int wide = (ocg + WideTileChannels - 1) / WideTileChannels * WideTileChannels, narrow = (ocg + TileChannels - 1) / TileChannels * TileChannels;
        return simd == SimdLevel.Avx512 && wide <= narrow * 1.1 ? (WideTilePixels, WideTileChannels) : (TilePixels, TileChannels);
    }
    /// <summary>Input channels per group up to which the default conv2d variant hands a conv to this kernel.</summary>
    public const int MaxDefaultChannels = 4;
    /// <summary>Output pixels per strip of rows: each filter panel is read once per strip, the strip's input from L2 once per panel.</summary>
    private const int StripPixels = 256;
    private const long MinWorkPerPart = 1L << 18;
    /// <summary>
    /// Taps per pass over a strip at 16 channels a tile (half as many at 32): the pass's filter rows (12 KiB) stay in L1
    /// while the tiles stream by; a longer filter (a 3×3 conv over 128 channels has 1,152 taps) is split and its tiles
    /// accumulate in the output.
    /// </summary>
    private const int MaxBlockTaps = 192;

    [ThreadStatic] private static CpuScratch.Slot? t_strip;
    [ThreadStatic] private static CpuScratch.Slot? t_filter;

    /// <summary>Whether the default conv2d variant runs this kernel: few input channels per group, not depthwise.</summary>
    public static bool PreferredFor(in Conv2DGeometry g) => g.InChannelsPerGroup <= MaxDefaultChannels && !CpuConvKernels.IsDepthwise(g);

    public static void Run(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output, in Conv2DGeometry g, KernelActivation activation) =>
        Run(simd, threads, input, filter, bias, ConvTarget.Compact(output, g), g, activation);

    /// <summary>
    /// The conv into <paramref name="target"/>: its channels of pixels <see cref="ConvTarget.Stride"/> floats apart, with
    /// its residual (laid out the same way) added to the first tap block's sums, before the activation.
    /// </summary>
    public static void Run(SimdLevel simd, int threads, float* input, float* filter, float* bias, in ConvTarget target, in Conv2DGeometry g, KernelActivation activation)
    {
        int taps = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, tileChannels = TileShape(simd, ocg).Channels;
        int panels = (ocg + tileChannels - 1) / tileChannels;
        long rows = (long)g.N * g.OH;
        if (rows == 0 || ocg == 0) return;
        int parts = (int)Math.Min(rows, CpuParallel.Parts(threads, rows * g.OW * taps * g.OC, MinWorkPerPart));
        var geometry = g;
        nint x = (nint)input, f = (nint)filter, b = (nint)bias, y = (nint)target.Output, r = (nint)target.Residual;
        int stride = target.Stride;
        CpuParallel.For(parts, part =>
        {
            float* packed = (t_filter ??= new()).Get((long)geometry.Groups * panels * taps * tileChannels);
            PackFilter((float*)f, packed, geometry, panels, tileChannels);
            Rows(simd, (float*)x, packed, (float*)b, new ConvTarget((float*)y, stride, (float*)r), geometry, activation, panels,
                CpuParallel.Start(rows, parts, part), CpuParallel.Start(rows, parts, part + 1));
        });
    }

    /// <summary>Filter rows of each group's panel of <paramref name="tileChannels"/> channels, zero past the group's channels: packed[(group·panels + panel)·taps + t][0..tileChannels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackFilter(float* filter, float* packed, in Conv2DGeometry g, int panels, int tileChannels)
    {
        int taps = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup;
        for (int group = 0; group < g.Groups; group++)
        for (int panel = 0; panel < panels; panel++)
        {
            int oc0 = group * ocg + panel * tileChannels, width = Math.Min(tileChannels, ocg - panel * tileChannels);
            float* dst = packed + (nint)(group * panels + panel) * taps * tileChannels;
            for (int t = 0; t < taps; t++, dst += tileChannels)
            {
                int c = 0;
                for (; c < width; c++) dst[c] = filter[(nint)t * g.OC + oc0 + c];
                for (; c < tileChannels; c++) dst[c] = 0f;
            }
        }
    }

    private static void Rows(SimdLevel simd, float* input, float* packed, float* bias, in ConvTarget output, in Conv2DGeometry g,
        KernelActivation activation, int panels, long start, long end)
    {
        int taps = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, width = ConvInputStrip.Width(g);
        int stripRows = Math.Max(1, StripPixels / g.OW);
        float* strip = ConvInputStrip.IsPadded(g) ? (t_strip ??= new()).Get(ConvInputStrip.Floats(g, stripRows)) : null;
        int[] offsetArray = ArrayPool<int>.Shared.Rent(taps);
        try
        {
            fixed (int* offsets = offsetArray)
                Strips(simd, input, packed, bias, output, g, activation, panels, start, end, strip, stripRows, offsets);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsetArray);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Strips(SimdLevel simd, float* input, float* packed, float* bias, in ConvTarget output, in Conv2DGeometry g,
        KernelActivation activation, int panels, long start, long end, float* strip, int stripRows, int* offsets)
    {
        int taps = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, width = ConvInputStrip.Width(g);
        var (tilePixels, tileChannels) = TileShape(simd, ocg);
        bool wide = tileChannels == WideTileChannels;
        int maxTaps = MaxBlockTaps * TileChannels / tileChannels;
        int tapBlocks = (taps + maxTaps - 1) / maxTaps, blockTaps = (taps + tapBlocks - 1) / tapBlocks;
        float* biasTile = stackalloc float[WideTileChannels];
        float** corners = stackalloc float*[WideTilePixels];
        bool inRegisters = activation.Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.LeakyRelu;
        nint pixelStep = (nint)g.StrideW * g.C, rowStep = (nint)g.StrideH * width * g.C;
        int ldy = output.Stride;

        for (long row = start; row < end;)
        {
            int b = (int)(row / g.OH), i0 = (int)(row % g.OH);
            int count = (int)Math.Min(Math.Min(stripRows, g.OH - i0), end - row);
            float* x = ConvInputStrip.Rows(input, strip, g, b, i0, count);
            for (int group = 0; group < g.Groups; group++)
            {
                for (int t = 0; t < taps; t++) offsets[t] = TapOffset(g, group, t, width);
                for (int panel = 0; panel < panels; panel++)
                {
                    int oc0 = group * ocg + panel * tileChannels, channels = Math.Min(tileChannels, ocg - panel * tileChannels);
                    for (int c = 0; c < tileChannels; c++) biasTile[c] = bias != null && c < channels ? bias[oc0 + c] : 0f;
                    float* w = packed + (nint)(group * panels + panel) * taps * tileChannels;
                    // Tiles run over the strip's pixels in order, across row ends, so a narrow row (7 pixels) wastes no tile slots.
                    int pixels = count * g.OW;
                    float* y = output.Output + (nint)row * g.OW * ldy + oc0;
                    float* residual = output.Residual == null ? null : output.Residual + (nint)row * g.OW * ldy + oc0;
                    for (int block = 0; block < tapBlocks; block++)
                    {
                        int t0 = block * blockTaps, t1 = Math.Min(taps, t0 + blockTaps);
                        bool first = block == 0, last = t1 == taps;
                        for (int k = 0; k < pixels; k += tilePixels)
                        {
                            int n = Math.Min(tilePixels, pixels - k);
                            for (int p = 0; p < tilePixels; p++)
                            {
                                int at = k + Math.Min(p, n - 1), r = at / g.OW;
                                corners[p] = x + r * rowStep + (at - r * g.OW) * pixelStep;
                            }
                            var tile = new TileTarget(y + (nint)k * ldy, ldy, n, channels, first, last, activation,
                                first && residual != null ? residual + (nint)k * ldy : null, tilePixels, tileChannels);
                            float* wBlock = w + (nint)t0 * tileChannels;
                            if (wide) Tile512(corners, offsets + t0, t1 - t0, wBlock, biasTile, tile);
                            else if (simd >= SimdLevel.Avx2) Tile256(corners, offsets + t0, t1 - t0, wBlock, biasTile, tile);
                            else TileScalar(corners, offsets + t0, t1 - t0, wBlock, biasTile, tile);
                        }
                    }
                }
            }
            if (!inRegisters)
            {
                if (ldy == g.OC)
                {
                    var finished = new Span<float>(output.Output + (nint)row * g.OW * g.OC, count * g.OW * g.OC);
                    CpuElementwiseKernels.Activate(finished, finished, activation, simd);
                }
                else
                    for (long p = row * g.OW, pEnd = (row + count) * g.OW; p < pEnd; p++)
                    {
                        var pixel = new Span<float>(output.Output + (nint)p * ldy, g.OC);
                        CpuElementwiseKernels.Activate(pixel, pixel, activation, simd);
                    }
            }
            row += count;
        }
    }

    /// <summary>Offset of tap t of <paramref name="group"/> from a window's corner in the strip (taps ordered as the HWIO filter: (p·KW + q)·Cg + c).</summary>
    private static int TapOffset(in Conv2DGeometry g, int group, int t, int width)
    {
        int cg = g.InChannelsPerGroup, c = t % cg, q = t / cg % g.KW, p = t / cg / g.KW;
        return (p * g.DilationH * width + q * g.DilationW) * g.C + group * cg + c;
    }

    /// <summary>Where a tile's sums go: consecutive output pixels ldy floats apart, and whether this pass starts or ends the sum.</summary>
    private readonly struct TileTarget(float* y, int ldy, int pixels, int channels, bool first, bool last, KernelActivation activation, float* residual,
        int tilePixels, int tileChannels)
    {
        /// <summary>The tile's full size (a stack tile of an edge is laid out rows of <see cref="TileChannels"/>).</summary>
        public readonly int TilePixels = tilePixels, TileChannels = tileChannels;
        public readonly float* Y = y;
        /// <summary>Added to the first tap block's sums (same layout as Y); null for none or after the first block.</summary>
        public readonly float* R = residual;
        public readonly int Ldy = ldy, Pixels = pixels, Channels = channels;
        /// <summary>The first tap block starts from the bias; later ones from the partial sums already in the output.</summary>
        public readonly bool First = first;
        /// <summary>ReLU and leaky ReLU are applied by the last tap block (sigmoid and tanh by the strip's post-pass).</summary>
        public readonly KernelActivation Activation = last ? activation : KernelActivation.None;
        public bool Full => Pixels == TilePixels && Channels == TileChannels;
    }

    /// <summary>
    /// y[pixel, 0..channels) = act([bias or y] + Σ_t corners[pixel][offsets[t]] · w[t]) for the target's pixels;
    /// corners past them repeat the last one and are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(float** corners, int* offsets, int taps, float* w, float* bias, in TileTarget target)
    {
        float* x0 = corners[0], x1 = corners[1], x2 = corners[2], x3 = corners[3], x4 = corners[4], x5 = corners[5];
        float* tile = stackalloc float[TilePixels * TileChannels];
        Vector256<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b;
        if (target.First)
        {
            c0a = c1a = c2a = c3a = c4a = c5a = Vector256.Load(bias);
            c0b = c1b = c2b = c3b = c4b = c5b = Vector256.Load(bias + 8);
            if (target.R != null)
            {
                float* from = target.R;
                nint ld = target.Ldy;
                if (!target.Full)
                {
                    LoadEdge(tile, target.R, target);
                    from = tile;
                    ld = TileChannels;
                }
                c0a += Vector256.Load(from); c0b += Vector256.Load(from + 8);
                c1a += Vector256.Load(from + ld); c1b += Vector256.Load(from + ld + 8);
                c2a += Vector256.Load(from + 2 * ld); c2b += Vector256.Load(from + 2 * ld + 8);
                c3a += Vector256.Load(from + 3 * ld); c3b += Vector256.Load(from + 3 * ld + 8);
                c4a += Vector256.Load(from + 4 * ld); c4b += Vector256.Load(from + 4 * ld + 8);
                c5a += Vector256.Load(from + 5 * ld); c5b += Vector256.Load(from + 5 * ld + 8);
            }
        }
        else
        {
            float* from = target.Y;
            nint ld = target.Ldy;
            if (!target.Full)
            {
                LoadEdge(tile, target.Y, target);
                from = tile;
                ld = TileChannels;
            }
            c0a = Vector256.Load(from); c0b = Vector256.Load(from + 8);
            c1a = Vector256.Load(from + ld); c1b = Vector256.Load(from + ld + 8);
            c2a = Vector256.Load(from + 2 * ld); c2b = Vector256.Load(from + 2 * ld + 8);
            c3a = Vector256.Load(from + 3 * ld); c3b = Vector256.Load(from + 3 * ld + 8);
            c4a = Vector256.Load(from + 4 * ld); c4b = Vector256.Load(from + 4 * ld + 8);
            c5a = Vector256.Load(from + 5 * ld); c5b = Vector256.Load(from + 5 * ld + 8);
        }
        for (int t = 0; t < taps; t++, w += TileChannels)
        {
            nint o = offsets[t];
            var w0 = Vector256.Load(w);
            var w1 = Vector256.Load(w + 8);
            var a = Vector256.Create(x0[o]); c0a = Fma.MultiplyAdd(a, w0, c0a); c0b = Fma.MultiplyAdd(a, w1, c0b);
            a = Vector256.Create(x1[o]); c1a = Fma.MultiplyAdd(a, w0, c1a); c1b = Fma.MultiplyAdd(a, w1, c1b);
            a = Vector256.Create(x2[o]); c2a = Fma.MultiplyAdd(a, w0, c2a); c2b = Fma.MultiplyAdd(a, w1, c2b);
            a = Vector256.Create(x3[o]); c3a = Fma.MultiplyAdd(a, w0, c3a); c3b = Fma.MultiplyAdd(a, w1, c3b);
            a = Vector256.Create(x4[o]); c4a = Fma.MultiplyAdd(a, w0, c4a); c4b = Fma.MultiplyAdd(a, w1, c4b);
            a = Vector256.Create(x5[o]); c5a = Fma.MultiplyAdd(a, w0, c5a); c5b = Fma.MultiplyAdd(a, w1, c5b);
        }
        var activation = target.Activation;
        if (target.Full)
        {
            float* y = target.Y;
            nint ldy = target.Ldy;
            StoreRow(y, c0a, c0b, activation);
            StoreRow(y + ldy, c1a, c1b, activation);
            StoreRow(y + 2 * ldy, c2a, c2b, activation);
            StoreRow(y + 3 * ldy, c3a, c3b, activation);
            StoreRow(y + 4 * ldy, c4a, c4b, activation);
            StoreRow(y + 5 * ldy, c5a, c5b, activation);
            return;
        }
        c0a.Store(tile); c0b.Store(tile + 8);
        c1a.Store(tile + 16); c1b.Store(tile + 24);
        c2a.Store(tile + 32); c2b.Store(tile + 40);
        c3a.Store(tile + 48); c3b.Store(tile + 56);
        c4a.Store(tile + 64); c4b.Store(tile + 72);
        c5a.Store(tile + 80); c5b.Store(tile + 88);
        StoreEdge(tile, target);
    }

    /// <summary>
    /// The AVX-512 tile: y[pixel, 0..channels) for 12 pixels × 32 channels, as <see cref="Tile256"/> (the same sums, tap
    /// by tap in the same order), its 24 accumulators in zmm registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(float** corners, int* offsets, int taps, float* w, float* bias, in TileTarget target)
    {
        float* x0 = corners[0]; float* x1 = corners[1]; float* x2 = corners[2]; float* x3 = corners[3]; float* x4 = corners[4]; float* x5 = corners[5]; float* x6 = corners[6]; float* x7 = corners[7]; float* x8 = corners[8]; float* x9 = corners[9]; float* x10 = corners[10]; float* x11 = corners[11];
        float* tile = stackalloc float[WideTilePixels * WideTileChannels];
        Vector512<float> c0a, c0b, c1a, c1b, c2a, c2b, c3a, c3b, c4a, c4b, c5a, c5b, c6a, c6b, c7a, c7b, c8a, c8b, c9a, c9b, c10a, c10b, c11a, c11b;
        if (target.First)
        {
            c0a = c1a = c2a = c3a = c4a = c5a = c6a = c7a = c8a = c9a = c10a = c11a = Vector512.Load(bias);
            c0b = c1b = c2b = c3b = c4b = c5b = c6b = c7b = c8b = c9b = c10b = c11b = Vector512.Load(bias + 16);
            if (target.R != null)
            {
                float* from = target.R;
                nint ld = target.Ldy;
                if (!target.Full)
                {
                    LoadEdge(tile, target.R, target);
                    from = tile;
                    ld = WideTileChannels;
                }
                c0a += Vector512.Load(from + 0 * ld); c0b += Vector512.Load(from + 0 * ld + 16);
                c1a += Vector512.Load(from + 1 * ld); c1b += Vector512.Load(from + 1 * ld + 16);
                c2a += Vector512.Load(from + 2 * ld); c2b += Vector512.Load(from + 2 * ld + 16);
                c3a += Vector512.Load(from + 3 * ld); c3b += Vector512.Load(from + 3 * ld + 16);
                c4a += Vector512.Load(from + 4 * ld); c4b += Vector512.Load(from + 4 * ld + 16);
                c5a += Vector512.Load(from + 5 * ld); c5b += Vector512.Load(from + 5 * ld + 16);
                c6a += Vector512.Load(from + 6 * ld); c6b += Vector512.Load(from + 6 * ld + 16);
                c7a += Vector512.Load(from + 7 * ld); c7b += Vector512.Load(from + 7 * ld + 16);
                c8a += Vector512.Load(from + 8 * ld); c8b += Vector512.Load(from + 8 * ld + 16);
                c9a += Vector512.Load(from + 9 * ld); c9b += Vector512.Load(from + 9 * ld + 16);
                c10a += Vector512.Load(from + 10 * ld); c10b += Vector512.Load(from + 10 * ld + 16);
                c11a += Vector512.Load(from + 11 * ld); c11b += Vector512.Load(from + 11 * ld + 16);
            }
        }
        else
        {
            float* from = target.Y;
            nint ld = target.Ldy;
            if (!target.Full)
            {
                LoadEdge(tile, target.Y, target);
                from = tile;
                ld = WideTileChannels;
            }
            c0a = Vector512.Load(from + 0 * ld); c0b = Vector512.Load(from + 0 * ld + 16);
            c1a = Vector512.Load(from + 1 * ld); c1b = Vector512.Load(from + 1 * ld + 16);
            c2a = Vector512.Load(from + 2 * ld); c2b = Vector512.Load(from + 2 * ld + 16);
            c3a = Vector512.Load(from + 3 * ld); c3b = Vector512.Load(from + 3 * ld + 16);
            c4a = Vector512.Load(from + 4 * ld); c4b = Vector512.Load(from + 4 * ld + 16);
            c5a = Vector512.Load(from + 5 * ld); c5b = Vector512.Load(from + 5 * ld + 16);
            c6a = Vector512.Load(from + 6 * ld); c6b = Vector512.Load(from + 6 * ld + 16);
            c7a = Vector512.Load(from + 7 * ld); c7b = Vector512.Load(from + 7 * ld + 16);
            c8a = Vector512.Load(from + 8 * ld); c8b = Vector512.Load(from + 8 * ld + 16);
            c9a = Vector512.Load(from + 9 * ld); c9b = Vector512.Load(from + 9 * ld + 16);
            c10a = Vector512.Load(from + 10 * ld); c10b = Vector512.Load(from + 10 * ld + 16);
            c11a = Vector512.Load(from + 11 * ld); c11b = Vector512.Load(from + 11 * ld + 16);
        }
        for (int t = 0; t < taps; t++, w += WideTileChannels)
        {
            nint o = offsets[t];
            var w0 = Vector512.Load(w);
            var w1 = Vector512.Load(w + 16);
            Vector512<float> a;
            a = Vector512.Create(x0[o]); c0a = Avx512F.FusedMultiplyAdd(a, w0, c0a); c0b = Avx512F.FusedMultiplyAdd(a, w1, c0b);
            a = Vector512.Create(x1[o]); c1a = Avx512F.FusedMultiplyAdd(a, w0, c1a); c1b = Avx512F.FusedMultiplyAdd(a, w1, c1b);
            a = Vector512.Create(x2[o]); c2a = Avx512F.FusedMultiplyAdd(a, w0, c2a); c2b = Avx512F.FusedMultiplyAdd(a, w1, c2b);
            a = Vector512.Create(x3[o]); c3a = Avx512F.FusedMultiplyAdd(a, w0, c3a); c3b = Avx512F.FusedMultiplyAdd(a, w1, c3b);
            a = Vector512.Create(x4[o]); c4a = Avx512F.FusedMultiplyAdd(a, w0, c4a); c4b = Avx512F.FusedMultiplyAdd(a, w1, c4b);
            a = Vector512.Create(x5[o]); c5a = Avx512F.FusedMultiplyAdd(a, w0, c5a); c5b = Avx512F.FusedMultiplyAdd(a, w1, c5b);
            a = Vector512.Create(x6[o]); c6a = Avx512F.FusedMultiplyAdd(a, w0, c6a); c6b = Avx512F.FusedMultiplyAdd(a, w1, c6b);
            a = Vector512.Create(x7[o]); c7a = Avx512F.FusedMultiplyAdd(a, w0, c7a); c7b = Avx512F.FusedMultiplyAdd(a, w1, c7b);
            a = Vector512.Create(x8[o]); c8a = Avx512F.FusedMultiplyAdd(a, w0, c8a); c8b = Avx512F.FusedMultiplyAdd(a, w1, c8b);
            a = Vector512.Create(x9[o]); c9a = Avx512F.FusedMultiplyAdd(a, w0, c9a); c9b = Avx512F.FusedMultiplyAdd(a, w1, c9b);
            a = Vector512.Create(x10[o]); c10a = Avx512F.FusedMultiplyAdd(a, w0, c10a); c10b = Avx512F.FusedMultiplyAdd(a, w1, c10b);
            a = Vector512.Create(x11[o]); c11a = Avx512F.FusedMultiplyAdd(a, w0, c11a); c11b = Avx512F.FusedMultiplyAdd(a, w1, c11b);
        }
        var activation = target.Activation;
        if (target.Full)
        {
            float* y = target.Y;
            nint ldy = target.Ldy;
            StoreRow(y + 0 * ldy, c0a, c0b, activation);
            StoreRow(y + 1 * ldy, c1a, c1b, activation);
            StoreRow(y + 2 * ldy, c2a, c2b, activation);
            StoreRow(y + 3 * ldy, c3a, c3b, activation);
            StoreRow(y + 4 * ldy, c4a, c4b, activation);
            StoreRow(y + 5 * ldy, c5a, c5b, activation);
            StoreRow(y + 6 * ldy, c6a, c6b, activation);
            StoreRow(y + 7 * ldy, c7a, c7b, activation);
            StoreRow(y + 8 * ldy, c8a, c8b, activation);
            StoreRow(y + 9 * ldy, c9a, c9b, activation);
            StoreRow(y + 10 * ldy, c10a, c10b, activation);
            StoreRow(y + 11 * ldy, c11a, c11b, activation);
            return;
        }
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
        StoreEdge(tile, target);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, Vector512<float> a, Vector512<float> b, KernelActivation activation)
    {
        if (activation.Kind == ActivationKind.Relu)
        {
            // vmaxps returns its second operand for NaN, so NaN → 0 as in KernelActivation.Apply (x > 0 ? x : 0).
            a = Avx512F.Max(a, Vector512<float>.Zero);
            b = Avx512F.Max(b, Vector512<float>.Zero);
        }
        else if (activation.Kind == ActivationKind.LeakyRelu)
        {
            var alpha = Vector512.Create(activation.Alpha);
            a = Vector512.ConditionalSelect(Vector512.GreaterThan(a, Vector512<float>.Zero), a, a * alpha);
            b = Vector512.ConditionalSelect(Vector512.GreaterThan(b, Vector512<float>.Zero), b, b * alpha);
        }
        a.Store(y);
        b.Store(y + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, Vector256<float> a, Vector256<float> b, KernelActivation activation)
    {
        if (activation.Kind == ActivationKind.Relu)
        {
            // vmaxps returns its second operand for NaN, so NaN → 0 as in KernelActivation.Apply (x > 0 ? x : 0).
            a = Avx.Max(a, Vector256<float>.Zero);
            b = Avx.Max(b, Vector256<float>.Zero);
        }
        else if (activation.Kind == ActivationKind.LeakyRelu)
        {
            var alpha = Vector256.Create(activation.Alpha);
            a = Vector256.ConditionalSelect(Vector256.GreaterThan(a, Vector256<float>.Zero), a, a * alpha);
            b = Vector256.ConditionalSelect(Vector256.GreaterThan(b, Vector256<float>.Zero), b, b * alpha);
        }
        a.Store(y);
        b.Store(y + 8);
    }

    /// <summary>The target's partial sums (or residual) at <paramref name="from"/> into a full tile (zeros outside its pixels × channels).</summary>
    private static void LoadEdge(float* tile, float* from, in TileTarget target)
    {
        for (int r = 0; r < target.TilePixels; r++)
            for (int c = 0; c < target.TileChannels; c++)
                tile[r * target.TileChannels + c] = r < target.Pixels && c < target.Channels ? from[(nint)r * target.Ldy + c] : 0f;
    }

    /// <summary>The valid pixels × channels of a tile, with the target's in-register activation (ReLU, leaky ReLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreEdge(float* tile, in TileTarget target)
    {
        var activation = target.Activation;
        float negativeSlope = activation.Kind switch { ActivationKind.Relu => 0f, ActivationKind.LeakyRelu => activation.Alpha, _ => 1f };
        for (int r = 0; r < target.Pixels; r++)
            for (int c = 0; c < target.Channels; c++)
            {
                float v = tile[r * target.TileChannels + c];
                target.Y[(nint)r * target.Ldy + c] = v > 0f ? v : v * negativeSlope;
            }
    }

    /// <summary>The scalar level: the same tile, one float at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileScalar(float** corners, int* offsets, int taps, float* w, float* bias, in TileTarget target)
    {
        float* tile = stackalloc float[TilePixels * TileChannels];
        if (!target.First) LoadEdge(tile, target.Y, target);
        for (int r = 0; r < target.Pixels; r++)
        {
            float* xr = corners[r];
            float* acc = tile + r * TileChannels;
            if (target.First)
                for (int c = 0; c < TileChannels; c++) acc[c] = bias[c] + (target.R != null && c < target.Channels ? target.R[(nint)r * target.Ldy + c] : 0f);
            for (int t = 0; t < taps; t++)
            {
                float a = xr[offsets[t]];
                float* wt = w + (nint)t * TileChannels;
                for (int c = 0; c < target.Channels; c++) acc[c] += a * wt[c];
            }
        }
        StoreEdge(tile, target);
    }
}
