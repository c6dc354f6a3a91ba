using System.ComponentModel;
using System.Globalization;
using System.Text;
using ConvEngine.Data;
using ConvEngine.Data.Series;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;
using ConvEngine.Series;
using ConvEngine.Visualization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine series FILE.csv`: the course's 1-D convolution of a time series — one column of a CSV convolved with a
/// kernel by Ops.Conv1D (tf.nn.conv1d: valid by default) — written as a plot of the original and the filtered series
/// and as CSV.
/// </summary>
internal sealed class SeriesCommand : Command<SeriesCommand.Settings>
{
    /// <summary>The options the series commands share: the file, its column and x axis, missing values.</summary>
    public abstract class SeriesSettings : CommonSettings
    {
        [CommandArgument(0, "[file]")]
        [Description("A CSV file with a header row. Default: the bundled Mauna Loa weekly CO2 series (SampleData/series/co2.csv).")]
        public string? File { get; init; }

        [CommandOption("-c|--column <NAME>")]
        [Description("The column to read (default: the last one).")]
        public string? Column { get; init; }

        [CommandOption("--x-column <NAME>")]
        [Description("The column for the x axis: dates (19580329, 1958-03-29) or numbers (years); \"index\" for the row number. Default: the first column.")]
        public string? XColumn { get; init; }

        [CommandOption("--missing <MODE>")]
        [Description("Empty cells: interpolate (linearly between their neighbours) or error.")]
        [DefaultValue("interpolate")]
        public string Missing { get; init; } = "interpolate";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            return Missing.Trim().ToLowerInvariant() is "interpolate" or "error"
                ? ValidationResult.Success()
                : ValidationResult.Error($"--missing must be interpolate or error; got '{Missing}'.");
        }

        /// <summary>The series the options name: the file (or the bundled CO2 series), its column and x axis.</summary>
        public TimeSeries ReadSeries() => CsvSeries.Read(File ?? BundledSeries("co2.csv"), Column, XColumn,
            Missing.Trim().ToLowerInvariant() == "error" ? MissingValues.Error : MissingValues.Interpolate);

        /// <summary>A series bundled in src/ConvEngine.Data/SampleData/series.</summary>
        public static string BundledSeries(string name) => Path.Combine(SampleData.Find("series"), name);
    }

    public sealed class Settings : SeriesSettings
    {
        [CommandOption("-k|--kernel <KERNEL>")]
        [Description("detrend (the course's default), average, spencer (the course's weights), spencer15 (Spencer's own), or numbers, e.g. \"-1 1\" or \"0.25 0.5 0.25\".")]
        [DefaultValue("detrend")]
        public string Kernel { get; init; } = "detrend";

        [CommandOption("--padding <MODE>")]
        [Description("valid (the course's: N − k + 1 values), same (N) or causal (N; each value reads only the past).")]
        [DefaultValue("valid")]
        public string Padding { get; init; } = "valid";

        [CommandOption("--stride <N>")]
        [DefaultValue(1)]
        public int Stride { get; init; } = 1;

        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for series.png (the original and the filtered series) and filtered.csv.")]
        public string Out { get; init; } = "";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out DIR is required.");
            if (Stride < 1) return ValidationResult.Error($"--stride must be at least 1; got {Stride}.");
            if (Padding.Trim().ToLowerInvariant() is not ("valid" or "same" or "causal"))
                return ValidationResult.Error($"--padding must be valid, same or causal; got '{Padding}'.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var kernel = SeriesKernel.Parse(RawOptionText.Of(context.Arguments, settings.Kernel, "--kernel", "-k"));
            var series = settings.ReadSeries();
            var padding = Kernels.Geometry.Padding.Parse(settings.Padding);
            FilteredSeries filtered;
            string device;
            using (var backend = Backends.Create(settings.Backend))
            {
                device = $"{backend.Name}: {backend.Device.Name}";
                try
                {
                    filtered = SeriesFilter.Apply(backend, series.Values, kernel, padding, settings.Stride);
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"{series.File}, column '{series.Column}': {e.Message}", e);
                }
            }

            Directory.CreateDirectory(settings.Out);
            string name = Path.GetFileName(series.File);
            string title = $"{name}: {series.Column} convolved with {kernel.Name} ({kernel.Weights.Length} weights, {padding}, stride {settings.Stride})";
            AtomicFile.WriteAllBytes(Path.Combine(settings.Out, "series.png"),
                SeriesPlot.RenderPng(title, series.Column, series.Values, filtered, kernel, series.XDates, series.XNumbers, series.XColumn ?? "row"));
            AtomicFile.WriteAllText(Path.Combine(settings.Out, "filtered.csv"), ToCsv(series, filtered));

            // Plain text written as is: Spectre's renderer would wrap long lines at the console width.
            var writer = AnsiConsole.Console.Profile.Out.Writer;
            writer.WriteLine($"series {series.File}: column '{series.Column}', {series.Values.Length} values" +
                (series.XColumn is null ? "" : $" (x: {series.XColumn}, {series.XLabels[0]} to {series.XLabels[^1]})") + $", on {device}");
            if (series.FilledMissing > 0)
                writer.WriteLine($"{series.FilledMissing} empty cell(s) filled by linear interpolation (--missing error refuses them).");
            writer.WriteLine($"kernel {kernel.Name}: [{string.Join(", ", kernel.Weights.Select(w => w.ToString("G4", CultureInfo.InvariantCulture)))}] (sum {kernel.Weights.Sum().ToString("G4", CultureInfo.InvariantCulture)})");
            writer.WriteLine($"Ops.Conv1D, padding {padding}, stride {settings.Stride}: {series.Values.Length} values -> {filtered.Values.Length}; " +
                $"filtered values {filtered.Values.Min().ToString("G5", CultureInfo.InvariantCulture)} to {filtered.Values.Max().ToString("G5", CultureInfo.InvariantCulture)}.");
            writer.WriteLine($"Wrote series.png and filtered.csv to {Path.GetFullPath(settings.Out)}.");
            writer.Flush();
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("series", e);
        }
    }

    /// <summary>step (the output index), end_row (the last input row its window reads), x (that row's x), value.</summary>
    internal static string ToCsv(TimeSeries series, FilteredSeries filtered)
    {
        var csv = new StringBuilder();
        csv.Append("step,end_row,").Append(CommandOutput.CsvField(series.XColumn ?? "x")).Append(",value\n");
        for (int t = 0; t < filtered.Values.Length; t++)
        {
            int end = filtered.EndsAt[t];
            csv.Append(t.ToString(CultureInfo.InvariantCulture)).Append(',').Append(end.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(CommandOutput.CsvField(series.XLabels[end])).Append(',').Append(CommandOutput.RoundTrip(filtered.Values[t])).Append('\n');
        }
        return csv.ToString();
    }
}
