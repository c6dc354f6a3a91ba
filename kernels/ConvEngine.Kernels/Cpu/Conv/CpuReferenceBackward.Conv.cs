using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The readable version of every cpu training kernel: plain single-threaded loops that follow
/// the definitions in <see cref="IBackend"/> (IBackend.Training.cs) and
/// shared/reference/keras-semantics.md. The fast kernels that <see cref="CpuBackend"/> runs are
/// checked against these.
/// </summary>
internal static partial class CpuReferenceBackward
{
    /// <summary>gradInput[b, i·s+p·d−pad, j·s+q·d−pad, g·Cg+c] += gradOut[b,i,j,o] · f[p,q,c,o]: the forward's taps, run backwards.</summary>
    public static void Conv2DBackwardData(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> filter, Span<float> gradInput, in Conv2DGeometry g)
    {
        int cg = g.InChannelsPerGroup, ocg = g.OutChannelsPerGroup;
        gradInput[..(g.N * g.H * g.W * g.C)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        for (int o = 0; o < g.OC; o++)
        {
            int group = o / ocg;
            float go = gradOutput[((b * g.OH + i) * g.OW + j) * g.OC + o];
            for (int p = 0; p < g.KH; p++)
            {
                int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                if (ih < 0 || ih >= g.H) continue;
                for (int q = 0; q < g.KW; q++)
                {
                    int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                    if (iw < 0 || iw >= g.W) continue;
                    for (int c = 0; c < cg; c++)
                        gradInput[((b * g.H + ih) * g.W + iw) * g.C + group * cg + c] +=
                            go * filter[((p * g.KW + q) * cg + c) * g.OC + o];
                }
            }
        }
    }

    /// <summary>gradFilter[p,q,c,o] = Σ over b,i,j of input[b, i·s+p·d−pad, j·s+q·d−pad, g·Cg+c] · gradOut[b,i,j,o].</summary>
    public static void Conv2DBackwardFilter(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradFilter, in Conv2DGeometry g)
    {
        int cg = g.InChannelsPerGroup, ocg = g.OutChannelsPerGroup;
        gradFilter[..(g.KH * g.KW * cg * g.OC)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        for (int o = 0; o < g.OC; o++)
        {
            int group = o / ocg;
            float go = gradOutput[((b * g.OH + i) * g.OW + j) * g.OC + o];
            for (int p = 0; p < g.KH; p++)
            {
                int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                if (ih < 0 || ih >= g.H) continue;
                for (int q = 0; q < g.KW; q++)
                {
                    int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                    if (iw < 0 || iw >= g.W) continue;
                    for (int c = 0; c < cg; c++)
                        gradFilter[((p * g.KW + q) * cg + c) * g.OC + o] +=
                            input[((b * g.H + ih) * g.W + iw) * g.C + group * cg + c] * go;
                }
            }
        }
    }

    public static void BiasBackward(ReadOnlySpan<float> gradOutput, Span<float> gradBias, long rows, int channels)
    {
        for (int c = 0; c < channels; c++)
        {
            float sum = 0f;
            for (long r = 0; r < rows; r++) sum += gradOutput[(int)(r * channels + c)];
            gradBias[c] = sum;
        }
    }
}
