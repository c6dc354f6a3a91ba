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
/// The whole filter gradient is small, so a 6-tap × 16-channel tile of it stays in registers while it streams
/// over a strip of output rows; the six patch values per pixel are broadcast straight from a zero-padded copy
/// of the input rows the strip reads (no im2col, which costs more than the FMAs when Cg is 1 or 3), and the
/// strip's gradOut is repacked 16 channels wide so a ragged OC needs no edge code.
/// </summary>
/// <remarks>
/// The batch's output rows are cut into fixed contiguous parts, one per thread; part 0 sums into gradFilter,
/// the others into pooled partials added in part order, so the result is the same every run. The AVX-512
/// level runs the same 256-bit tiles (the kernel is measured and tested only on AVX2 machines).
/// </remarks>
[SkipLocalsInit]
internal static unsafe class CpuConvFilterGradient
{
    /// <summary>Tile height (taps) and width (output channels) of the register-blocked kernel.</summary>
    private const int TileTaps = 6, TileChannels = 16;
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
        int ocPanels = (g.OutChannelsPerGroup + TileChannels - 1) / TileChannels;
        int stripRows = Math.Max(1, StripGradientFloats / (ocPanels * TileChannels) / g.OW);
        int paddedWidth = ConvInputStrip.Width(g);
        bool padded = ConvInputStrip.IsPadded(g);
        float* strip = padded ? (t_strip ??= new()).Get(ConvInputStrip.Floats(g, stripRows)) : null;
        float* panels = (t_gradPanel ??= new()).Get((long)ocPanels * stripRows * g.OW * TileChannels);
        int* offsets = stackalloc int[TileTaps];

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
                    PackGradient(dy + oc0 + panel * TileChannels, g.OC, Math.Min(TileChannels, ocg - panel * TileChannels),
                        pixels, panels + (nint)panel * pixels * TileChannels);
                int groupTaps = CpuIm2Col.RowLength(g);
                for (int t0 = 0; t0 < groupTaps; t0 += TileTaps)
                {
                    int tileTaps = Math.Min(TileTaps, groupTaps - t0);
                    for (int t = 0; t < TileTaps; t++)
                        offsets[t] = TapOffset(g, group, t0 + Math.Min(t, tileTaps - 1), paddedWidth);
                    for (int panel = 0; panel < ocPanels; panel++)
                    {
                        int channels = Math.Min(TileChannels, ocg - panel * TileChannels);
                        float* dst = target + (nint)t0 * g.OC + oc0 + panel * TileChannels;
                        float* gp = panels + (nint)panel * pixels * TileChannels;
                        if (simd >= SimdLevel.Avx2)
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

    /// <summary>gradOut columns [0, channels) of each pixel into a 16-wide panel, zero beyond them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackGradient(float* dy, int ldy, int channels, int pixels, float* panel)
    {
        if (channels == TileChannels)
        {
            for (int p = 0; p < pixels; p++)
            {
                Vector256.Load(dy + (nint)p * ldy).Store(panel + p * TileChannels);
                Vector256.Load(dy + (nint)p * ldy + 8).Store(panel + p * TileChannels + 8);
            }
            return;
        }
        for (int p = 0; p < pixels; p++)
        {
            float* dst = panel + p * TileChannels, src = dy + (nint)p * ldy;
            int c = 0;
            for (; c < channels; c++) dst[c] = src[c];
            for (; c < TileChannels; c++) dst[c] = 0f;
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* dst, Vector256<float> a, Vector256<float> b)
    {
        (Vector256.Load(dst) + a).Store(dst);
        (Vector256.Load(dst + 8) + b).Store(dst + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddEdge(float* tile, float* dst, int ldc, int taps, int channels)
    {
        for (int t = 0; t < taps; t++)
            for (int c = 0; c < channels; c++)
                dst[(nint)t * ldc + c] += tile[t * TileChannels + c];
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
