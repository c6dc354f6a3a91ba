using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Conv input gradient as a forward conv, variant "flipped-filter-conv" of conv2d-backward-data: at stride 1,
/// gradInput = conv(gradOut, flipped filter) with the channel roles swapped and pads of (dilated kernel − 1 − pad)
/// on each side. The backend runs that conv on a forward kernel (the depthwise one for a depthwise conv; else the
/// tuner's pick for the flipped shape, or <see cref="CpuConvDirect"/> without tuning) and writes every gradInput value
/// once, where im2col-gemm + col2im stores a column matrix and adds into a zeroed gradInput. Measured on the training
/// nets' 3×3 layers: on a Zen 3 (AVX2, 2 threads) direct ran 120-148 GFLOP/s against 65-112 for im2col-gemm and 78-106
/// for the flipped conv on the forward GEMM; on a Zen 4 (AVX-512) the GEMM ran the Fashion-MNIST net's 7×7 and 14×14
/// layers at 140-154 GFLOP/s against direct's 75-100, hence the tuner.
/// </summary>
internal static unsafe class CpuConvDataGradient
{
    [ThreadStatic] private static CpuScratch.Slot? t_filter;

    /// <summary>True when the gradient is a forward conv: stride 1 and no pad wider than the dilated kernel − 1.</summary>
    public static bool Applies(in Conv2DGeometry g)
    {
        int dkh = WindowMath.DilatedExtent(g.KH, g.DilationH) - 1, dkw = WindowMath.DilatedExtent(g.KW, g.DilationW) - 1;
        return g.StrideH == 1 && g.StrideW == 1
            && g.PadTop <= dkh && g.PadBottom <= dkh && g.PadLeft <= dkw && g.PadRight <= dkw;
    }

    /// <summary>The forward conv that computes the input gradient: input gradOut (N, OH, OW, OC), output (N, H, W, C), same groups.</summary>
    public static Conv2DGeometry Flipped(in Conv2DGeometry g)
    {
        int dkh = WindowMath.DilatedExtent(g.KH, g.DilationH) - 1, dkw = WindowMath.DilatedExtent(g.KW, g.DilationW) - 1;
        return new Conv2DGeometry(g.N, g.OH, g.OW, g.OC, g.KH, g.KW, g.C, g.Groups,
            1, 1, g.DilationH, g.DilationW, dkh - g.PadTop, dkh - g.PadBottom, dkw - g.PadLeft, dkw - g.PadRight, g.H, g.W);
    }

    /// <summary>
    /// flipped[p', q', o, c] = filter[KH−1−p', KW−1−q', c − group·Cg, group·OCg + o] for c in group: the HWIO filter
    /// of <see cref="Flipped"/> (KH, KW, OC/groups, C).
    /// </summary>
    public static void FlipFilter(float* filter, float* flipped, in Conv2DGeometry g)
    {
        int cg = g.InChannelsPerGroup, ocg = g.OutChannelsPerGroup;
        for (int p = 0; p < g.KH; p++)
        for (int q = 0; q < g.KW; q++)
        {
            float* source = filter + (nint)((g.KH - 1 - p) * g.KW + (g.KW - 1 - q)) * cg * g.OC;
            float* target = flipped + (nint)(p * g.KW + q) * ocg * g.C;
            for (int o = 0; o < ocg; o++)
            for (int c = 0; c < g.C; c++)
            {
                int group = c / cg;
                target[o * g.C + c] = source[(c - group * cg) * g.OC + group * ocg + o];
            }
        }
    }

    /// <summary>
    /// <paramref name="filter"/> flipped by <see cref="FlipFilter"/> into this thread's scratch, for the forward conv
    /// <see cref="Flipped"/> of gradOut that gives gradInput; valid until the thread's next call.
    /// </summary>
    public static float* FlippedFilter(float* filter, in Conv2DGeometry g)
    {
        float* flipped = (t_filter ??= new()).Get((long)g.KH * g.KW * g.OutChannelsPerGroup * g.C);
        FlipFilter(filter, flipped, g);
        return flipped;
    }
}
