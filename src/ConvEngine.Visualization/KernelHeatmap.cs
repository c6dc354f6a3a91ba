using System.Globalization;
using ConvEngine.Serialization;
using ScottPlot;

namespace ConvEngine.Visualization;

/// <summary>
/// A kernel drawn as the course's show_kernel draws it: one coloured cell per weight with the
/// weight written in it, row 0 at the top. Rendered off-screen by ScottPlot (SkiaSharp).
/// </summary>
public static class KernelHeatmap
{
    /// <summary>The rendered PNG of an n×n kernel (<paramref name="values"/> row-major): square cells of 40 to 120 pixels, the numbers in contrasting ink.</summary>
    public static byte[] RenderPng(IReadOnlyList<float> values, int n)
    {
        if (n < 1 || values.Count != n * n) throw new ArgumentException($"A {n}x{n} kernel needs {n * n} values; got {values.Count}.");
        int cellPx = Math.Clamp(600 / n, 40, 120);
        int sizePx = cellPx * n;

        var intensities = new double[n, n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                intensities[r, c] = values[r * n + c];
        string[] labels = values.Select(Label).ToArray();
        // Text about 0.6 em wide per character: keep the longest label inside 85% of a cell.
        float fontSize = (float)Math.Min(cellPx * 0.4, cellPx * 1.4 / labels.Max(l => l.Length));

        using var plot = new Plot();
        var heatmap = plot.Add.Heatmap(intensities);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues();
        // Rectangle places the outer cell edges at 0..n, so cell (r, c) spans x ∈ [c, c+1], y ∈ [n−r−1, n−r].
        heatmap.Rectangle = new CoordinateRect(0, n, 0, n);
        var range = heatmap.GetRange();
        if (range.Min == range.Max)
            heatmap.ManualRange = new ScottPlot.Range(range.Min - 1, range.Max + 1);

        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                var text = plot.Add.Text(labels[r * n + c], c + 0.5, n - r - 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = fontSize;
                text.LabelFontColor = InkFor(heatmap.Colormap, intensities[r, c], heatmap.ManualRange ?? range);
            }

        plot.Axes.SetLimits(0, n, 0, n);
        plot.HideAxesAndGrid();
        plot.Layout.Frameless();
        return plot.GetImageBytes(sizePx, sizePx, ImageFormat.Png);
    }

    /// <summary>Renders the kernel to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IReadOnlyList<float> values, int n) => AtomicFile.WriteAllBytes(path, RenderPng(values, n));

    /// <summary>Up to four significant digits, invariant culture: -1, 8, 0.0625, 0.1111.</summary>
    public static string Label(float value) => value.ToString("G4", CultureInfo.InvariantCulture);

    // White on dark cells, near-black on light ones, judged by the cell colour's luma.
    private static Color InkFor(IColormap colormap, double value, ScottPlot.Range range)
    {
        var cell = colormap.GetColor((value - range.Min) / (range.Max - range.Min));
        double luma = 0.299 * cell.R + 0.587 * cell.G + 0.114 * cell.B;
        return luma < 128 ? Colors.White : new Color(8, 24, 48);
    }
}
