using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The readable version of every cpu kernel: plain loops that follow the definitions in
/// shared/reference/keras-semantics.md. The fast kernels are checked against these, and they
/// stay selectable as the "reference" variant.
/// </summary>
internal static partial class CpuReferenceKernels
{
    /// <summary>out[b,i,j,o] = act(bias[o] + Σ in[b, i·s+p·d−pad, j·s+q·d−pad, g·Cg+c] · f[p,q,c,o]); cross-correlation, no flip.</summary>
    public static void Conv2D(ReadOnlySpan<float> input, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, Span<float> output, in Conv2DGeometry g, KernelActivation act)
    {
        int cg = g.InChannelsPerGroup, ocg = g.OutChannelsPerGroup;
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        for (int o = 0; o < g.OC; o++)
        {
            int group = o / ocg;
            float sum = bias.IsEmpty ? 0f : bias[o];
            for (int p = 0; p < g.KH; p++)
            {
                int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                if (ih < 0 || ih >= g.H) continue;
                for (int q = 0; q < g.KW; q++)
                {
                    int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                    if (iw < 0 || iw >= g.W) continue;
                    for (int c = 0; c < cg; c++)
                        sum += input[((b * g.H + ih) * g.W + iw) * g.C + group * cg + c]
                             * filter[((p * g.KW + q) * cg + c) * g.OC + o];
                }
            }
            output[((b * g.OH + i) * g.OW + j) * g.OC + o] = act.Apply(sum);
        }
    }
}
