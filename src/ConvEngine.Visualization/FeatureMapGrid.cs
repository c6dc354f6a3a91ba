using System.Globalization;
using ConvEngine.Inspection;

namespace ConvEngine.Visualization;

/// <summary>
/// A layer's output for one sample as a grid, one tile per channel, each channel min–max scaled on its own in
/// matplotlib's default colour map (viridis: dark violet low, yellow high), labelled with the layer's name, class,
/// shape and value range. Image outputs (H, W, C) give C tiles of H × W; 1-D outputs (L, C) one tile with a row per
/// channel; vectors (units) one strip.
/// </summary>
public static class FeatureMapGrid
{
    /// <summary>The PNG of sample <paramref name="sample"/> of <paramref name="map"/>; at most <paramref name="maxChannels"/> channels are drawn (the legend says how many there are).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sample"/> is not in the batch.</exception>
    public static byte[] RenderPng(FeatureMap map, int sample = 0, int maxChannels = 256)
    {
        ArgumentNullException.ThrowIfNull(map);
        int[] shape = map.Values.Shape.Dims[1..].ToArray();
        int count = map.Values.Shape[0];
        if (sample < 0 || sample >= count) throw new ArgumentOutOfRangeException(nameof(sample), $"Sample {sample} of a batch of {count}.");
        long length = map.Values.Shape.SampleLength;
        float[] values = map.Values.ToArray().AsSpan((int)(sample * length), (int)length).ToArray();
        return RenderPng($"{map.Path} ({map.Layer.ClassName})", shape, values, count > 1 ? $"sample {sample} of {count}" : null, maxChannels);
    }

    /// <summary>The PNG of one sample's <paramref name="values"/> of shape <paramref name="shape"/> (channels last), titled <paramref name="name"/>.</summary>
    /// <param name="name">The title.</param>
    /// <param name="shape">One sample's shape without the batch axis: (H, W, C), (L, C) or (units).</param>
    /// <param name="values">The sample's values, channels last, as many as <paramref name="shape"/> holds.</param>
    /// <param name="note">Added to the first legend line (e.g. which sample of a batch this is).</param>
    /// <param name="maxChannels">Draw at most this many channels, the first ones.</param>
    /// <exception cref="ArgumentException">The values do not fill the shape.</exception>
    public static byte[] RenderPng(string name, IReadOnlyList<int> shape, float[] values, string? note = null, int maxChannels = 256)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != shape.Aggregate(1L, (a, d) => a * d))
            throw new ArgumentException($"{values.Length} values do not fill shape ({string.Join(", ", shape)}).");
        var (min, max) = TileColors.Range(values);
        string shapeText = "(None, " + string.Join(", ", shape) + ")";
        var legend = new List<string> { $"output {shapeText}, values {Number(min)} to {Number(max)}" + (note is null ? "" : $"; {note}") };

        var rows = new List<IReadOnlyList<GridTile?>>();
        if (shape.Count == 3)
        {
            int h = shape[0], w = shape[1], c = shape[2];
            int shown = Math.Min(c, maxChannels);
            legend.Add($"one tile per channel ({(shown < c ? $"the first {shown} of {c}" : $"{c}")}), each min–max scaled on its own (viridis: dark low, yellow high)");
            var tiles = new List<GridTile>(shown);
            var channel = new float[h * w];
            for (int k = 0; k < shown; k++)
            {
                for (int p = 0; p < h * w; p++) channel[p] = values[p * c + k];
                var (lo, hi) = TileColors.Range(channel);
                tiles.Add(new GridTile(TileColors.Viridis(channel, lo, hi), h, w, k.ToString(CultureInfo.InvariantCulture)));
            }
            int columns = (int)Math.Ceiling(Math.Sqrt(shown));
            rows.AddRange(tiles.Chunk(columns).Select(r => (IReadOnlyList<GridTile?>)r));
        }
        else
        {
            // (L, C) or (units): one picture, a band of rows per channel, so a 1-D signal reads left to right.
            int steps = shape.Count == 2 ? shape[0] : values.Length;
            int channels = shape.Count == 2 ? shape[1] : 1;
            int shown = Math.Min(channels, maxChannels);
            int band = Math.Max(1, steps / (4 * shown));
            var rgba = new byte[shown * band * steps * 4];
            var row = new float[steps];
            for (int k = 0; k < shown; k++)
            {
                for (int t = 0; t < steps; t++) row[t] = values[t * channels + k];
                var (lo, hi) = TileColors.Range(row);
                var coloured = TileColors.Viridis(row, lo, hi);
                for (int b = 0; b < band; b++) coloured.CopyTo(rgba, (k * band + b) * steps * 4);
            }
            legend.Add(shape.Count == 2
                ? $"a band per channel ({(shown < channels ? $"the first {shown} of {channels}" : $"{channels}")}, top to bottom), steps left to right, each channel min–max scaled (viridis)"
                : "the vector left to right, min–max scaled (viridis)");
            rows.Add([new GridTile(rgba, shown * band, steps, shape.Count == 2 ? $"{shown} channel(s) x {steps} steps" : $"{steps} values")]);
        }
        return TileGrid.RenderPng(name, legend, rows);
    }

    internal static string Number(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
