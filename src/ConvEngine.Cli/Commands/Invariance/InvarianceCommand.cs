using System.ComponentModel;
using System.Globalization;
using System.Text;
using ConvEngine.Data.Images;
using ConvEngine.Inspection;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;
using ConvEngine.Visualization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine invariance`: the course's translation-invariance demonstration. An image (by default two dots on black)
/// and a copy shifted by a few pixels are max-pooled again and again; a grid shows both at every level and a table
/// (and CSV) measures how far apart they are, until pooling has made them indistinguishable.
/// </summary>
internal sealed class InvarianceCommand : Command<InvarianceCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "[image]")]
        [Description("An image (png, jpeg, bmp, gif), read as greyscale in 0..1. Without one: a 32x32 black image with two one-pixel dots.")]
        public string? Image { get; init; }

        [CommandOption("--shift <DX,DY>")]
        [Description("Move the copy DX pixels right and DY down (negative: left, up); zeros come in at the edge.")]
        [DefaultValue("1,1")]
        public string Shift { get; init; } = "1,1";

        [CommandOption("--pool <N>")]
        [Description("Max-pool window and stride.")]
        [DefaultValue(2)]
        public int Pool { get; init; } = 2;

        [CommandOption("--pool-padding <MODE>")]
        [Description("same (the course's) or valid.")]
        [DefaultValue("same")]
        public string PoolPadding { get; init; } = "same";

        [CommandOption("--repeat <N>")]
        [Description("How many times to pool.")]
        [DefaultValue(3)]
        public int Repeat { get; init; } = 3;

        [CommandOption("--max-pixels <N>")]
        [Description("Refuse images with more pixels than this.")]
        [DefaultValue(ImageIO.DefaultMaxPixels)]
        public long MaxPixels { get; init; } = ImageIO.DefaultMaxPixels;

        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for invariance.png (rows original, shifted, difference; a column per pooling level) and invariance.csv.")]
        public string Out { get; init; } = "";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out DIR is required.");
            if (Pool < 1) return ValidationResult.Error($"--pool must be at least 1; got {Pool}.");
            if (Repeat < 1) return ValidationResult.Error($"--repeat must be at least 1; got {Repeat}.");
            if (MaxPixels < 1) return ValidationResult.Error($"--max-pixels must be at least 1; got {MaxPixels}.");
            if (PoolPadding.Trim().ToLowerInvariant() is not ("same" or "valid"))
                return ValidationResult.Error($"--pool-padding must be same or valid; got '{PoolPadding}'.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var (dx, dy) = ParseShift(RawOptionText.Of(context.Arguments, settings.Shift, "--shift"));
            float[] image;
            int height, width;
            string source;
            if (settings.Image is null)
            {
                image = TranslationInvariance.TwoDots();
                height = width = TranslationInvariance.TwoDotsSize;
                source = $"two dots at {string.Join(" and ", TranslationInvariance.TwoDotsPositions.Select(p => $"(row {p.Row}, column {p.Column})"))} on a {height}x{width} black image";
            }
            else
            {
                var grey = ImageIO.Load(settings.Image, ColorMode.Grayscale, settings.MaxPixels);
                (height, width) = (grey.Height, grey.Width);
                image = grey.Pixels.Select(p => p / 255f).ToArray();
                source = $"{settings.Image} ({height}x{width}, greyscale 0..1)";
            }

            IReadOnlyList<InvarianceLevel> levels;
            string device;
            using (var backend = Backends.Create(settings.Backend))
            {
                device = $"{backend.Name}: {backend.Device.Name}";
                levels = TranslationInvariance.Measure(backend, image, height, width, dx, dy, settings.Pool, settings.Repeat, Kernels.Geometry.Padding.Parse(settings.PoolPadding));
            }

            Directory.CreateDirectory(settings.Out);
            AtomicFile.WriteAllBytes(Path.Combine(settings.Out, "invariance.png"), InvarianceGrid.RenderPng(levels, dx, dy, settings.Pool));
            AtomicFile.WriteAllText(Path.Combine(settings.Out, "invariance.csv"), ToCsv(levels));

            AnsiConsole.MarkupLineInterpolated($"[bold]invariance[/] {source}, shifted {dx} right and {dy} down; max pool {settings.Pool}x{settings.Pool} (stride {settings.Pool}, padding {settings.PoolPadding}) x{settings.Repeat}, on {device}");
            var table = new Table().AddColumns("level", "size", "max |difference|", "mean |difference|", "differing cells", "fraction differing");
            foreach (var l in levels)
                table.AddRow(l.Level.ToString(CultureInfo.InvariantCulture), $"{l.Height}x{l.Width}", Number(l.MaxAbsDifference), Number(l.MeanAbsDifference),
                    $"{l.DifferingCells} of {l.Height * l.Width}", l.FractionDiffering.ToString("P2", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            var same = levels.FirstOrDefault(l => l.DifferingCells == 0 && l.Level > 0);
            AnsiConsole.WriteLine(same is null
                ? $"The two still differ after {settings.Repeat} pooling(s)."
                : $"After {same.Level} pooling(s) the two are identical: the shift is lost.");
            AnsiConsole.MarkupLineInterpolated($"Wrote invariance.png and invariance.csv to {Path.GetFullPath(settings.Out)}.");
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("invariance", e);
        }
    }

    /// <summary>"DX,DY" as two integers.</summary>
    internal static (int Dx, int Dy) ParseShift(string text)
    {
        var parts = text.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int dx)
            && int.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int dy))
            return (dx, dy);
        throw new ArgumentException($"--shift must be two whole numbers DX,DY (pixels right, down), e.g. 1,1 or -2,0; got '{text}'.");
    }

    /// <summary>One row per level: level, height, width, max_abs_difference, mean_abs_difference, differing_cells, fraction_differing.</summary>
    internal static string ToCsv(IReadOnlyList<InvarianceLevel> levels)
    {
        var csv = new StringBuilder("level,height,width,max_abs_difference,mean_abs_difference,differing_cells,fraction_differing\n");
        foreach (var l in levels)
            csv.Append(CultureInfo.InvariantCulture, $"{l.Level},{l.Height},{l.Width},{l.MaxAbsDifference:R},{l.MeanAbsDifference:R},{l.DifferingCells},{l.FractionDiffering:R}\n");
        return csv.ToString();
    }

    private static string Number(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
