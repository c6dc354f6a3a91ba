using System.ComponentModel;
using System.Globalization;
using ConvEngine.Import.Keras;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Import.Onnx;
using ConvEngine.Kernels;
using ConvEngine.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine export --model M --to onnx|keras -o FILE`: writes any model the engine reads as an ONNX file (opset 13,
/// NCHW, for ONNX Runtime and other ONNX tools) or a Keras 3 .keras file (for keras.saving.load_model), atomically:
/// a model with a layer the target format lacks is refused, naming the layer, and nothing is written.
/// </summary>
internal sealed class ExportCommand : Command<ExportCommand.Settings>
{
    public sealed class Settings : ModelSettings
    {
        [CommandOption("-w|--weights <FILE>")]
        [Description("Weights for --model (Keras .h5/.weights.h5, .keras, TF.js manifest, or .safetensors): for an architecture-only config, or to replace a model's own.")]
        public string? Weights { get; init; }

        [CommandOption("--to <FORMAT>")]
        [Description("onnx or keras; by default from the output's extension (.onnx, .keras).")]
        public string? To { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("The file to write (atomically).")]
        public string Output { get; init; } = "";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (string.IsNullOrWhiteSpace(Output)) return ValidationResult.Error("-o|--output FILE is required.");
            if (Target(this) is null)
                return ValidationResult.Error(To is null
                    ? $"Cannot tell the format from '{Output}': give --to onnx or --to keras (or end the file in .onnx or .keras)."
                    : $"--to must be onnx or keras; got '{To}'.");
            return ValidationResult.Success();
        }
    }

    internal static string? Target(Settings settings)
    {
        string? to = settings.To?.Trim().ToLowerInvariant() ?? Path.GetExtension(settings.Output).ToLowerInvariant() switch
        {
            ".onnx" => "onnx",
            ".keras" => "keras",
            _ => null,
        };
        return to is "onnx" or "keras" ? to : null;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            string to = Target(settings)!;
            using var backend = Backends.Create(settings.Backend);
            using var loaded = ModelFormats.Load(settings.ModelPath!, settings.Weights, backend);
            // An ONNX input runs through the importer's inference graph; export needs it as engine layers.
            using var converted = loaded.Model is null ? OnnxToModel.Convert(settings.ModelPath!, backend: backend) : null;
            Model model = loaded.Model ?? converted!;
            if (loaded.WeightsNote.Contains("random", StringComparison.Ordinal))
                Console.Error.WriteLine($"convengine export: warning: {loaded.WeightsNote}");
            string written;
            if (to == "onnx")
            {
                OnnxExporter.Save(model, settings.Output);
                written = $"ONNX opset {OnnxExporter.Opset}, input (N, {string.Join(", ", OnnxExporter.OnnxShape(model.InputShape))})";
            }
            else
            {
                KerasFiles.Save(model, settings.Output);
                written = $"Keras 3 .keras ({KerasFiles.ConfigMember}, {KerasFiles.MetadataMember}, {KerasFiles.WeightsMember})";
            }
            AnsiConsole.WriteLine($"Wrote {settings.Output}: model '{model.Name}' as {written}; " +
                $"{model.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters.");
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("export", e);
        }
    }
}
