using ConvEngine.Data.Images;

namespace ConvEngine.Cli.Rendering;

/// <summary>Feature maps as greyscale PNGs, scaled the way matplotlib's plt.imshow scales a 2-D array by default.</summary>
public static class FeatureMapImage
{
    /// <summary>
    /// Min–max normalisation to [0, 255]: the smallest value becomes 0, the largest 255. A constant map
    /// becomes all 0, as matplotlib's Normalize maps every value to the low end when vmin = vmax.
    /// </summary>
    public static float[] MinMaxTo255(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return [];
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        var scaled = new float[values.Length];
        if (max > min)
        {
            // Division in double keeps 255 exact at the maximum.
            double range = (double)max - min;
            for (int i = 0; i < values.Length; i++) scaled[i] = (float)((values[i] - (double)min) / range * 255.0);
        }
        return scaled;
    }

    /// <summary>Writes an (H, W) map min–max normalised as a greyscale PNG, atomically.</summary>
    public static void SaveNormalised(string path, ReadOnlySpan<float> values, int height, int width) =>
        ImageIO.SavePng(path, MinMaxTo255(values), height, width, 1);
}
