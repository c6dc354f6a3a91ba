namespace ConvEngine.Benchmarks;

/// <summary>
/// Permutations between our channels-last layouts (NHWC activations, HWIO filters, as Keras) and
/// ONNX's channels-first ones (NCHW, OIHW), so both engines see the same numbers.
/// </summary>
public static class Layouts
{
    public static float[] NhwcToNchw(ReadOnlySpan<float> nhwc, int n, int h, int w, int c)
    {
        var nchw = new float[nhwc.Length];
        for (int b = 0; b < n; b++)
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        for (int ch = 0; ch < c; ch++)
            nchw[((b * c + ch) * h + y) * w + x] = nhwc[((b * h + y) * w + x) * c + ch];
        return nchw;
    }

    public static float[] NchwToNhwc(ReadOnlySpan<float> nchw, int n, int c, int h, int w)
    {
        var nhwc = new float[nchw.Length];
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            nhwc[((b * h + y) * w + x) * c + ch] = nchw[((b * c + ch) * h + y) * w + x];
        return nhwc;
    }

    /// <summary>Filter (KH, KW, I, O) → (O, I, KH, KW).</summary>
    public static float[] HwioToOihw(ReadOnlySpan<float> hwio, int kh, int kw, int i, int o)
    {
        var oihw = new float[hwio.Length];
        for (int p = 0; p < kh; p++)
        for (int q = 0; q < kw; q++)
        for (int ci = 0; ci < i; ci++)
        for (int co = 0; co < o; co++)
            oihw[((co * i + ci) * kh + p) * kw + q] = hwio[((p * kw + q) * i + ci) * o + co];
        return oihw;
    }
}
