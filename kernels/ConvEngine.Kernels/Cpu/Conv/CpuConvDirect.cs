using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Forward conv without im2col, variant "direct" of conv2d, and what the default runs when a group has few input
/// channels (the RGB or greyscale first layer): a tile of 6 output pixels × 16 output channels is summed in registers
/// over every tap, each tap's six input values broadcast straight from a zero-padded strip of the input rows
/// (<see cref="ConvInputStrip"/>) and its filter row read from a 16-wide repacked copy of the filter. With 1-3 input
/// channels im2col spends more time gathering 1-3 floats per tap than the GEMM spends on the multiply-adds.
/// </summary>
/// <remarks>Parallel over fixed parts of the batch's output rows. The AVX-512 level runs the same 256-bit tiles.</remarks>
[SkipLocalsInit]
internal static unsafe class CpuConvDirect
{
    private const int TilePixels = 6, TileChannels = 16;
    /// <summary>Input channels per group up to which the default conv2d variant hands a conv to this kernel.</summary>
    public const int MaxDefaultChannels = 4;
    /// <summary>Output pixels per strip of rows: each filter panel is read once per strip, the strip's input from L2 once per panel.</summary>
    private const int StripPixels = 256;
    private const long MinWorkPerPart = 1L << 18;
    /// <summary>
    /// Taps per pass over a strip: the pass's filter rows (16 floats each, 12 KiB) stay in L1 while the tiles stream
    /// by; a longer filter (a 3×3 conv over 128 channels has 1,152 taps) is split and its tiles accumulate in the output.
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
        int taps = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup;
        int panels = (ocg + TileChannels - 1) / TileChannels;
        long rows = (long)g.N * g.OH;
        if (rows == 0 || ocg == 0) return;
        int parts = (int)Math.Min(rows, CpuParallel.Parts(threads, rows * g.OW * taps * g.OC, MinWorkPerPart));
        var geometry = g;
        nint x = (nint)input, f = (nint)filter, b = (nint)bias, y = (nint)target.Output, r = (nint)target.Residual;
        int stride = target.Stride;
        CpuParallel.For(parts, part =>
        {
            float* packed = (t_filter ??= new()).Get((long)geometry.Groups * panels * taps * TileChannels);
            PackFilter((float*)f, packed, geometry, panels);
            Rows(simd, (float*)x, packed, (float*)b, new ConvTarget((float*)y, stride, (float*)r), geometry, activation, panels,
                CpuParallel.Start(rows, parts, part), CpuParallel.Start(rows, parts, part + 1));
        });
    }

    /// <summary>Filter rows of each group's 16-channel panel, zero past the group's channels: packed[(group·panels + panel)·taps + t][0..16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackFilter(float* filter, float* packed, in Conv2DGeometry g, int panels)
    {
        int taps = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup;
        for (int group = 0; group < g.Groups; group++)
        for (int panel = 0; panel < panels; panel++)
        {
            int oc0 = group * ocg + panel * TileChannels, width = Math.Min(TileChannels, ocg - panel * TileChannels);
            float* dst = packed + (nint)(group * panels + panel) * taps * TileChannels;
            for (int t = 0; t < taps; t++, dst += TileChannels)
            {
                int c = 0;
                for (; c < width; c++) dst[c] = filter[(nint)t * g.OC + oc0 + c];
                for (; c < TileChannels; c++) dst[c] = 0f;
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
        int tapBlocks = (taps + MaxBlockTaps - 1) / MaxBlockTaps, blockTaps = (taps + tapBlocks - 1) / tapBlocks;
        float* biasTile = stackalloc float[TileChannels];
        float** corners = stackalloc float*[TilePixels];
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
                    int oc0 = group * ocg + panel * TileChannels, channels = Math.Min(TileChannels, ocg - panel * TileChannels);
                    for (int c = 0; c < TileChannels; c++) biasTile[c] = bias != null && c < channels ? bias[oc0 + c] : 0f;
                    float* w = packed + (nint)(group * panels + panel) * taps * TileChannels;
                    // Tiles run over the strip's pixels in order, across row ends, so a narrow row (7 pixels) wastes no tile slots.
                    int pixels = count * g.OW;
                    float* y = output.Output + (nint)row * g.OW * ldy + oc0;
                    float* residual = output.Residual == null ? null : output.Residual + (nint)row * g.OW * ldy + oc0;
                    for (int block = 0; block < tapBlocks; block++)
                    {
                        int t0 = block * blockTaps, t1 = Math.Min(taps, t0 + blockTaps);
                        bool first = block == 0, last = t1 == taps;
                        for (int k = 0; k < pixels; k += TilePixels)
                        {
                            int n = Math.Min(TilePixels, pixels - k);
                            for (int p = 0; p < TilePixels; p++)
                            {
                                int at = k + Math.Min(p, n - 1), r = at / g.OW;
                                corners[p] = x + r * rowStep + (at - r * g.OW) * pixelStep;
                            }
                            var tile = new TileTarget(y + (nint)k * ldy, ldy, n, channels, first, last, activation,
                                first && residual != null ? residual + (nint)k * ldy : null);
                            if (simd >= SimdLevel.Avx2) Tile256(corners, offsets + t0, t1 - t0, w + (nint)t0 * TileChannels, biasTile, tile);
                            else TileScalar(corners, offsets + t0, t1 - t0, w + (nint)t0 * TileChannels, biasTile, tile);
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
    private readonly struct TileTarget(float* y, int ldy, int pixels, int channels, bool first, bool last, KernelActivation activation, float* residual)
    {
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

    /// <summary>The target's partial sums (or residual) at <paramref name="from"/> into a full 6 × 16 tile (zeros outside its pixels × channels).</summary>
    private static void LoadEdge(float* tile, float* from, in TileTarget target)
    {
        for (int r = 0; r < TilePixels; r++)
            for (int c = 0; c < TileChannels; c++)
                tile[r * TileChannels + c] = r < target.Pixels && c < target.Channels ? from[(nint)r * target.Ldy + c] : 0f;
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
                float v = tile[r * TileChannels + c];
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
