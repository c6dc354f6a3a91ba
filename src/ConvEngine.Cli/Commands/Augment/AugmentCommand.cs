using System.ComponentModel;
using ConvEngine.Data.Images;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine augment INPUT... --layers "…" --out DIR`: what augmentation does, the course's way of showing it — each
/// input (an image, or a float32 .npy of one image (H, W, C) or a batch (N, H, W, C)) run through the layers in training
/// mode K times with K seeds, drawn as a PNG grid; with --save-outputs the results as float32 .npy, value for value.
/// </summary>
internal sealed class AugmentCommand : Command<AugmentCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<INPUT>")]
        [Description("Images (png, jpeg, bmp, gif) or float32 .npy arrays: one image (H, W, C) or a batch (N, H, W, C), channels-last.")]
        public string[] Inputs { get; init; } = [];

        [CommandOption("--layers <LAYERS>")]
        [Description("The layers in the course's Python spelling, e.g. \"RandomFlip('horizontal'), RandomRotation(0.2)\", or a JSON file of Keras layer configs.")]
        public string? Layers { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seeds the draws: sample k draws from (seed, k), the same on every backend and run.")]
        [DefaultValue(1)]
        public int Seed { get; init; } = 1;

        [CommandOption("--samples <K>")]
        [Description("Augmented samples per input.")]
        [DefaultValue(9)]
        public int Samples { get; init; } = 9;

        [CommandOption("-o|--out <DIR>")]
        [Description("Where the PNG grids go, one per input: DIR/<input name>.png.")]
        public string? Out { get; init; }

        [CommandOption("--save-outputs <DIR>")]
        [Description("Also write each input's augmented results as float32 .npy, (K·N, H, W, C), sample k's batch at rows k·N … k·N + N − 1.")]
        public string? SaveOutputs { get; init; }

        [CommandOption("--color-mode <MODE>")]
        [Description("How images load: auto (greyscale when R = G = B everywhere), grayscale or rgb.")]
        [DefaultValue("auto")]
        public string ColorMode { get; init; } = "auto";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (Inputs.Length == 0) return ValidationResult.Error("augment needs at least one INPUT (an image or a .npy file).");
            if (string.IsNullOrWhiteSpace(Layers)) return ValidationResult.Error("--layers is required, e.g. --layers \"RandomFlip('horizontal'), RandomContrast(0.5)\".");
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out is required: the folder for the PNG grids.");
            if (Samples < 1) return ValidationResult.Error($"--samples must be at least 1; got {Samples}.");
            if (ColorMode.Trim().ToLowerInvariant() is not ("auto" or "grayscale" or "greyscale" or "rgb"))
                return ValidationResult.Error($"--color-mode must be auto, grayscale or rgb; got '{ColorMode}'.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            return Run(settings, AnsiConsole.Console.Profile.Out.Writer, cancellationToken);
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("augment", e);
        }
    }

    private static int Run(Settings settings, TextWriter writer, CancellationToken cancellationToken)
    {
        var spec = AugmentationSpec.Parse(settings.Layers!, "--layers");
        var inputs = settings.Inputs.Select(path => Load(path, settings.ColorMode)).ToList();
        using var backend = Backends.Create(settings.Backend);
        var names = new HashSet<string>(StringComparer.Ordinal);
        writer.WriteLine($"Layers (training mode, {settings.Samples} samples per input, seed {settings.Seed}, backend {backend.Name}): {spec.Description}.");
        foreach (var input in inputs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = UniqueName(input.Path, names);
            int n = input.Shape[0];
            using var pipeline = new AugmentationPipeline(spec.CreateLayers(), input.Shape[1..], backend);
            var samples = new List<(float[] Images, int[] Shape)>();
            for (int k = 0; k < settings.Samples; k++)
                samples.Add(pipeline.Run(input.Pixels, n, training: true, CounterRng.Hash((ulong)settings.Seed, (ulong)k)));

            string grid = Path.Combine(settings.Out!, name + ".png");
            Directory.CreateDirectory(settings.Out!);
            AugmentGrid.Save(grid, samples, n, input.DisplayScale, input.Path);
            string saved = "";
            if (settings.SaveOutputs is { } folder)
            {
                Directory.CreateDirectory(folder);
                saved = " and " + string.Join(", ", SaveNpy(folder, name, samples));
            }
            var shapes = samples.Select(s => SymbolicTensor.FormatShape(s.Shape[1..])).Distinct().ToList();
            writer.WriteLine($"{input.Path}: {n} image(s) {SymbolicTensor.FormatShape(input.Shape[1..])} → {settings.Samples} samples of " +
                             $"{string.Join(" / ", shapes)}; wrote {Path.GetFullPath(grid)}{saved}.");
        }
        writer.Flush();
        return 0;
    }

    /// <summary>One file (K·N, H, W, C) when every sample has the same shape; one per sample when RandomWidth/RandomHeight vary it.</summary>
    private static IEnumerable<string> SaveNpy(string folder, string name, List<(float[] Images, int[] Shape)> samples)
    {
        var first = samples[0].Shape;
        if (samples.All(s => s.Shape.SequenceEqual(first)))
        {
            string path = Path.GetFullPath(Path.Combine(folder, name + ".npy"));
            NpyFile.Write(path, samples.SelectMany(s => s.Images).ToArray(), [samples.Count * first[0], .. first[1..]]);
            return [path];
        }
        return samples.Select((s, k) =>
        {
            string path = Path.GetFullPath(Path.Combine(folder, $"{name}-sample{k}.npy"));
            NpyFile.Write(path, s.Images, s.Shape);
            return path;
        }).ToList();
    }

    /// <summary>An input's pixels (N, H, W, C); <see cref="DisplayScale"/> is 255 for a .npy of values in [0, 1], else 1.</summary>
    private sealed record Input(string Path, float[] Pixels, int[] Shape, float DisplayScale = 1);

    private static Input Load(string path, string colorMode)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"INPUT '{path}' does not exist.", path);
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var array = NpyFile.Read(path);
            int[] shape = array.Shape.Length switch
            {
                3 => [1, .. array.Shape],
                4 => array.Shape,
                _ => throw new ArgumentException($"INPUT '{path}' has shape {array.ShapeText}; augment takes one image (H, W, C) or a batch (N, H, W, C)."),
            };
            if (shape.Any(d => d < 1)) throw new ArgumentException($"INPUT '{path}' has an empty dimension in shape {array.ShapeText}.");
            return new Input(path, array.Data, shape, array.Data.All(v => v is >= 0 and <= 1) ? 255 : 1);
        }
        string mode = colorMode.Trim().ToLowerInvariant();
        var rgb = ImageIO.Load(path, Data.Images.ColorMode.Rgb);
        bool grey = mode is "grayscale" or "greyscale" || (mode == "auto" && IsGrey(rgb.Pixels));
        var image = grey ? ImageIO.Load(path, Data.Images.ColorMode.Grayscale) : rgb;
        return new Input(path, image.Pixels, [1, image.Height, image.Width, image.Channels]);
    }

    private static bool IsGrey(float[] rgb)
    {
        for (int i = 0; i < rgb.Length; i += 3)
            if (rgb[i] != rgb[i + 1] || rgb[i] != rgb[i + 2]) return false;
        return true;
    }

    private static string UniqueName(string path, HashSet<string> taken)
    {
        string stem = Path.GetFileNameWithoutExtension(path), name = stem;
        for (int i = 2; !taken.Add(name); i++) name = $"{stem}-{i}";
        return name;
    }
}
