using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Conv filter gradient without a column matrix, variant "direct" of conv2d-backward-filter:
/// gradFilter (taps × OC, taps = (p·KW + q)·Cg + c) = Σ over output pixels of patch(pixel)ᵀ ⊗ gradOut(pixel).
/// The whole filter gradient is small, so a 6-tap × 16-channel tile of it (12 × 32 at AVX-512) stays in registers while
/// it streams over a strip of output rows; the tile's patch values per pixel are broadcast straight from a zero-padded
/// copy of the input rows the strip reads (no im2col, which costs more than the FMAs when Cg is 1 or 3), and the
/// strip's gradOut is repacked one tile wide so a ragged OC needs no edge code.
/// </summary>
/// <remarks>
/// The batch's output rows are cut into fixed contiguous parts, one per thread; part 0 sums into gradFilter,
/// the others into pooled partials added in part order, so the result is the same every run.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class CpuConvFilterGradient
{
    /// <summary>Tile height (taps) and width (output channels) of the register-blocked kernel at AVX2 and scalar.</summary>
    private const int TileTaps = 6, TileChannels = 16;
    /// <summary>The AVX-512 tile: 12 taps × 32 channels in 24 zmm registers.</summary>
    private const int WideTileTaps = 12, WideTileChannels = 32;

    /// <summary>
    /// The tile for <paramref name="g"/>: the AVX-512 one unless padding the taps and channels to it costs over a tenth more
    /// multiply-add cycles than the 6 × 16 tile's (on Zen 4 a zmm FMA does two ymm FMAs' work). Measured there: 75 taps × 32
    /// channels ran 9 % faster wide with 8 % more padded work; 25 taps × 32 (20 % more) ran 0-20 % slower.
    /// </summary>
    private static (int Taps, int Channels) TileShape(SimdLevel simd, in Conv2DGeometry g)
    {
        if (simd != SimdLevel.Avx512) return (TileTaps, TileChannels);
        long taps = CpuIm2Col.RowLength(g), channels = g.OutChannelsPerGroup;
        long narrow = (taps + TileTaps - 1) / TileTaps * ((channels + TileChannels - 1) / TileChannels) * TileTaps * 2;
        long wide = (taps + WideTileTaps - 1) / WideTileTaps * ((channels + WideTileChannels - 1) / WideTileChannels) * WideTileTaps * 2 * 2;
        return wide <= narrow * 1.1 ? (WideTileTaps, WideTileChannels) : (TileTaps, TileChannels);
    }
    /// <summary>
    /// Floats of repacked gradOut per strip (256 KiB, half an AVX2-era L2): every tap panel streams all of it from L2.
    /// Measured on the training nets' layers (Zen 3), strips of 4-16 Ki floats were 5-25 % slower: each strip loads
    /// and stores the whole filter gradient once, and the hardware prefetchers keep both streams coming from L2.
    /// </summary>
    private const int StripGradientFloats = 1 << 16;
    /// <summary>Fewest multiply-adds per thread part.</summary>
    private const long MinWorkPerPart = 1L << 18;

    [ThreadStatic] private static CpuScratch.Slot? t_strip, t_gradPanel;

    public static void Run(SimdLevel simd, int threads, float* input, float* gradOutput, float* gradFilter, in Conv2DGeometry g)
    {
        int taps = CpuIm2Col.RowLength(g), filterLength = taps * g.OC;
        long rows = (long)g.N * g.OH;
        int parts = (int)Math.Min(rows, CpuParallel.Parts(threads, rows * g.OW * taps * g.OC, MinWorkPerPart));
        float[]?[] partials = new float[parts][];
        for (int part = 1; part < parts; part++) partials[part] = ArrayPool<float>.Shared.Rent(filterLength);
        try
        {
            var geometry = g;
            nint x = (nint)input, dy = (nint)gradOutput, dw = (nint)gradFilter;
            CpuParallel.For(parts, part =>
            {
                float[]? own = partials[part];
                fixed (float* partial = own)
                {
                    float* target = part == 0 ? (float*)dw : partial;
                    new Span<float>(target, filterLength).Clear();
                    Rows(simd, (float*)x, (float*)dy, target, geometry,
                        CpuParallel.Start(rows, parts, part), CpuParallel.Start(rows, parts, part + 1));
                }
            });
            for (int part = 1; part < parts; part++)
            {
                var sum = new Span<float>(gradFilter, filterLength);
                TensorPrimitives.Add(sum, partials[part].AsSpan(0, filterLength), sum);
            }
        }
        finally
        {
            for (int part = 1; part < parts; part++) ArrayPool<float>.Shared.Return(partials[part]!);
        }
    }

    /// <summary>Adds the gradient of the batch's output rows [start, end) (row = image·OH + oh) into <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(SimdLevel simd, float* input, float* gradOutput, float* target, in Conv2DGeometry g, long start, long end)
    {
        var (tileTapsMax, tileChannels) = TileShape(simd, g);
        bool wide = tileChannels == WideTileChannels;
        int ocPanels = (g.OutChannelsPerGroup + tileChannels - 1) / tileChannels;
        int stripRows = Math.Max(1, StripGradientFloats / (ocPanels * tileChannels) / g.OW);
        int paddedWidth = ConvInputStrip.Width(g);
        bool padded = ConvInputStrip.IsPadded(g);
        float* strip = padded ? (t_strip ??= new()).Get(ConvInputStrip.Floats(g, stripRows)) : null;
        float* panels = (t_gradPanel ??= new()).Get((long)ocPanels * stripRows * g.OW * tileChannels);
        int* offsets = stackalloc int[WideTileTaps];

        for (long row = start; row < end;)
        {
            int b = (int)(row / g.OH), i0 = (int)(row % g.OH);
            int count = (int)Math.Min(Math.Min(stripRows, g.OH - i0), end - row);
            float* x = ConvInputStrip.Rows(input, strip, g, b, i0, count);
            int pixels = count * g.OW;
            float* dy = gradOutput + (nint)row * g.OW * g.OC;
            nint rowStep = (nint)g.StrideH * paddedWidth * g.C, pixelStep = (nint)g.StrideW * g.C;

            for (int group = 0; group < g.Groups; group++)
            {
                int ocg = g.OutChannelsPerGroup, oc0 = group * ocg;
                for (int panel = 0; panel < ocPanels; panel++)
                    PackGradient(dy + oc0 + panel * tileChannels, g.OC, Math.Min(tileChannels, ocg - panel * tileChannels),
                        pixels, panels + (nint)panel * pixels * tileChannels, tileChannels);
                int groupTaps = CpuIm2Col.RowLength(g);
                for (int t0 = 0; t0 < groupTaps; t0 += tileTapsMax)
                {
                    int tileTaps = Math.Min(tileTapsMax, groupTaps - t0);
                    for (int t = 0; t < tileTapsMax; t++)
                        offsets[t] = TapOffset(g, group, t0 + Math.Min(t, tileTaps - 1), paddedWidth);
                    for (int panel = 0; panel < ocPanels; panel++)
                    {
                        int channels = Math.Min(tileChannels, ocg - panel * tileChannels);
                        float* dst = target + (nint)t0 * g.OC + oc0 + panel * tileChannels;
                        float* gp = panels + (nint)panel * pixels * tileChannels;
                        if (wide)
                            Tile512(x, offsets, rowStep, pixelStep, count, g.OW, gp, dst, g.OC, tileTaps, channels);
                        else if (simd >= SimdLevel.Avx2)
                            Tile256(x, offsets, rowStep, pixelStep, count, g.OW, gp, dst, g.OC, tileTaps, channels);
                        else
                            TileScalar(x, offsets, rowStep, pixelStep, count, g.OW, gp, dst, g.OC, tileTaps, channels);
                    }
                }
            }
            row += count;
        }
    }

    /// <summary>Offset of tap t of <paramref name="group"/> from a pixel's window corner in the (padded) input rows.</summary>
    private static int TapOffset(in Conv2DGeometry g, int group, int t, int paddedWidth)
    {
        int cg = g.InChannelsPerGroup, c = t % cg, q = t / cg % g.KW, p = t / cg / g.KW;
        return (p * g.DilationH * paddedWidth + q * g.DilationW) * g.C + group * cg + c;
    }

    /// <summary>gradOut columns [0, channels) of each pixel into a panel <paramref name="width"/> (16 or 32) wide, zero beyond them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackGradient(float* dy, int ldy, int channels, int pixels, float* panel, int width)
    {
        if (channels == width)
        {
            for (int p = 0; p < pixels; p++)
                for (int c = 0; c < width; c += 8)
                    Vector256.Load(dy + (nint)p * ldy + c).Store(panel + p * width + c);
            return;
        }
        for (int p = 0; p < pixels; p++)
        {
            float* dst = panel + p * width, src = dy + (nint)p * ldy;
            int c = 0;
            for (; c < channels; c++) dst[c] = src[c];
            for (; c < width; c++) dst[c] = 0f;
        }
    }

    /// <summary>
    /// dst (taps × channels, row stride ldc) += Σ over the strip's pixels of x[pixel + offsets[t]] · panel[pixel].
    /// Taps past <paramref name="taps"/> repeat the last one's offset and are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(float* x, int* offsets, nint rowStep, nint pixelStep, int rows, int width,
        float* panel, float* dst, int ldc, int taps, int channels)
    {
        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector256<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        nint o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5];
        float* gp = panel;
        for (int r = 0; r < rows; r++)
        {
            float* xp = x + r * rowStep;
            for (int j = 0; j < width; j++)
            {
                var d0 = Vector256.Load(gp);
                var d1 = Vector256.Load(gp + 8);
                var a = Vector256.Create(xp[o0]); c0a = Fma.MultiplyAdd(a, d0, c0a); c0b = Fma.MultiplyAdd(a, d1, c0b);
                a = Vector256.Create(xp[o1]); c1a = Fma.MultiplyAdd(a, d0, c1a); c1b = Fma.MultiplyAdd(a, d1, c1b);
                a = Vector256.Create(xp[o2]); c2a = Fma.MultiplyAdd(a, d0, c2a); c2b = Fma.MultiplyAdd(a, d1, c2b);
                a = Vector256.Create(xp[o3]); c3a = Fma.MultiplyAdd(a, d0, c3a); c3b = Fma.MultiplyAdd(a, d1, c3b);
                a = Vector256.Create(xp[o4]); c4a = Fma.MultiplyAdd(a, d0, c4a); c4b = Fma.MultiplyAdd(a, d1, c4b);
                a = Vector256.Create(xp[o5]); c5a = Fma.MultiplyAdd(a, d0, c5a); c5b = Fma.MultiplyAdd(a, d1, c5b);
                xp += pixelStep;
                gp += TileChannels;
            }
        }
        if (channels == TileChannels && taps == TileTaps)
        {
            AddRow(dst, c0a, c0b);
            AddRow(dst + ldc, c1a, c1b);
            AddRow(dst + 2 * ldc, c2a, c2b);
            AddRow(dst + 3 * ldc, c3a, c3b);
            AddRow(dst + 4 * ldc, c4a, c4b);
            AddRow(dst + 5 * ldc, c5a, c5b);
            return;
        }
        float* tile = stackalloc float[TileTaps * TileChannels];
        c0a.Store(tile); c0b.Store(tile + 8);
        c1a.Store(tile + 16); c1b.Store(tile + 24);
        c2a.Store(tile + 32); c2b.Store(tile + 40);
        c3a.Store(tile + 48); c3b.Store(tile + 56);
        c4a.Store(tile + 64); c4b.Store(tile + 72);
        c5a.Store(tile + 80); c5b.Store(tile + 88);
        AddEdge(tile, dst, ldc, taps, channels);
    }

    /// <summary>The AVX-512 tile: <see cref="Tile256"/> for 12 taps × 32 channels (the same sums, pixel by pixel in the same order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(float* x, int* offsets, nint rowStep, nint pixelStep, int rows, int width,
        float* panel, float* dst, int ldc, int taps, int channels)
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default, c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default, c9a = default, c9b = default, c10a = default, c10b = default, c11a = default, c11b = default;
        nint o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5], o6 = offsets[6], o7 = offsets[7], o8 = offsets[8], o9 = offsets[9], o10 = offsets[10], o11 = offsets[11];
        float* gp = panel;
        for (int r = 0; r < rows; r++)
        {
            float* xp = x + r * rowStep;
            for (int j = 0; j < width; j++)
            {
                var d0 = Vector512.Load(gp);
                var d1 = Vector512.Load(gp + 16);
                Vector512<float> a;
                a = Vector512.Create(xp[o0]); c0a = Avx512F.FusedMultiplyAdd(a, d0, c0a); c0b = Avx512F.FusedMultiplyAdd(a, d1, c0b);
                a = Vector512.Create(xp[o1]); c1a = Avx512F.FusedMultiplyAdd(a, d0, c1a); c1b = Avx512F.FusedMultiplyAdd(a, d1, c1b);
                a = Vector512.Create(xp[o2]); c2a = Avx512F.FusedMultiplyAdd(a, d0, c2a); c2b = Avx512F.FusedMultiplyAdd(a, d1, c2b);
                a = Vector512.Create(xp[o3]); c3a = Avx512F.FusedMultiplyAdd(a, d0, c3a); c3b = Avx512F.FusedMultiplyAdd(a, d1, c3b);
                a = Vector512.Create(xp[o4]); c4a = Avx512F.FusedMultiplyAdd(a, d0, c4a); c4b = Avx512F.FusedMultiplyAdd(a, d1, c4b);
                a = Vector512.Create(xp[o5]); c5a = Avx512F.FusedMultiplyAdd(a, d0, c5a); c5b = Avx512F.FusedMultiplyAdd(a, d1, c5b);
                a = Vector512.Create(xp[o6]); c6a = Avx512F.FusedMultiplyAdd(a, d0, c6a); c6b = Avx512F.FusedMultiplyAdd(a, d1, c6b);
                a = Vector512.Create(xp[o7]); c7a = Avx512F.FusedMultiplyAdd(a, d0, c7a); c7b = Avx512F.FusedMultiplyAdd(a, d1, c7b);
                a = Vector512.Create(xp[o8]); c8a = Avx512F.FusedMultiplyAdd(a, d0, c8a); c8b = Avx512F.FusedMultiplyAdd(a, d1, c8b);
                a = Vector512.Create(xp[o9]); c9a = Avx512F.FusedMultiplyAdd(a, d0, c9a); c9b = Avx512F.FusedMultiplyAdd(a, d1, c9b);
                a = Vector512.Create(xp[o10]); c10a = Avx512F.FusedMultiplyAdd(a, d0, c10a); c10b = Avx512F.FusedMultiplyAdd(a, d1, c10b);
                a = Vector512.Create(xp[o11]); c11a = Avx512F.FusedMultiplyAdd(a, d0, c11a); c11b = Avx512F.FusedMultiplyAdd(a, d1, c11b);
                xp += pixelStep;
                gp += WideTileChannels;
            }
        }
        if (channels == WideTileChannels && taps == WideTileTaps)
        {
            AddRow(dst + 0 * ldc, c0a, c0b);
            AddRow(dst + 1 * ldc, c1a, c1b);
            AddRow(dst + 2 * ldc, c2a, c2b);
            AddRow(dst + 3 * ldc, c3a, c3b);
            AddRow(dst + 4 * ldc, c4a, c4b);
            AddRow(dst + 5 * ldc, c5a, c5b);
            AddRow(dst + 6 * ldc, c6a, c6b);
            AddRow(dst + 7 * ldc, c7a, c7b);
            AddRow(dst + 8 * ldc, c8a, c8b);
            AddRow(dst + 9 * ldc, c9a, c9b);
            AddRow(dst + 10 * ldc, c10a, c10b);
            AddRow(dst + 11 * ldc, c11a, c11b);
            return;
        }
        float* tile = stackalloc float[WideTileTaps * WideTileChannels];
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
        AddEdge(tile, dst, ldc, taps, channels, WideTileChannels);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* dst, Vector512<float> a, Vector512<float> b)
    {
        (Vector512.Load(dst) + a).Store(dst);
        (Vector512.Load(dst + 16) + b).Store(dst + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* dst, Vector256<float> a, Vector256<float> b)
    {
        (Vector256.Load(dst) + a).Store(dst);
        (Vector256.Load(dst + 8) + b).Store(dst + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddEdge(float* tile, float* dst, int ldc, int taps, int channels, int width = TileChannels)
    {
        for (int t = 0; t < taps; t++)
            for (int c = 0; c < channels; c++)
                dst[(nint)t * ldc + c] += tile[t * width + c];
    }

    /// <summary>The scalar level: the same tile, one float at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileScalar(float* x, int* offsets, nint rowStep, nint pixelStep, int rows, int width,
        float* panel, float* dst, int ldc, int taps, int channels)
    {
        float* tile = stackalloc float[TileTaps * TileChannels];
        new Span<float>(tile, TileTaps * TileChannels).Clear();
        float* gp = panel;
        for (int r = 0; r < rows; r++)
        {
            float* xp = x + r * rowStep;
            for (int j = 0; j < width; j++)
            {
                for (int t = 0; t < taps; t++)
                {
                    float a = xp[offsets[t]];
                    for (int c = 0; c < channels; c++) tile[t * TileChannels + c] += a * gp[c];
                }
                xp += pixelStep;
                gp += TileChannels;
            }
        }
        AddEdge(tile, dst, ldc, taps, channels);
    }
}
