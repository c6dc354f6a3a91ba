using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceKernels
{
    public static void Pool2D(ReadOnlySpan<float> input, Span<float> output, in Pool2DGeometry g, PoolKind kind)
    {
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
            for (int c = 0; c < g.C; c++)
            {
                float acc = kind == PoolKind.Max ? float.NegativeInfinity : 0f;
                for (int p = 0; p < g.PoolH; p++)
                {
                    int ih = ih0 + p * g.DilationH;
                    if (ih < 0 || ih >= g.H) continue;
                    for (int q = 0; q < g.PoolW; q++)
                    {
                        int iw = iw0 + q * g.DilationW;
                        if (iw < 0 || iw >= g.W) continue;
                        float v = input[((b * g.H + ih) * g.W + iw) * g.C + c];
                        acc = kind == PoolKind.Max ? MathF.Max(acc, v) : acc + v;
                    }
                }
                output[((b * g.OH + i) * g.OW + j) * g.C + c] =
                    kind == PoolKind.Max ? acc : acc / g.AverageDivisor(ih0, iw0);
            }
        }
    }

    public static void GlobalPool(ReadOnlySpan<float> input, Span<float> output, int n, int spatial, int channels, PoolKind kind)
    {
        for (int b = 0; b < n; b++)
        for (int c = 0; c < channels; c++)
        {
            float acc = kind == PoolKind.Max ? float.NegativeInfinity : 0f;
            for (int s = 0; s < spatial; s++)
            {
                float v = input[(b * spatial + s) * channels + c];
                acc = kind == PoolKind.Max ? MathF.Max(acc, v) : acc + v;
            }
            output[b * channels + c] = kind == PoolKind.Max ? acc : acc / spatial;
        }
    }
}
