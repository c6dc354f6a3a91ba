using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Data;
using ConvEngine.Data.Images;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>One image's prediction: the most probable class and every class's probability.</summary>
internal sealed record ImagePrediction(string File, int ClassIndex, float[] Probabilities);

/// <summary>
/// `convengine predict`: class probabilities of image files (or every image under a folder) from a trained model,
/// loaded and resized as training loaded them (colour mode and size from the model's input, bilinear).
/// </summary>
internal sealed class PredictCommand : Command<PredictCommand.Settings>
{
    public sealed class Settings : ReportSettings
    {
        [CommandArgument(0, "<INPUT>")]
        [Description("Image files, NumPy .npy files (float32), or folders searched recursively for png, jpg, jpeg, bmp and gif files.")]
        public string[] Inputs { get; init; } = [];

        [CommandOption("-o|--output <FILE>")]
        [Description("Write the predictions to FILE (atomically) instead of the console.")]
        public string? Output { get; init; }

        // Any model format (TransferPrediction): --model may also be a config.json, a Keras JSON or .h5, or an .onnx file.
        [CommandOption("-w|--weights <FILE>")]
        [Description("Weights for --model (Keras .h5 or .weights.h5 in either layout, a .keras, a TF.js model.json or manifest, or .safetensors): for a Keras JSON or engine config, or to replace a model's own.")]
        public string? Weights { get; init; }

        [CommandOption("--save-outputs <DIR>")]
        [Description("Also write each input's raw model outputs to DIR/<input name>.npy (float32, (N, output shape)).")]
        public string? SaveOutputs { get; init; }

        [CommandOption("--no-resize")]
        [Description("Refuse images whose size differs from the model's input instead of resizing them.")]
        public bool NoResize { get; init; }

        protected override IReadOnlyList<string> Formats => ["text", "csv", "json"];

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (Inputs.Length == 0) return ValidationResult.Error("Give at least one image file or folder to predict.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            // Output targets are checked before any work, so a refused one costs nothing and overwrites nothing.
            if (settings.Output is not null) ConvEngine.Serialization.AtomicFile.CheckTarget(settings.Output);
            if (settings.SaveOutputs is not null) ConvEngine.Serialization.AtomicDirectory.CheckTarget(settings.SaveOutputs);
            if (TransferPrediction.Handles(settings.ModelPath!, settings.Inputs, settings.Weights, settings.SaveOutputs, settings.NoResize))
                return TransferPrediction.Run(settings.ModelPath!, settings.Weights, settings.Inputs, settings.Format, settings.Output, settings.SaveOutputs,
                    settings.NoResize, settings.BatchSize, settings.Backend, AnsiConsole.Console.Profile.Out.Writer, Console.Error, cancellationToken);
            var (modelDirectory, dataset) = TrainingOutput.LocateModel(settings.ModelPath!);
            var files = ExpandInputs(settings.Inputs);
            using var backend = Backends.Create(settings.Backend);
            using var model = Model.Load(modelDirectory, backend);
            var head = ModelHead.Of(model);
            var classNames = dataset?.ClassNames ?? Enumerable.Range(0, head.ClassCount).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            head.RequireFits(classNames, dataset is null ? "the default class list" : "the model's dataset.json");

            var predictions = Predict(model, head, files, settings.BatchSize, cancellationToken);
            string text = settings.FormatName switch
            {
                "csv" => ToCsv(predictions, classNames),
                "json" => ToJson(model, predictions, classNames),
                _ => ToText(predictions, classNames),
            };
            var writer = AnsiConsole.Console.Profile.Out.Writer;
            CommandOutput.WritePredictions(writer, text, settings.Output, predictions.Count);
            writer.Flush();
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("predict", e);
        }
    }

