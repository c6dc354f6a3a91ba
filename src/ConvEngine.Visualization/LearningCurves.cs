using ConvEngine.Training;
using ScottPlot;
using SkiaSharp;

namespace ConvEngine.Visualization;

/// <summary>
/// Several training runs' learning curves side by side, as the course plots one run
/// (history_frame.loc[:, ['loss', 'val_loss']].plot() and the same for accuracy): one column per run, a loss row and, when
/// every run logs it, an accuracy row; training and validation in each panel, the same y range along a row so the
/// runs compare at a glance.
/// </summary>
public static class LearningCurves
{
    /// <summary>Width in pixels of one panel (loss or accuracy) of one run.</summary>
    public const int PanelWidth = 520;
    /// <summary>Height in pixels of one panel.</summary>
    public const int PanelHeight = 360;

    /// <summary>The PNG; <paramref name="accuracyKey"/> (e.g. "binary_accuracy") adds the accuracy row.</summary>
    public static byte[] RenderPng(IReadOnlyList<(string Title, History History)> runs, string? accuracyKey)
    {
        if (runs.Count == 0) throw new ArgumentException("Learning curves need at least one run.");
        var rows = new List<string> { "loss" };
        if (accuracyKey is not null) rows.Add(accuracyKey);
        foreach (var (title, history) in runs)
            foreach (var key in rows)
                if (!history.Contains(key)) throw new ArgumentException($"Run '{title}' logs no '{key}'; it has {string.Join(", ", history.Keys)}.");

        using var surface = SKSurface.Create(new SKImageInfo(runs.Count * PanelWidth, rows.Count * PanelHeight, SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.Canvas.Clear(SKColors.White);
        for (int r = 0; r < rows.Count; r++)
        {
            string key = rows[r];
            var all = runs.SelectMany(run => Series(run.History, key)).ToList();
            double low = all.Min(), high = all.Max(), pad = Math.Max(1e-6, (high - low) * 0.05);
            int lastEpoch = runs.Max(run => run.History.Epochs[^1]);
            for (int c = 0; c < runs.Count; c++)
            {
                var (title, history) = runs[c];
                using var plot = new Plot();
                double[] epochs = history.Epochs.Select(e => (double)e).ToArray();
                foreach (var series in new[] { key, "val_" + key }.Where(history.Contains))
                {
                    var line = plot.Add.Scatter(epochs, history[series].ToArray());
                    line.LegendText = series;
                    line.LineWidth = 2;
                    line.MarkerSize = epochs.Length <= 30 ? 4 : 0;
                }
                plot.Axes.SetLimits(0, Math.Max(1, lastEpoch), low - pad, high + pad);
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
                plot.Title(r == 0 ? title : $"{title}: {key}");
                plot.XLabel("epoch");
                plot.YLabel(key);
                plot.ShowLegend(key.Contains("acc", StringComparison.Ordinal) ? Alignment.LowerRight : Alignment.UpperRight);
                using var panel = SKBitmap.Decode(plot.GetImageBytes(PanelWidth, PanelHeight, ImageFormat.Png));
                surface.Canvas.DrawBitmap(panel, c * PanelWidth, r * PanelHeight);
            }
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static IEnumerable<double> Series(History history, string key) =>
        new[] { key, "val_" + key }.Where(history.Contains).SelectMany(k => history[k]).Where(double.IsFinite);
}
