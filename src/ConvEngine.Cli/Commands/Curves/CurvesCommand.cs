using System.ComponentModel;
using System.Globalization;
using ConvEngine.Serialization;
using ConvEngine.Training;
using ConvEngine.Visualization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine curves RUN... --out curves.png`: learning curves of several training runs side by side (each RUN a
/// `convengine train` output folder or its history.csv), with each run's final and best validation accuracy and its
/// train–validation gap — how the course compares a model trained with and without augmentation.
/// </summary>
public sealed class CurvesCommand : Command<CurvesCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUN>")]
        [Description("Training runs: `convengine train` output folders (their history.csv) or history.csv files.")]
        public string[] Runs { get; init; } = [];

        [CommandOption("--titles <TITLES>")]
        [Description("A title per run, separated by commas (default: the folder names).")]
        public string? Titles { get; init; }

        [CommandOption("-o|--out <PNG>")]
        [Description("The PNG to write (atomically).")]
        public string? Out { get; init; }

        public override ValidationResult Validate()
        {
            if (Runs.Length == 0) return ValidationResult.Error("curves needs at least one RUN (a train output folder or a history.csv).");
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out is required: the PNG to write.");
            if (Titles is not null && Titles.Split(',').Length != Runs.Length)
                return ValidationResult.Error($"--titles has {Titles.Split(',').Length} titles for {Runs.Length} runs.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var writer = AnsiConsole.Console.Profile.Out.Writer;
            var titles = settings.Titles?.Split(',').Select(t => t.Trim()).ToArray();
            var runs = settings.Runs.Select((run, i) =>
            {
                string csv = Directory.Exists(run) ? Path.Combine(run, "history.csv") : run;
                string title = titles?[i] ?? Path.GetFileName(Path.GetFullPath(Directory.Exists(run) ? run : Path.GetDirectoryName(Path.GetFullPath(run))!).TrimEnd('/'));
                return (Title: title, History: HistoryFiles.ReadCsv(csv));
            }).ToList();
            string? accuracyKey = runs.Select(r => HistoryFiles.AccuracyKey(r.History)).Distinct().SingleOrDefault();
            if (accuracyKey is not null && runs.Any(r => !r.History.Contains(accuracyKey))) accuracyKey = null;
            AtomicFile.WriteAllBytes(settings.Out!, LearningCurves.RenderPng(runs, accuracyKey));
            writer.WriteLine(Table(runs, accuracyKey));
            writer.WriteLine($"Wrote {Path.GetFullPath(settings.Out!)}.");
            writer.Flush();
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("curves", e);
        }
    }

    /// <summary>A Markdown table: per run the last and the best validation accuracy, and the last train − validation gaps.</summary>
    public static string Table(IReadOnlyList<(string Title, History History)> runs, string? accuracyKey)
    {
        var lines = new List<string>();
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        if (accuracyKey is not null && runs.All(r => r.History.Contains("val_" + accuracyKey)))
        {
            lines.Add("| run | epochs | final val accuracy | best val accuracy (epoch) | final train accuracy | train − val accuracy | final val loss | val − train loss |");
            lines.Add("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var (title, h) in runs)
            {
                var val = h["val_" + accuracyKey];
                int best = Enumerable.Range(0, val.Count).MaxBy(i => val[i]);
                double train = h[accuracyKey][^1];
                lines.Add($"| {title} | {h.Count} | {F(val[^1])} | {F(val[best])} ({h.Epochs[best] + 1}) | {F(train)} | {F(train - val[^1])} | {F(h["val_loss"][^1])} | {F(h["val_loss"][^1] - h["loss"][^1])} |");
            }
        }
        else
        {
            lines.Add("| run | epochs | final loss | final val loss |");
            lines.Add("|---|---:|---:|---:|");
            foreach (var (title, h) in runs)
                lines.Add($"| {title} | {h.Count} | {F(h["loss"][^1])} | {(h.Contains("val_loss") ? F(h["val_loss"][^1]) : "-")} |");
        }
        return string.Join("\n", lines);
    }
}
