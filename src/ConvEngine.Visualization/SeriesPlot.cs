using ConvEngine.Series;
using ScottPlot;
using SkiaSharp;

namespace ConvEngine.Visualization;

/// <summary>
/// A series and its filtered version as one PNG of two panels with a shared x axis: the original on top (with the
/// filtered series over it when the kernel's weights sum to about 1, a smoother, so both share a scale), the filtered
/// series alone below. Each filtered value is drawn at the last input step its window reads.
/// </summary>
public static class SeriesPlot
{
    /// <summary>The picture's width in pixels (both panels).</summary>
    public const int Width = 900;

    /// <summary>Each panel's height in pixels; the picture is twice as high.</summary>
    public const int PanelHeight = 320;

    /// <summary>
    /// The PNG. The x axis is <paramref name="dates"/> when given, else <paramref name="numbers"/> (years, indices), else
    /// the step index; <paramref name="xLabel"/> names it.
    /// </summary>
    /// <param name="title">The top panel's title.</param>
    /// <param name="seriesName">The series' name: the top panel's legend and y label, and with the kernel's name the filtered series' label.</param>
    /// <param name="original">The input series, one value per step.</param>
    /// <param name="filtered">Its convolution with <paramref name="kernel"/>: values and the input step each window ends at.</param>
    /// <param name="kernel">The kernel that made <paramref name="filtered"/>; its weights decide whether the two share the top panel.</param>
    /// <param name="dates">Dates of the steps, drawn as date ticks.</param>
    /// <param name="numbers">Numeric x values of the steps, when there are no dates.</param>
    /// <param name="xLabel">The x axis label.</param>
    /// <exception cref="ArgumentException">The x values are not one per series value.</exception>
    public static byte[] RenderPng(string title, string seriesName, float[] original, FilteredSeries filtered, SeriesKernel kernel,
        DateTime[]? dates = null, double[]? numbers = null, string xLabel = "step")
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(filtered);
        ArgumentNullException.ThrowIfNull(kernel);
        double[] x = dates is not null ? dates.Select(d => d.ToOADate()).ToArray()
            : numbers ?? Enumerable.Range(0, original.Length).Select(i => (double)i).ToArray();
        if (x.Length != original.Length) throw new ArgumentException($"{x.Length} x values for {original.Length} series values.");
        double[] xs = filtered.EndsAt.Select(i => x[i]).ToArray();
        double[] ys = filtered.Values.Select(v => (double)v).ToArray();
        bool smoother = Math.Abs(kernel.Weights.Sum() - 1) <= 0.1;
        string filteredName = $"{seriesName} * {kernel.Name}";

        using var top = new Plot();
        var line = top.Add.Scatter(x, original.Select(v => (double)v).ToArray());
        line.LegendText = seriesName;
        line.MarkerSize = 0;
        line.LineWidth = 1;
        if (smoother)
        {
            var over = top.Add.Scatter(xs, ys);
            over.LegendText = filteredName;
            over.MarkerSize = 0;
            over.LineWidth = 2;
        }
        top.Title(title);
        top.YLabel(seriesName);
        top.ShowLegend(Alignment.UpperLeft);

        using var bottom = new Plot();
        var result = bottom.Add.Scatter(xs, ys);
        result.LegendText = filteredName;
        result.MarkerSize = 0;
        result.LineWidth = 1;
        result.Color = Colors.C1;
        bottom.XLabel(xLabel);
        bottom.YLabel(filteredName);
        bottom.ShowLegend(Alignment.UpperLeft);
        if (dates is not null)
        {
            top.Axes.DateTimeTicksBottom();
            bottom.Axes.DateTimeTicksBottom();
        }
        // The same x range in both panels, so a filtered value sits under the input it ends at.
        top.Axes.SetLimitsX(x[0], x[^1]);
        bottom.Axes.SetLimitsX(x[0], x[^1]);

        using var upper = SKBitmap.Decode(top.GetImageBytes(Width, PanelHeight, ImageFormat.Png));
        using var lower = SKBitmap.Decode(bottom.GetImageBytes(Width, PanelHeight, ImageFormat.Png));
        using var surface = SKSurface.Create(new SKImageInfo(Width, 2 * PanelHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.Canvas.Clear(SKColors.White);
        surface.Canvas.DrawBitmap(upper, 0, 0);
        surface.Canvas.DrawBitmap(lower, 0, PanelHeight);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
