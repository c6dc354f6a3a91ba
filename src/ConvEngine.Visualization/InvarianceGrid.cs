using System.Globalization;
using ConvEngine.Inspection;

namespace ConvEngine.Visualization;

/// <summary>
/// The translation-invariance demonstration as a grid: columns are the pooling levels (0: the images), rows the
/// original, the shifted copy and their absolute difference. The two image rows share one scale per level, so equal
/// maps look equal; the difference row is scaled from 0 to the largest difference at any level.
/// </summary>
public static class InvarianceGrid
{
    /// <summary>The PNG of <paramref name="levels"/> for an image shifted by (<paramref name="dx"/>, <paramref name="dy"/>).</summary>
    /// <param name="levels">The image (level 0) and each pooling level's original and shifted maps, in order.</param>
    /// <param name="dx">Pixels the copy was shifted right.</param>
    /// <param name="dy">Pixels the copy was shifted down.</param>
    /// <param name="pool">The max pool's size (and stride) between levels, for the legend.</param>
    /// <exception cref="ArgumentException">No levels.</exception>
    public static byte[] RenderPng(IReadOnlyList<InvarianceLevel> levels, int dx, int dy, int pool)
    {
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.Count == 0) throw new ArgumentException("No levels to draw.");
        float differenceMax = (float)Math.Max(levels.Max(l => l.MaxAbsDifference), 1e-12);
        var original = new List<GridTile?>();
        var shifted = new List<GridTile?>();
        var difference = new List<GridTile?>();
        foreach (var level in levels)
        {
            var (loA, hiA) = TileColors.Range(level.Original);
            var (loB, hiB) = TileColors.Range(level.Shifted);
            float lo = Math.Min(loA, loB), hi = Math.Max(hiA, hiB);
            string name = level.Level == 0 ? "image" : $"max pool x{level.Level}";
            original.Add(new GridTile(TileColors.Viridis(level.Original, lo, hi), level.Height, level.Width, $"{name}: {level.Height}x{level.Width}"));
            shifted.Add(new GridTile(TileColors.Viridis(level.Shifted, lo, hi), level.Height, level.Width, $"{name}: {level.Height}x{level.Width}"));
            var delta = new float[level.Original.Length];
            for (int i = 0; i < delta.Length; i++) delta[i] = Math.Abs(level.Original[i] - level.Shifted[i]);
            difference.Add(new GridTile(TileColors.Viridis(delta, 0, differenceMax), level.Height, level.Width,
                $"max {Format(level.MaxAbsDifference)}, {level.FractionDiffering.ToString("P1", CultureInfo.InvariantCulture)} differ"));
        }
        var legend = new List<string>
        {
            $"shift: {dx} px right, {dy} px down (zeros come in); max pooling {pool}x{pool}, stride {pool}, padding same, repeated",
            "rows: original, shifted, |original - shifted|; viridis, the two images on one scale per level",
        };
        return TileGrid.RenderPng("Translation invariance: what repeated pooling forgets", legend, [original, shifted, difference],
            ["original", "shifted", "|difference|"], minTileSide: 128, maxTileSide: 1024, equalTiles: true);
    }

    private static string Format(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}