    /// <summary>Files as given, folders expanded to their image files (recursively, in ordinal path order).</summary>
    internal static List<string> ExpandInputs(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (File.Exists(input))
                files.Add(input);
            else if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                    .Where(f => ImageDirectoryIndex.IsImageFile(f)).Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0)
                    throw new FileNotFoundException($"Folder '{input}' holds no images ({string.Join(" ", ImageIO.Extensions)}).");
                files.AddRange(found);
            }
            else
                throw new FileNotFoundException($"Input '{input}' is neither an image file nor a folder.", input);
        }
        return files;
    }

    private static List<ImagePrediction> Predict(Model model, ModelHead head, List<string> files, int batchSize, CancellationToken cancellationToken)
    {
        var (height, width) = ModelImageInput.SizeOf(model);
        var colour = ModelImageInput.ColorModeOf(model);
        int sampleLength = height * width * model.InputShape[2];
        var predictions = new List<ImagePrediction>(files.Count);
        foreach (var chunk in files.Chunk(batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var inputs = new float[chunk.Length * sampleLength];
            for (int i = 0; i < chunk.Length; i++)
            {
                var image = ImageIO.Load(chunk[i], colour);
                var destination = inputs.AsSpan(i * sampleLength, sampleLength);
                if (image.Height == height && image.Width == width)
                    image.Pixels.CopyTo(destination);
                else
                    Resize.Into(image.Pixels, image.Height, image.Width, image.Channels, destination, height, width, Interpolation.Bilinear);
            }
            var outputs = model.Predict(inputs, batchSize);
            int units = head.Units;
            for (int i = 0; i < chunk.Length; i++)
            {
                var scores = outputs.AsSpan(i * units, units);
                // A sigmoid unit is P(class 1); Keras's binary_accuracy calls it class 1 above 0.5.
                float[] probabilities = head.Kind == HeadKind.Sigmoid ? [1f - scores[0], scores[0]] : scores.ToArray();
                int best = head.Kind == HeadKind.Sigmoid ? (scores[0] > 0.5f ? 1 : 0) : ArgMax(probabilities);
                predictions.Add(new ImagePrediction(chunk[i], best, probabilities));
            }
        }
        return predictions;
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    private static string ToText(List<ImagePrediction> predictions, IReadOnlyList<string> classNames)
    {
        var text = new StringBuilder();
        foreach (var p in predictions)
        {
            text.Append(p.File).Append(": ").Append(classNames[p.ClassIndex])
                .Append(" (").Append(p.Probabilities[p.ClassIndex].ToString("P1", CultureInfo.InvariantCulture)).Append(')');
            for (int c = 0; c < classNames.Count; c++)
                text.Append("  ").Append(classNames[c]).Append(' ').Append(p.Probabilities[c].ToString("F4", CultureInfo.InvariantCulture));
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Header "file,class,&lt;class names…&gt;"; fields quoted as RFC 4180 asks when they hold commas, quotes or line breaks.</summary>
    private static string ToCsv(List<ImagePrediction> predictions, IReadOnlyList<string> classNames)
    {
        var text = new StringBuilder();
        text.Append("file,class");
        foreach (var name in classNames) text.Append(',').Append(CommandOutput.CsvField(name));
        text.Append('\n');
        foreach (var p in predictions)
        {
            text.Append(CommandOutput.CsvField(p.File)).Append(',').Append(CommandOutput.CsvField(classNames[p.ClassIndex]));
            foreach (var probability in p.Probabilities) text.Append(',').Append(CommandOutput.RoundTrip(probability));
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string ToJson(Model model, List<ImagePrediction> predictions, IReadOnlyList<string> classNames)
    {
        var list = new JsonArray();
        foreach (var p in predictions)
        {
            var probabilities = new JsonObject();
            for (int c = 0; c < classNames.Count; c++) probabilities[classNames[c]] = p.Probabilities[c];
            list.Add(new JsonObject
            {
                ["file"] = p.File,
                ["class"] = classNames[p.ClassIndex],
                ["class_index"] = p.ClassIndex,
                ["probabilities"] = probabilities,
            });
        }
        var json = new JsonObject
        {
            ["model"] = model.Name,
            ["class_names"] = new JsonArray(classNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["predictions"] = list,
        };
        return json.ToJsonString(CommandOutput.IndentedJson) + "\n";
    }
}
