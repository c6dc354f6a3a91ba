using System.ComponentModel;
using System.Globalization;
using ConvEngine.Data.Series;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine series-train`: a small 1-D convnet (Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D…)
/// trained on windows of a series to tell whether the next step rises, with its validation accuracy set against
/// the majority-class baseline. The split is in time: the first part trains, the later part validates.
/// </summary>
internal sealed class SeriesTrainCommand : Command<SeriesTrainCommand.Settings>
{
    public sealed class Settings : SeriesCommand.SeriesSettings
    {
        [CommandOption("--window <N>")]
        [Description("Steps per window (each standardised on its own).")]
        [DefaultValue(32)]
        public int Window { get; init; } = 32;

        [CommandOption("-e|--epochs <N>")]
        [DefaultValue(20)]
        public int Epochs { get; init; } = 20;

        [CommandOption("-b|--batch-size <N>")]
        [DefaultValue(32)]
        public int BatchSize { get; init; } = 32;

        [CommandOption("--split <FRACTION>")]
        [Description("The share of the series (from its start) whose windows train; the windows after it validate.")]
        [DefaultValue(0.8)]
        public double Split { get; init; } = 0.8;

        [CommandOption("--seed <N>")]
        [Description("Seeds the weights and the shuffles.")]
        [DefaultValue(1)]
        public int Seed { get; init; } = 1;

        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for model/ (config.json + model.safetensors) and history.csv.")]
        [DefaultValue("out/series-train")]
        public string Out { get; init; } = "out/series-train";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (Window < 8) return ValidationResult.Error($"--window must be at least 8 (the convnet pools twice); got {Window}.");
            if (Epochs < 1) return ValidationResult.Error($"--epochs must be at least 1; got {Epochs}.");
            if (BatchSize < 1) return ValidationResult.Error($"--batch-size must be at least 1; got {BatchSize}.");
            if (!(Split > 0 && Split < 1)) return ValidationResult.Error($"--split must be between 0 and 1 (exclusive); got {Split}.");
            return ValidationResult.Success();
        }
    }

    /// <summary>
    /// The example's convnet on (window, 1): two causal convolutions with a pool after each, then global average pooling
    /// and a sigmoid unit — the 1-D version of the course's filter → detect → condense blocks.
    /// </summary>
    public static Sequential BuildModel(int window, IBackend backend, int seed) => new(backend: backend, seed: (ulong)seed, name: "series_convnet")
    {
        new InputLayer(window, 1),
        new Conv1D(16, 5, padding: "causal", activation: "relu"),
        new MaxPooling1D(2),
        new Conv1D(32, 3, padding: "causal", activation: "relu"),
        new AveragePooling1D(2),
        new Conv1D(32, 3, padding: "causal", activation: "relu"),
        new GlobalAveragePooling1D(),
        new Dense(1, activation: "sigmoid"),
    };

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var series = settings.ReadSeries();
            var (training, validation) = SeriesWindows.Split(series.Values, settings.Window, settings.Split);
            var writer = AnsiConsole.Console.Profile.Out.Writer;
            using var backend = Backends.Create(settings.Backend);
            using var model = BuildModel(settings.Window, backend, settings.Seed);
            model.Compile(new Adam(), "binary_crossentropy", ["binary_accuracy"]);
            writer.WriteLine($"series-train: {series.File}, column '{series.Column}' ({series.Values.Length} values); windows of {settings.Window}: " +
                $"{training.Count} training (first {settings.Split:P0}), {validation.Count} validation; label: the next step rises; on {backend.Name}");
            writer.Write(model.Summary());
            var progress = new LambdaCallback
            {
                EpochEnd = (epoch, logs) => writer.WriteLine($"Epoch {epoch + 1}/{settings.Epochs} - " +
                    string.Join(" - ", logs.Select(kv => $"{kv.Key}: {kv.Value.ToString("F4", CultureInfo.InvariantCulture)}"))),
            };
            var history = model.Fit(training.ToBatches(settings.BatchSize, shuffle: true, settings.Seed), validation.ToBatches(settings.BatchSize, shuffle: false, 0),
                settings.Epochs, [progress], cancellationToken: cancellationToken);

            Directory.CreateDirectory(settings.Out);
            model.Save(Path.Combine(settings.Out, "model"));
            HistoryFiles.WriteCsv(history, Path.Combine(settings.Out, "history.csv"));
            double accuracy = history["val_binary_accuracy"][^1];
            double baseline = validation.MajorityShare;
            string majority = validation.Labels.Count(l => l == 1) * 2 >= validation.Count ? "rises" : "falls or stays";
            writer.WriteLine($"Validation accuracy after {settings.Epochs} epochs: {accuracy.ToString("F4", CultureInfo.InvariantCulture)}; " +
                $"majority-class baseline (always \"{majority}\"): {baseline.ToString("F4", CultureInfo.InvariantCulture)}; " +
                $"{(accuracy - baseline >= 0 ? "+" : "")}{((accuracy - baseline) * 100).ToString("F1", CultureInfo.InvariantCulture)} points.");
            writer.WriteLine($"Wrote model/ and history.csv to {Path.GetFullPath(settings.Out)}.");
            writer.Flush();
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("series-train", e);
        }
    }
}
