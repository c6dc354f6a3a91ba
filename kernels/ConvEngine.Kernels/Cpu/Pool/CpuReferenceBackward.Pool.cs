using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceBackward
{
    /// <summary>
    /// Max: each window's gradient goes to its first maximum in scan order (p, then q), padded
    /// cells skipped. Average: gradient / divisor to every input cell of the window.
    /// </summary>
    public static void Pool2DBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradInput, in Pool2DGeometry g, PoolKind kind)
    {
        gradInput[..(g.N * g.H * g.W * g.C)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
            for (int c = 0; c < g.C; c++)
            {
                float go = gradOutput[((b * g.OH + i) * g.OW + j) * g.C + c];
                if (kind == PoolKind.Max)
                {
                    int best = -1;
                    float bestValue = 0f;
                    for (int p = 0; p < g.PoolH; p++)
                    {
                        int ih = ih0 + p * g.DilationH;
                        if (ih < 0 || ih >= g.H) continue;
                        for (int q = 0; q < g.PoolW; q++)
                        {
                            int iw = iw0 + q * g.DilationW;
                            if (iw < 0 || iw >= g.W) continue;
                            int at = ((b * g.H + ih) * g.W + iw) * g.C + c;
                            if (best < 0 || input[at] > bestValue) (best, bestValue) = (at, input[at]);
                        }
                    }
                    if (best >= 0) gradInput[best] += go;
                }
                else
                {
                    float share = go / g.AverageDivisor(ih0, iw0);
                    for (int p = 0; p < g.PoolH; p++)
                    {
                        int ih = ih0 + p * g.DilationH;
                        if (ih < 0 || ih >= g.H) continue;
                        for (int q = 0; q < g.PoolW; q++)
                        {
                            int iw = iw0 + q * g.DilationW;
                            if (iw < 0 || iw >= g.W) continue;
                            gradInput[((b * g.H + ih) * g.W + iw) * g.C + c] += share;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Average: gradient / spatial to every position. Max: the whole gradient to the first maximum.</summary>
    public static void GlobalPoolBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradInput, int n, int spatial, int channels, PoolKind kind)
    {
        for (int b = 0; b < n; b++)
        for (int c = 0; c < channels; c++)
        {
            float go = gradOutput[b * channels + c];
            int best = 0;
            for (int s = 0; s < spatial; s++)
            {
                int at = (b * spatial + s) * channels + c;
                gradInput[at] = kind == PoolKind.Max ? 0f : go / spatial;
                if (input[at] > input[(b * spatial + best) * channels + c]) best = s;
            }
            if (kind == PoolKind.Max) gradInput[(b * spatial + best) * channels + c] = go;
        }
    }
}
