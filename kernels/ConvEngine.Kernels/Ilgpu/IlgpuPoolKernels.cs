using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>
/// <see cref="Pool2DGeometry"/> as a kernel argument: ILGPU accepts only blittable parameters and
/// a bool is not, so CountIncludePad travels as an int and the record is rebuilt inside the kernel
/// (its <see cref="Pool2DGeometry.AverageDivisor"/> then runs on the device unchanged).
/// </summary>
internal readonly struct IlgpuPoolGeometry
{
    public readonly int N, H, W, C, PoolH, PoolW, StrideH, StrideW, DilationH, DilationW;
    public readonly int PadTop, PadBottom, PadLeft, PadRight, OH, OW, CountIncludePad;

    public IlgpuPoolGeometry(in Pool2DGeometry g)
    {
        (N, H, W, C) = (g.N, g.H, g.W, g.C);
        (PoolH, PoolW, StrideH, StrideW, DilationH, DilationW) = (g.PoolH, g.PoolW, g.StrideH, g.StrideW, g.DilationH, g.DilationW);
        (PadTop, PadBottom, PadLeft, PadRight, OH, OW) = (g.PadTop, g.PadBottom, g.PadLeft, g.PadRight, g.OH, g.OW);
        CountIncludePad = g.CountIncludePad ? 1 : 0;
    }

    public Pool2DGeometry ToGeometry() => new(N, H, W, C, PoolH, PoolW, StrideH, StrideW, DilationH, DilationW,
        PadTop, PadBottom, PadLeft, PadRight, OH, OW, CountIncludePad != 0);
}

/// <summary>Pooling kernels over NHWC: windowed max/average, global max/average, and their gradients.</summary>
internal static class IlgpuPoolKernels
{
    /// <summary>
    /// One thread per output element (b,i,j,c). Window cells at (i·s−pad+p·d, j·s−pad+q·d); cells outside
    /// the input are skipped, so padding never wins a max. Average divides by the geometry's divisor
    /// (pads excluded, or included for Caffe/ONNX count_include_pad, never the ceil-mode overhang).
    /// </summary>
    public static void Forward(Index1D index, ArrayView<float> input, ArrayView<float> output, IlgpuPoolGeometry geometry, PoolKind kind)
    {
        var g = geometry.ToGeometry();
        int c = index % g.C;
        int pixel = index / g.C;
        int j = pixel % g.OW;
        int i = pixel / g.OW % g.OH;
        int b = pixel / (g.OW * g.OH);
        int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
        bool max = kind == PoolKind.Max;

        float acc = max ? float.NegativeInfinity : 0f;
        for (int p = 0; p < g.PoolH; p++)
        {
            int ih = ih0 + p * g.DilationH;
            if (ih < 0 || ih >= g.H) continue;
            for (int q = 0; q < g.PoolW; q++)
            {
                int iw = iw0 + q * g.DilationW;
                if (iw < 0 || iw >= g.W) continue;
                float v = input[((b * g.H + ih) * g.W + iw) * g.C + c];
                acc = max ? MathF.Max(acc, v) : acc + v;
            }
        }
        output[index] = max ? acc : acc / g.AverageDivisor(ih0, iw0);
    }

    /// <summary>
    /// Gather, one thread per input element (b,h,w,c): sums the gradient of every output window that
    /// covers it. Max: a window's gradient goes only to its first maximum in scan order (p, then q).
    /// Average: each covered cell receives gOut / divisor.
    /// </summary>
    public static void Backward(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradInput,
        IlgpuPoolGeometry geometry, PoolKind kind)
    {
        var g = geometry.ToGeometry();
        int c = index % g.C;
        int pixel = index / g.C;
        int w = pixel % g.W;
        int h = pixel / g.W % g.H;
        int b = pixel / (g.W * g.H);

        float sum = 0f;
        for (int p = 0; p < g.PoolH; p++)
        {
            int ti = h + g.PadTop - p * g.DilationH;   // = i·StrideH when window row i covers h at offset p
            if (ti < 0 || ti % g.StrideH != 0 || ti / g.StrideH >= g.OH) continue;
            int i = ti / g.StrideH;
            for (int q = 0; q < g.PoolW; q++)
            {
                int tj = w + g.PadLeft - q * g.DilationW;
                if (tj < 0 || tj % g.StrideW != 0 || tj / g.StrideW >= g.OW) continue;
                int j = tj / g.StrideW;
                int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
                float gradient = gradOutput[((b * g.OH + i) * g.OW + j) * g.C + c];
                if (kind == PoolKind.Max)
                {
                    if (FirstMaxOffset(input, g, b, c, ih0, iw0) == p * g.PoolW + q) sum += gradient;
                }
                else
                {
                    sum += gradient / g.AverageDivisor(ih0, iw0);
                }
            }
        }
        gradInput[index] = sum;
    }

    /// <summary>The window offset p·PoolW+q of the first maximum among in-bounds cells, in scan order.</summary>
    private static int FirstMaxOffset(ArrayView<float> input, Pool2DGeometry g, int b, int c, int ih0, int iw0)
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
                float v = input[((b * g.H + ih) * g.W + iw) * g.C + c];
                if (best < 0 || v > bestValue)
                {
                    best = p * g.PoolW + q;
                    bestValue = v;
                }
            }
        }
        return best;
    }

    /// <summary>One thread per (b,c): mean or max over the spatial positions of (N, spatial, C).</summary>
    public static void GlobalForward(Index1D index, ArrayView<float> input, ArrayView<float> output, int spatial, int channels, PoolKind kind)
    {
        int c = index % channels, b = index / channels;
        bool max = kind == PoolKind.Max;
        float acc = max ? float.NegativeInfinity : 0f;
        for (int s = 0; s < spatial; s++)
        {
            float v = input[(b * spatial + s) * channels + c];
            acc = max ? MathF.Max(acc, v) : acc + v;
        }
        output[index] = max ? acc : acc / spatial;
    }

    /// <summary>
    /// One thread per (b,c), writing its whole spatial column: average spreads gOut/spatial;
    /// max sends gOut to the first maximum and zero elsewhere.
    /// </summary>
    public static void GlobalBackward(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradInput,
        int spatial, int channels, PoolKind kind)
    {
        int c = index % channels, b = index / channels;
        float gradient = gradOutput[index];
        if (kind == PoolKind.Average)
        {
            for (int s = 0; s < spatial; s++)
                gradInput[(b * spatial + s) * channels + c] = gradient / spatial;
            return;
        }
        int best = 0;
        float bestValue = input[b * spatial * channels + c];
        for (int s = 1; s < spatial; s++)
        {
            float v = input[(b * spatial + s) * channels + c];
            if (v > bestValue) { best = s; bestValue = v; }
        }
        for (int s = 0; s < spatial; s++)
            gradInput[(b * spatial + s) * channels + c] = s == best ? gradient : 0f;
    }
}
