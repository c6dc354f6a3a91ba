using System.ComponentModel;
using System.Globalization;
using ConvEngine.Visualization;
using ConvEngine.Data.Images;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine filter`: the course's feature-extraction demo (filter → detect → condense) on one
/// image, greyscale or per colour channel, each stage written as a PNG.
/// </summary>
internal sealed class FilterCommand : Command<FilterCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<image>")]
        [Description("Image to filter (png, jpeg, bmp, gif); read as greyscale (or RGB with --color-mode rgb) and scaled to 0..1.")]
        public string Image { get; init; } = "";

        [CommandOption("-k|--kernel <KERNEL>")]
        [Description("edge, bottom_sobel, emboss, sharpen, blur, or N×N numbers row by row, e.g. \"0 -1 0; -1 5 -1; 0 -1 0\".")]
        [DefaultValue("edge")]
        public string Kernel { get; init; } = "edge";

        [CommandOption("--pool <N>")]
        [Description("Max-pool window and stride of the condense step.")]
        [DefaultValue(2)]
        public int Pool { get; init; } = 2;

        [CommandOption("--pool-padding <MODE>")]
        [Description("Max-pool padding: same (the course's) or valid.")]
        [DefaultValue("same")]
        public string PoolPadding { get; init; } = "same";

        [CommandOption("--color-mode <MODE>")]
        [Description("grayscale (the course's: one channel, BT.601 luma) or rgb (the kernel runs on each channel on its own; the maps keep 3 channels).")]
        [DefaultValue("grayscale")]
        public string ColorMode { get; init; } = "grayscale";

        [CommandOption("--image-size <HxW>")]
        [Description("Resize the image to this size first (bilinear, half-pixel centres as tf.image.resize), e.g. 128x128 or 64.")]
        public string? ImageSize { get; init; }

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
        [Description("Folder for kernel.png, image.png, filtered.png, detected.png, condensed*.png. Feature maps are min–max normalised to 0..255, as plt.imshow shows them (RGB maps: one range over the three channels).")]
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
            if (PoolPadding.Trim().ToLowerInvariant() is not ("same" or "valid"))
                return ValidationResult.Error($"--pool-padding must be same or valid; got '{PoolPadding}'.");
            if (ColorMode.Trim().ToLowerInvariant() is not ("grayscale" or "greyscale" or "rgb"))
                return ValidationResult.Error($"--color-mode must be grayscale or rgb; got '{ColorMode}'.");
            if (ImageSize is not null && TrainCommand.ParseImageSize(ImageSize) is null)
                return ValidationResult.Error($"--image-size must be HxW or one number, e.g. 128x128 or 64; got '{ImageSize}'.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            ConvEngine.Serialization.AtomicDirectory.CheckTarget(settings.Out);
            var kernel = FilterKernel.Parse(RawOptionText.Of(context.Arguments, settings.Kernel, "--kernel", "-k"));
            var options = new FilterOptions(settings.Stride, Kernels.Geometry.Padding.Parse(settings.Padding), settings.Pool, settings.Repeat,
                Kernels.Geometry.Padding.Parse(settings.PoolPadding));
            bool rgb = settings.ColorMode.Trim().ToLowerInvariant() == "rgb";
            var image = ImageIO.Load(settings.Image, rgb ? ColorMode.Rgb : ColorMode.Grayscale, settings.MaxPixels);
            var (readHeight, readWidth) = (image.Height, image.Width);
            if (settings.ImageSize is { } sizeText && TrainCommand.ParseImageSize(sizeText) is var (h, w) && (h, w) != (image.Height, image.Width))
                image = Resize.Apply(image, h, w, Interpolation.Bilinear);

            FilterStages stages;
            string device;
            using (var backend = Backends.Create(settings.Backend))
            {
                device = $"{backend.Name}: {backend.Device.Name}";
                stages = FilterPipeline.Run(backend, image, kernel, options);
            }

            Directory.CreateDirectory(settings.Out);
            KernelHeatmap.Save(Path.Combine(settings.Out, "kernel.png"), kernel.Values, kernel.Size);
            // The input as read (0..255); every later stage is a feature map, shown min–max normalised.
            ImageIO.SavePng(Path.Combine(settings.Out, "image.png"), image.Pixels, image.Height, image.Width, image.Channels);
            foreach (var map in stages.All.Skip(1))
                ImageIO.SavePng(Path.Combine(settings.Out, map.Name + ".png"), TileColors.MinMaxTo255(map.Values), map.Height, map.Width, map.Channels);

            WriteSummary(settings, kernel, options, device, stages, (readHeight, readWidth));
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            // Bad input is the user's to fix: the message names the file, backend or shapes; no stack trace.
            return CommandErrors.Report("filter", e);
        }
    }

    private static void WriteSummary(Settings settings, FilterKernel kernel, FilterOptions options, string device, FilterStages stages, (int Height, int Width) read)
    {
        string colour = stages.Image.Channels == 3 ? "RGB, per channel" : "greyscale";
        string resized = (read.Height, read.Width) == (stages.Image.Height, stages.Image.Width) ? "" : $", resized from {read.Height}x{read.Width}";
        AnsiConsole.MarkupLineInterpolated($"[bold]filter[/] {settings.Image} ({colour}{resized}) with kernel {kernel.Name} ({kernel.Size}x{kernel.Size}), stride {options.Stride}, padding {options.ConvPadding}, max pool {options.Pool} (stride {options.Pool}, padding {options.CondensePadding}) x{options.Repeat}, on {device}");
        var table = new Table().AddColumns("stage", "shape (N, H, W, C)", "output size", "min", "max", "file");
        table.AddRow("kernel", $"({kernel.Size}, {kernel.Size}, 1, {stages.Image.Channels})", "", Markup.Escape(KernelHeatmap.Label(kernel.Values.Min())), Markup.Escape(KernelHeatmap.Label(kernel.Values.Max())), "kernel.png");
        var all = stages.All.ToList();
        for (int i = 0; i < all.Count; i++)
        {
            var map = all[i];
            var (min, max) = TileColors.Range(map.Values);
            string size = i switch
            {
                0 => "",
                1 => SizeText(all[0], map, kernel.Size, options.Stride, options.ConvPadding),
                2 => "as filtered",
                _ => SizeText(all[i - 1], map, options.Pool, options.Pool, options.CondensePadding),
            };
            table.AddRow(map.Name, map.Shape.ToString(), Markup.Escape(size), KernelHeatmap.Label(min), KernelHeatmap.Label(max), map.Name + ".png");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"Wrote {stages.Condensed.Count + 4} PNGs to {Path.GetFullPath(settings.Out)}; feature maps are min–max normalised to 0..255.");
    }

    /// <summary>How a window of <paramref name="k"/> at stride <paramref name="s"/> made this size (keras conv_output_length), with the numbers filled in.</summary>
    private static string SizeText(FilterStage from, FilterStage to, int k, int s, Kernels.Geometry.Padding padding)
    {
        string Axis(int n, int output) => padding.Mode == PaddingMode.Same
            ? $"ceil({n}/{s})={output}"
            : $"ceil(({n}-{k}+1)/{s})={output}";
        return $"{Axis(from.Height, to.Height)} x {Axis(from.Width, to.Width)}";
    }
}
