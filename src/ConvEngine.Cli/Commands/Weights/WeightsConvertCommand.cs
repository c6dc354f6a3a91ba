using System.ComponentModel;
using System.Globalization;
using ConvEngine.Import.Applications;
using ConvEngine.Import.Keras;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine weights convert FILE --arch vgg16 -o weights/vgg16-notop.safetensors`: recognises the file by its size
/// in the manifest and checks its md5/sha256 (a known size with a wrong checksum is an error), builds the
/// architecture, loads the Keras HDF5 weights into it and writes them with the engine's model save API.
/// </summary>
internal sealed class WeightsConvertCommand : Command<WeightsConvertCommand.Settings>
{
    /// <summary>The architectures --arch accepts.</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["vgg16", "vgg16-top", "keras"];

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<file>")]
        [Description("Keras HDF5 weights (save_weights or model.save), e.g. vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5.")]
        public string File { get; init; } = "";

        [CommandOption("-a|--arch <ARCH>")]
        [Description("vgg16 (Keras VGG16 without top), vgg16-top (with fc1, fc2, predictions), or keras (the architecture stored in a full-model file). Default: keras when the file holds a model_config.")]
        public string? Arch { get; init; }

        [CommandOption("-o|--out <FILE>")]
        [Description("The safetensors file to write (atomically).")]
        public string Out { get; init; } = "";

        [CommandOption("--input-shape <H,W,C>")]
        [Description("Input of the built VGG16 (the weights do not depend on it without the top).")]
        [DefaultValue("224,224,3")]
        public string InputShape { get; init; } = "224,224,3";

        [CommandOption("-d|--dir <DIR>")]
        [Description("Weights folder whose manifest.json is used when present.")]
        [DefaultValue("weights")]
        public string Dir { get; init; } = "weights";

        [CommandOption("--manifest <FILE>")]
        [Description("Manifest to check the file against; default DIR/manifest.json when it exists, else the built-in one.")]
        public string? Manifest { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out FILE is required.");
            if (!Out.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                return ValidationResult.Error($"--out must name a .safetensors file; got '{Out}'.");
            if (Arch is not null && !Architectures.Contains(Arch))
                return ValidationResult.Error($"--arch must be one of {string.Join(", ", Architectures)}; got '{Arch}'.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            if (!System.IO.File.Exists(settings.File)) throw new FileNotFoundException($"No file at {settings.File}.", settings.File);
            var manifest = WeightsFiles.OpenManifest(settings.Manifest, settings.Dir);
            var check = manifest.Check(settings.File);
            if (check.Status == WeightsCheckStatus.ChecksumMismatch) throw new InvalidDataException(check.Message);
            AnsiConsole.WriteLine(check.Message);

            var file = KerasWeightsFile.Read(settings.File);
            string arch = settings.Arch ?? (file.ModelConfigJson is not null ? "keras"
                : throw new ArgumentException($"{settings.File} holds weights only; say which architecture they belong to with --arch ({string.Join(", ", Architectures.Where(a => a != "keras"))})."));
            using var model = Build(arch, file, ParseShape(settings.InputShape));
            var report = KerasWeights.Load(model, file);
            string outPath = Path.GetFullPath(settings.Out);
            Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
            model.SaveWeights(outPath);

            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Loaded {report.Loaded.Count} layers ({report.Matching} matching, {report.ValueCount:N0} values) into {model.ClassName} '{model.Name}' ({arch})."));
            AnsiConsole.WriteLine($"Wrote {outPath} ({model.NamedParameters.Count} tensors).");
            if (check.Entry?.Preprocessing is { } p)
                AnsiConsole.WriteLine($"Expected input preprocessing ({check.Entry.Name}): {p.Mode}, {p.ColorOrder} {p.ValueRange}" +
                    (p.Mean is null ? "" : $", mean [{string.Join(", ", p.Mean.Select(m => m.ToString(CultureInfo.InvariantCulture)))}]") + ".");
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException or ShapeException or NotSupportedException or UnauthorizedAccessException)
        {
            // IOException covers KerasImportException and FileNotFoundException; InvalidDataException is the checksum mismatch.
            Console.Error.WriteLine($"convengine weights convert: {e.Message}");
            return 1;
        }
    }

    private static Model Build(string arch, KerasWeightsFile file, int[] inputShape) => arch switch
    {
        "vgg16" => Vgg16.Create(includeTop: false, inputShape: inputShape),
        // The class count comes from the file's predictions kernel (4096, classes); ImageNet's 1000 otherwise.
        "vgg16-top" => Vgg16.Create(includeTop: true, inputShape: [224, 224, 3],
            classes: file.Contains("predictions") && file["predictions"].Weights is [{ Shape: [_, int classes] }, ..] ? classes : 1000),
        "keras" => KerasModels.FromJson(file.ModelConfigJson
            ?? throw new ArgumentException($"{file.Path} has no model_config: --arch keras needs a full-model file (model.save)."), source: $"{file.Path} model_config"),
        _ => throw new ArgumentException($"Unknown architecture '{arch}'."),
    };

    private static int[] ParseShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0))
            throw new ArgumentException($"--input-shape must be three positive integers H,W,C; got '{text}'.");
        return parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }
}
