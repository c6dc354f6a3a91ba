using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The readable version of every cpu kernel: plain loops that follow the definitions in
/// shared/reference/keras-semantics.md. The fast kernels are checked against these, and they
/// stay selectable as the "reference" variant.
/// </summary>
public static class CpuReferenceKernels
{
    /// <summary>out[b,i,j,o] = act(bias[o] + Σ in[b, i·s+p·d−pad, j·s+q·d−pad, g·Cg+c] · f[p,q,c,o]); cross-correlation, no flip.</summary>
    public static void Conv2D(ReadOnlySpan<float> input, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, Span<float> output, in Conv2DGeometry g, Activation act)
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

    public static void Dense(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output, int m, int k, int n, Activation act)
    {
        for (int r = 0; r < m; r++)
        for (int c = 0; c < n; c++)
        {
            float sum = bias.IsEmpty ? 0f : bias[c];
            for (int t = 0; t < k; t++) sum += input[r * k + t] * weights[t * n + c];
            output[r * n + c] = act.Apply(sum);
        }
    }

    public static void Activate(ReadOnlySpan<float> input, Span<float> output, Activation act)
    {
        for (int i = 0; i < input.Length; i++) output[i] = act.Apply(input[i]);
    }

    /// <summary>Subtracts the row max first so exp never overflows.</summary>
    public static void Softmax(ReadOnlySpan<float> input, Span<float> output, int rows, int cols, bool log)
    {
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * cols, cols);
            var y = output.Slice(r * cols, cols);
            float max = float.NegativeInfinity;
            foreach (float v in x) max = MathF.Max(max, v);
            float sum = 0f;
            foreach (float v in x) sum += MathF.Exp(v - max);
            for (int c = 0; c < cols; c++)
                y[c] = log ? x[c] - max - MathF.Log(sum) : MathF.Exp(x[c] - max) / sum;
        }
    }

    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output)
    {
        for (int i = 0; i < output.Length; i++) output[i] = a[i] + b[i];
    }

    public static void Concat(IReadOnlyList<float[]> inputs, IReadOnlyList<int> channels, Span<float> output, long pixels)
    {
        int total = channels.Sum();
        for (long p = 0; p < pixels; p++)
        {
            int offset = 0;
            for (int t = 0; t < inputs.Count; t++)
            {
                for (int c = 0; c < channels[t]; c++)
                    output[(int)(p * total + offset + c)] = inputs[t][p * channels[t] + c];
                offset += channels[t];
            }
        }
    }

    public static void Pad2D(ReadOnlySpan<float> input, Span<float> output, in Pad2DGeometry g, PadMode mode)
    {
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode);
            int iw = Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode);
            for (int c = 0; c < g.C; c++)
                output[((b * g.OH + i) * g.OW + j) * g.C + c] =
                    ih < 0 || iw < 0 ? 0f : input[((b * g.H + ih) * g.W + iw) * g.C + c];
        }
    }
}
