using ConvEngine.Data.Images;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// The PNG grid of `convengine augment`: for one image, its K samples in a near-square grid (as the course shows
/// augmented copies side by side); for a batch of N, one row per image with its K samples across. Tiles are the samples'
/// own sizes (RandomWidth varies them) in cells of the largest, 2 pixels apart on dark grey.
/// </summary>
internal static class AugmentGrid
{
    private const int Gap = 2;
    private const float Background = 40;

    /// <param name="samples">K results, each (N, H, W, C) with C 1 or 3.</param>
    /// <param name="displayScale">Multiplies the values before they are drawn as 0–255 (255 for inputs in [0, 1]).</param>
    public static void Save(string path, IReadOnlyList<(float[] Images, int[] Shape)> samples, int n, float displayScale, string source)
    {
        int channels = samples[0].Shape[3];
        if (channels is not (1 or 3))
            throw new ArgumentException($"INPUT '{source}' has {channels} channels; the PNG grid draws 1 (grey) or 3 (RGB).");
        int cellH = samples.Max(s => s.Shape[1]), cellW = samples.Max(s => s.Shape[2]);
        int k = samples.Count;
        int columns = n > 1 ? k : (int)Math.Ceiling(Math.Sqrt(k));
        int rows = n > 1 ? n : (k + columns - 1) / columns;
        int height = rows * cellH + (rows + 1) * Gap, width = columns * cellW + (columns + 1) * Gap;
        var pixels = new float[height * width * channels];
        Array.Fill(pixels, Background);
        for (int s = 0; s < k; s++)
        for (int b = 0; b < n; b++)
        {
            var (images, shape) = samples[s];
            int h = shape[1], w = shape[2];
            int tile = n > 1 ? b * columns + s : s;
            int top = Gap + tile / columns * (cellH + Gap), left = Gap + tile % columns * (cellW + Gap);
            for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                pixels[((top + y) * width + left + x) * channels + c] = images[((b * h + y) * w + x) * channels + c] * displayScale;
        }
        ImageIO.SavePng(path, pixels, height, width, channels);
    }
}
