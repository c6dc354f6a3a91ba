using System.Text.Json.Nodes;
using ConvEngine.Data.Images;
using ConvEngine.Serialization;

namespace ConvEngine.Cli.Commands;

/// <summary>What a trained model was trained on, kept beside it so evaluate and predict name and order the classes as training did.</summary>
/// <param name="Source">The data's description (a folder, or Fashion-MNIST).</param>
internal sealed record DatasetInfo(IReadOnlyList<string> ClassNames, int Height, int Width, ColorMode ColorMode, string Source)
{
    /// <summary>The "format" stamp of dataset.json and the newest version this build reads.</summary>
    public const string FormatName = "convengine.dataset";
    public const int FormatVersion = 1;

    public JsonObject ToJson() => new()
    {
        ["format"] = FormatName,
        ["format_version"] = FormatVersion,
        ["class_names"] = new JsonArray(ClassNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
        ["image_size"] = new JsonArray(Height, Width),
        ["color_mode"] = ColorMode == ColorMode.Rgb ? "rgb" : "grayscale",
        ["source"] = Source,
    };

    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson().ToJsonString(CommandOutput.IndentedJson));

    public static DatasetInfo Read(string path)
    {
        try
        {
            var json = JsonFile.ReadObject(path, "Dataset description");
            JsonFile.RequireFormat(json, path, FormatName, FormatVersion);
            var names = (json["class_names"] as JsonArray ?? throw new FormatException("no 'class_names' list"))
                .Select(n => n?.GetValue<string>() ?? throw new FormatException("a class name is null")).ToArray();
            var size = (json["image_size"] as JsonArray ?? throw new FormatException("no 'image_size' list"))
                .Select(n => n?.GetValue<int>() ?? 0).ToArray();
            if (size.Length != 2 || size.Any(d => d < 1)) throw new FormatException("'image_size' must be [height, width]");
            var colour = json["color_mode"]?.GetValue<string>() switch
            {
                "rgb" => ColorMode.Rgb,
                "grayscale" => ColorMode.Grayscale,
                var other => throw new FormatException($"'color_mode' is '{other}', not rgb or grayscale"),
            };
            return new DatasetInfo(names, size[0], size[1], colour, json["source"]?.GetValue<string>() ?? "");
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            throw new FormatException(e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}", e);
        }
    }
}

/// <summary>
/// The folder `convengine train --out DIR` fills: model/ (config.json + model.safetensors, as Model.Save writes),
/// dataset.json (class names, image size, colour mode), history.csv, loss.png, accuracy.png and checkpoints/.
/// </summary>
internal sealed class TrainingOutput(string directory)
{
    public const string ModelFolderName = "model";
    public const string DatasetFileName = "dataset.json";

    public string Directory { get; } = Path.GetFullPath(directory);
    public string ModelDirectory => Path.Combine(Directory, ModelFolderName);
    public string CheckpointDirectory => Path.Combine(Directory, "checkpoints");
    public string DatasetFile => Path.Combine(Directory, DatasetFileName);
    public string HistoryCsv => Path.Combine(Directory, "history.csv");
    public string LossPlot => Path.Combine(Directory, "loss.png");
    public string AccuracyPlot => Path.Combine(Directory, "accuracy.png");

    /// <summary>
    /// The model folder and its dataset.json for a --model argument: a training output folder (its model/),
    /// or a model folder itself (config.json + model.safetensors, dataset.json beside it or in the folder above).
    /// </summary>
    public static (string ModelDirectory, DatasetInfo? Dataset) LocateModel(string path)
    {
        string full = Path.GetFullPath(path);
        string modelDirectory;
        if (File.Exists(Path.Combine(full, ModelFiles.ConfigFile)))
            modelDirectory = full;
        else if (File.Exists(Path.Combine(full, ModelFolderName, ModelFiles.ConfigFile)))
            modelDirectory = Path.Combine(full, ModelFolderName);
        else
            throw new FileNotFoundException(
                $"'{path}' is not a trained model: it holds neither {ModelFiles.ConfigFile} nor {ModelFolderName}/{ModelFiles.ConfigFile} " +
                "(pass the --out folder of `convengine train`, or a folder written by Model.Save).");
        string? datasetFile = new[] { modelDirectory, Path.GetDirectoryName(modelDirectory) }
            .Where(d => d is not null).Select(d => Path.Combine(d!, DatasetFileName)).FirstOrDefault(File.Exists);
        return (modelDirectory, datasetFile is null ? null : DatasetInfo.Read(datasetFile));
    }
}
