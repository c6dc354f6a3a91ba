using System.ComponentModel;
using ConvEngine.Cli.Rendering;
using ConvEngine.Data.Images;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine filter`: the course's feature-extraction demo (filter → detect → condense) on one
/// greyscale image, each stage written as a PNG.
/// </summary>
public sealed class FilterCommand : Command<FilterCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<image>")]
        [Description("Image to filter (png, jpeg, bmp, gif); read as greyscale and scaled to 0..1.")]
        public string Image { get; init; } = "";

        [CommandOption("-k|--kernel <KERNEL>")]
        [Description("edge, bottom_sobel, emboss, sharpen, blur, or N×N numbers row by row, e.g. \"0 -1 0; -1 5 -1; 0 -1 0\".")]
        [DefaultValue("edge")]
        public string Kernel { get; init; } = "edge";

        [CommandOption("--pool <N>")]
        [Description("Max-pool window and stride of the condense step (padding same).")]
        [DefaultValue(2)]
        public int Pool { get; init; } = 2;

        [CommandOption("--stride <N>")]
        [Description("Convolution stride.")]
        [DefaultValue(1)]
        public int Stride { get; init; } = 1;

        [CommandOption("--padding <MODE>")]
        [Description("Convolution padding: same or valid.")]
        [DefaultValue("same")]
        public string Padding { get; init; } = "same";

        [CommandOption("--repeat <N>")]
        [Description("Apply the condense step N times, writing condensed.png, condensed_2.png, …")]
        [DefaultValue(1)]
        public int Repeat { get; init; } = 1;

        [CommandOption("--max-pixels <N>")]
        [Description("Refuse images with more pixels than this.")]
        [DefaultValue(ImageIO.DefaultMaxPixels)]
        public long MaxPixels { get; init; } = ImageIO.DefaultMaxPixels;

        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for kernel.png, image.png, filtered.png, detected.png, condensed*.png. Feature maps are min–max normalised to 0..255, as plt.imshow shows them.")]
        public string Out { get; init; } = "";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out DIR is required.");
            if (Pool < 1) return ValidationResult.Error($"--pool must be at least 1; got {Pool}.");
            if (Stride < 1) return ValidationResult.Error($"--stride must be at least 1; got {Stride}.");
            if (Repeat < 1) return ValidationResult.Error($"--repeat must be at least 1; got {Repeat}.");
            if (MaxPixels < 1) return ValidationResult.Error($"--max-pixels must be at least 1; got {MaxPixels}.");
            if (Padding.Trim().ToLowerInvariant() is not ("same" or "valid"))
                return ValidationResult.Error($"--padding must be same or valid; got '{Padding}'.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            ConvEngine.Serialization.AtomicDirectory.CheckTarget(settings.Out);
            var kernel = FilterKernel.Parse(RawKernelText(context.Arguments, settings.Kernel));
            var options = new FilterOptions(settings.Stride, Kernels.Geometry.Padding.Parse(settings.Padding), settings.Pool, settings.Repeat);
            var greyscale = ImageIO.Load(settings.Image, ColorMode.Grayscale, settings.MaxPixels);

            FilterStages stages;
            string device;
            using (var backend = Backends.Create(settings.Backend))
            {
                device = $"{backend.Name}: {backend.Device.Name}";
                stages = FilterPipeline.Run(backend, greyscale, kernel, options);
            }

            Directory.CreateDirectory(settings.Out);
            KernelHeatmap.Save(Path.Combine(settings.Out, "kernel.png"), kernel);
            // The input as read (0..255 grey); every later stage is a feature map, shown min–max normalised.
            ImageIO.SavePng(Path.Combine(settings.Out, "image.png"), greyscale.Pixels, greyscale.Height, greyscale.Width, 1);
            foreach (var map in stages.All.Skip(1))
                FeatureMapImage.SaveNormalised(Path.Combine(settings.Out, map.Name + ".png"), map.Values, map.Height, map.Width);

            WriteSummary(settings, kernel, options, device, stages);
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            // Bad input is the user's to fix: the message names the file, backend or shapes; no stack trace.
            return CommandErrors.Report("filter", e);
        }
    }

    /// <summary>
    /// The --kernel text exactly as given. Spectre's tokenizer reads a value that starts with a minus and a
    /// digit as one negative number and silently drops the rest: "-1 -2 -1; 0 0 0; 1 2 1" arrives as "-1".
    /// </summary>
    internal static string RawKernelText(IReadOnlyList<string> arguments, string parsed)
    {
        string? raw = null;
        for (int i = 0; i < arguments.Count; i++)
        {
            string a = arguments[i];
            if (a is "--kernel" or "-k" && i + 1 < arguments.Count) raw = arguments[++i];
            else if (a.StartsWith("--kernel=", StringComparison.Ordinal) || a.StartsWith("--kernel:", StringComparison.Ordinal)) raw = a["--kernel=".Length..];
            else if (a.StartsWith("-k=", StringComparison.Ordinal) || a.StartsWith("-k:", StringComparison.Ordinal)) raw = a["-k=".Length..];
        }
        // Trust the raw text only where it is what Spectre truncated, so its own syntax keeps its meaning elsewhere.
        return raw is not null && raw != parsed && raw.StartsWith(parsed, StringComparison.Ordinal) ? raw : parsed;
    }

    private static void WriteSummary(Settings settings, FilterKernel kernel, FilterOptions options, string device, FilterStages stages)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]filter[/] {settings.Image} with kernel {kernel.Name} ({kernel.Size}x{kernel.Size}), stride {options.Stride}, padding {options.ConvPadding}, pool {options.Pool} x{options.Repeat}, on {device}");
        var table = new Table().AddColumns("stage", "shape (N, H, W, C)", "min", "max", "file");
        table.AddRow("kernel", $"({kernel.Size}, {kernel.Size}, 1, 1)", Markup.Escape(KernelHeatmap.Label(kernel.Values.Min())), Markup.Escape(KernelHeatmap.Label(kernel.Values.Max())), "kernel.png");
        foreach (var map in stages.All)
        {
            var (min, max) = (map.Values.Min(), map.Values.Max());
            table.AddRow(map.Name, map.Shape.ToString(), KernelHeatmap.Label(min), KernelHeatmap.Label(max), map.Name + ".png");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"Wrote {stages.Condensed.Count + 4} PNGs to {Path.GetFullPath(settings.Out)}; feature maps are min–max normalised to 0..255.");
    }
}
