namespace ConvEngine.Visualization;

/// <summary>How values become pixel colours: the scalings the grids use, each returning RGBA bytes (4 per value).</summary>
public static class TileColors
{
    private static readonly ScottPlot.IColormap ViridisMap = new ScottPlot.Colormaps.Viridis();

    /// <summary>
    /// Min–max normalisation to [0, 255], as matplotlib's plt.imshow scales a 2-D array by default: the smallest value
    /// becomes 0, the largest 255. A constant map becomes all 0, as matplotlib's Normalize maps every value to the low
    /// end when vmin = vmax.
    /// </summary>
    public static float[] MinMaxTo255(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return [];
        var (min, max) = Range(values);
        var scaled = new float[values.Length];
        if (max > min)
        {
            // Division in double keeps 255 exact at the maximum.
            double range = (double)max - min;
            for (int i = 0; i < values.Length; i++) scaled[i] = (float)((values[i] - (double)min) / range * 255.0);
        }
        return scaled;
    }

    /// <summary>The smallest and largest value (0, 0 for none).</summary>
    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return (0, 0);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }

    /// <summary>matplotlib's default colour map (viridis) over [<paramref name="min"/>, <paramref name="max"/>]: dark violet low, yellow high; a constant map is all violet.</summary>
    public static byte[] Viridis(ReadOnlySpan<float> values, float min, float max)
    {
        var rgba = new byte[values.Length * 4];
        double range = (double)max - min;
        for (int i = 0; i < values.Length; i++)
        {
            double f = range > 0 ? Math.Clamp((values[i] - (double)min) / range, 0, 1) : 0;
            var c = ViridisMap.GetColor(f);
            rgba[4 * i] = c.R;
            rgba[4 * i + 1] = c.G;
            rgba[4 * i + 2] = c.B;
            rgba[4 * i + 3] = 255;
        }
        return rgba;
    }

    /// <summary>Grey with 0 at mid-grey: −<paramref name="absMax"/> black, +<paramref name="absMax"/> white — so a kernel's sign stays visible.</summary>
    public static byte[] SymmetricGrey(ReadOnlySpan<float> values, float absMax)
    {
        var rgba = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            byte g = absMax > 0 ? (byte)Math.Round(Math.Clamp(0.5 + 0.5 * values[i] / absMax, 0, 1) * 255) : (byte)128;
            rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = g;
            rgba[4 * i + 3] = 255;
        }
        return rgba;
    }

    /// <summary>Interleaved RGB values (3 per pixel) scaled from [<paramref name="min"/>, <paramref name="max"/>] to [0, 255] per component.</summary>
    public static byte[] Rgb(ReadOnlySpan<float> rgb, float min, float max)
    {
        int pixels = rgb.Length / 3;
        var rgba = new byte[pixels * 4];
        double range = (double)max - min;
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < 3; c++)
                rgba[4 * p + c] = range > 0 ? (byte)Math.Round(Math.Clamp((rgb[3 * p + c] - (double)min) / range, 0, 1) * 255) : (byte)0;
            rgba[4 * p + 3] = 255;
        }
        return rgba;
    }
}
