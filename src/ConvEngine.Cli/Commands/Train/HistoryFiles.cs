using System.Globalization;
using System.Text;
using ConvEngine.Serialization;
using ConvEngine.Training;
using ScottPlot;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// A training history on disk: a CSV as Keras's CSVLogger writes it (an "epoch" column, 0-based, then each
/// logged key) and the course's two plots, history_frame.loc[:, ['loss', 'val_loss']].plot() and the same for
/// accuracy, rendered off-screen by ScottPlot. Every file is written atomically.
/// </summary>
internal static class HistoryFiles
{
    public const int PlotWidth = 640, PlotHeight = 420;

    /// <summary>The CSV text: header "epoch,loss,…,val_loss,…", one row per epoch, round-trippable numbers.</summary>
    public static string ToCsv(History history)
    {
        var text = new StringBuilder();
        text.Append("epoch");
        foreach (var key in history.Keys) text.Append(',').Append(key);
        text.Append('\n');
        for (int i = 0; i < history.Count; i++)
        {
            text.Append(history.Epochs[i].ToString(CultureInfo.InvariantCulture));
            foreach (var key in history.Keys) text.Append(',').Append(history[key][i].ToString("R", CultureInfo.InvariantCulture));
            text.Append('\n');
        }
        return text.ToString();
    }

    public static void WriteCsv(History history, string path) => AtomicFile.WriteAllText(path, ToCsv(history));

    /// <summary>Reads a CSV in <see cref="ToCsv"/>'s layout (Keras's CSVLogger) back; a bad header, row or number names the file and line.</summary>
    public static History ReadCsv(string path)
    {
        // A regular file of bounded size (a history of a million epochs is ~100 MB): /dev/zero never ends, a FIFO blocks.
        byte[] bytes = ConvEngine.Serialization.InputFile.ReadAllBytes(path, "History file", 256L << 20);
        var lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0 || lines[0].Split(',') is not ["epoch", .. var keys] || keys.Length == 0)
            throw new FormatException($"History file '{path}': the first line must be \"epoch,loss,…\" (Keras's CSVLogger layout).");
        var epochs = new System.Text.Json.Nodes.JsonArray();
        var series = keys.Select(_ => new System.Text.Json.Nodes.JsonArray()).ToArray();
        for (int i = 1; i < lines.Count; i++)
        {
            var cells = lines[i].Split(',');
            if (cells.Length != keys.Length + 1 || !int.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch))
                throw new FormatException($"History file '{path}', line {i + 1}: expected an epoch and {keys.Length} values, got \"{lines[i]}\".");
            epochs.Add(epoch);
            for (int k = 0; k < keys.Length; k++)
            {
                if (!double.TryParse(cells[k + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                    throw new FormatException($"History file '{path}', line {i + 1}: '{keys[k]}' is not a number: \"{cells[k + 1]}\".");
                series[k].Add(value);
            }
        }
        var values = new System.Text.Json.Nodes.JsonObject();
        for (int k = 0; k < keys.Length; k++) values[keys[k]] = series[k];
        return History.FromJson(new System.Text.Json.Nodes.JsonObject { ["epoch"] = epochs, ["history"] = values });
    }

    /// <summary>The accuracy key of a history: the first logged key, other than the loss, that names an accuracy.</summary>
    public static string? AccuracyKey(History history) =>
        history.Keys.FirstOrDefault(k => !k.StartsWith("val_", StringComparison.Ordinal) && k.Contains("acc", StringComparison.Ordinal));

    /// <summary>A line plot of <paramref name="key"/> and, if logged, "val_" + key against the epoch, as PNG bytes.</summary>
    public static byte[] RenderPlot(History history, string key, string title)
    {
        if (!history.Contains(key))
            throw new ArgumentException($"The history has no '{key}'; it has {string.Join(", ", history.Keys)}.");
        double[] epochs = history.Epochs.Select(e => (double)e).ToArray();
        using var plot = new Plot();
        foreach (var series in new[] { key, "val_" + key }.Where(history.Contains))
        {
            var line = plot.Add.Scatter(epochs, history[series].ToArray());
            line.LegendText = series;
            line.LineWidth = 2;
            line.MarkerSize = epochs.Length <= 30 ? 5 : 0;
        }
        // Epochs are whole numbers; the automatic ticks would also label 0.1, 0.2, … on a short run.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(key);
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(PlotWidth, PlotHeight, ImageFormat.Png);
    }

    public static void WritePlot(History history, string key, string title, string path) =>
        AtomicFile.WriteAllBytes(path, RenderPlot(history, key, title));
}
