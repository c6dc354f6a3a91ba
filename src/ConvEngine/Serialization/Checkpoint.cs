using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConvEngine.Kernels;
using ConvEngine.Models;
using ConvEngine.Training;

namespace ConvEngine.Serialization;

/// <summary>
/// Training checkpoints: after epoch N, Fit writes the folder "epoch-000N" holding the model
/// (config.json with its training_config, model.safetensors), the optimizer state (optimizer.safetensors:
/// "m/conv2d/kernel", …, with the iteration count in its metadata) and training.json (epochs completed,
/// steps trained, the RNG seed, the history so far). The folder is written aside and renamed into place,
/// so a checkpoint is either whole or absent.
/// </summary>
public static partial class Checkpoint
{
    /// <summary>The checkpoint's optimizer state (moments, iterations).</summary>
    public const string OptimizerFile = "optimizer.safetensors";
    /// <summary>The checkpoint's training state (epoch, step, seed, history).</summary>
    public const string StateFile = "training.json";
    /// <summary>The "format" stamp of training.json and the newest version this build reads.</summary>
    public const string StateFormat = "convengine.checkpoint";
    /// <summary>The version of <see cref="StateFile"/>'s format this build writes.</summary>
    public const int StateFormatVersion = 1;

    /// <summary>The folder name of the checkpoint taken after <paramref name="epochs"/> epochs.</summary>
    public static string FolderName(int epochs) => $"epoch-{epochs:D4}";

    /// <summary>The folder name of a checkpoint taken <paramref name="steps"/> steps into the epoch after <paramref name="epochs"/> completed ones.</summary>
    public static string FolderName(int epochs, int steps) => $"{FolderName(epochs)}-step-{steps:D6}";

    /// <summary>Saves the model's training state as the checkpoint of its completed epochs; keeps the newest <paramref name="keep"/>. Returns its path.</summary>
    public static string Save(Model model, string directory, int keep = 2) => Save(model, directory, keep, null);

    /// <summary>As <see cref="Save(Model, string, int)"/>; with <paramref name="progress"/>, the checkpoint of an epoch interrupted after its first steps.</summary>
    internal static string Save(Model model, string directory, int keep, EpochProgress? progress)
    {
        if (!model.IsCompiled) throw new InvalidOperationException($"Checkpoint: model {QuotedName.Of(model.Name)} is not compiled; there is no training state to save.");
        string name = progress is null ? FolderName(model.EpochsCompleted) : FolderName(model.EpochsCompleted, progress.Steps);
        string path = Path.Combine(Path.GetFullPath(directory), name);
        AtomicDirectory.Write(path, temp =>
        {
            ModelFiles.WriteInto(temp, model);
            WriteOptimizer(model, Path.Combine(temp, OptimizerFile));
            var state = new JsonObject
            {
                ["format"] = StateFormat,
                ["format_version"] = StateFormatVersion,
                ["epochs_completed"] = model.EpochsCompleted,
                ["steps_trained"] = model.StepsTrained,
                ["seed"] = model.Seed,
                ["history"] = (model.History ?? new History()).ToJson(),
            };
            if (progress is not null)
                state["epoch_in_progress"] = new JsonObject
                {
                    ["steps_done"] = progress.Steps,
                    ["loss_sum"] = progress.LossSum,
                    ["samples"] = progress.Samples,
                    ["metric_sums"] = new JsonArray(progress.MetricSums.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()),
                    ["rows"] = progress.Rows,
                };
            AtomicFile.WriteAllText(Path.Combine(temp, StateFile), state.ToJsonString(JsonConfig.Indented));
            TestHooks.InCheckpointWrite(name);
        });
        foreach (var old in List(directory).SkipLast(keep)) Directory.Delete(old.Path, recursive: true);
        return path;
    }

    /// <summary>The path of the newest complete checkpoint in <paramref name="directory"/>, or null if there is none.</summary>
    public static string? FindLatest(string directory) => List(directory).LastOrDefault().Path;

    /// <summary>Loads the newest checkpoint in <paramref name="directory"/>.</summary>
    public static Model LoadLatest(string directory, IBackend? backend = null) =>
        Load(FindLatest(directory) ?? throw new FileNotFoundException($"No checkpoint (epoch-NNNN folder) in {Path.GetFullPath(directory)}."), backend);

    /// <summary>
    /// Restores a model ready to continue training: architecture, weights, compiled loss/metrics/optimizer with
    /// its state, completed epochs, steps trained, seed and history.
    /// </summary>
    public static Model Load(string checkpointPath, IBackend? backend = null)
    {
        string statePath = Path.Combine(checkpointPath, StateFile);
        if (FileKinds.Of(statePath) == FileKind.Missing) throw new FileNotFoundException($"{checkpointPath} is not a checkpoint: it has no {StateFile}.", statePath);
        var state = JsonFile.ReadObject(statePath, "Checkpoint state");
        JsonFile.RequireFormat(state, statePath, StateFormat, StateFormatVersion);
        int epochs = JsonConfig.Int(state, statePath, "epochs_completed");
        if (epochs < 0) throw new FormatException($"{statePath}: epochs_completed is {epochs}, which is negative.");
        var progress = ReadProgress(state, statePath);
        // The folder's name is what FindLatest orders by; a training.json that disagrees was edited or moved.
        string folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(checkpointPath));
        var folder = FolderPattern().Match(folderName);
        if (folder.Success && (int.Parse(folder.Groups[1].Value, CultureInfo.InvariantCulture) != epochs
                               || (folder.Groups[2].Success ? int.Parse(folder.Groups[2].Value, CultureInfo.InvariantCulture) : (int?)null) != progress?.Steps))
            throw new FormatException($"{statePath}: epochs_completed {epochs}{(progress is null ? "" : $" and steps_done {progress.Steps}")} disagree with the " +
                $"checkpoint folder's name {folderName}; the checkpoint was renamed or its training.json edited.");
        var model = ModelFiles.ReadFrom(checkpointPath, backend, JsonConfig.OptionalULong(state, statePath, "seed"));
        if (!model.IsCompiled) throw new FormatException($"{checkpointPath}: the model config has no training_config.");
        ReadOptimizer(model, Path.Combine(checkpointPath, OptimizerFile));
        model.EpochsCompleted = epochs;
        double steps = JsonConfig.Double(state, statePath, "steps_trained");
        if (steps < 0 || steps != Math.Floor(steps) || steps > long.MaxValue)
            throw new FormatException($"{statePath}: steps_trained is {steps}, not a count of steps.");
        model.StepsTrained = (long)steps;
        try
        {
            model.History = History.FromJson(state["history"]);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{statePath}: {e.Message}", e);
        }
        model.EpochInProgress = progress;
        return model;
    }

    /// <summary>The "epoch_in_progress" of a checkpoint written inside an epoch, or null.</summary>
    private static EpochProgress? ReadProgress(JsonObject state, string statePath)
    {
        if (state["epoch_in_progress"] is not { } node) return null;
        var p = JsonConfig.Object(node, $"{statePath}: epoch_in_progress");
        string where = $"{statePath} epoch_in_progress";
        int steps = JsonConfig.Int(p, where, "steps_done");
        double loss = JsonConfig.Double(p, where, "loss_sum");
        double samples = JsonConfig.Double(p, where, "samples"), rows = JsonConfig.Double(p, where, "rows");
        var sums = (p["metric_sums"] as JsonArray ?? throw new FormatException($"{where}: 'metric_sums' must be a list."))
            .Select(n => n is JsonValue v && v.TryGetValue(out double d) ? d : throw new FormatException($"{where}: 'metric_sums' must hold numbers.")).ToArray();
        if (steps < 1 || !double.IsFinite(loss) || samples < 1 || rows < 0 || samples != Math.Floor(samples) || rows != Math.Floor(rows) || sums.Any(s => !double.IsFinite(s)))
            throw new FormatException($"{where}: steps {steps}, {samples} samples, {rows} rows and the sums are not the state of a partly trained epoch.");
        return new EpochProgress(steps, loss, (long)samples, sums, (long)rows);
    }

    private static void WriteOptimizer(Model model, string path)
    {
        var optimizer = model.Optimizer!;
        var tensors = new List<(string, int[], float[])>();
        foreach (var (name, parameter) in model.NamedParameters)
        {
            if (optimizer.StateOf(parameter) is not { } slots) continue;
            for (int i = 0; i < slots.Count; i++)
                tensors.Add(($"{optimizer.SlotNames[i]}/{name}", parameter.Shape.ToArray(), slots[i].ToArray()));
        }
        SafeTensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["optimizer"] = optimizer.ClassName,
            ["iterations"] = optimizer.Iterations.ToString(CultureInfo.InvariantCulture),
        });
    }

    private static void ReadOptimizer(Model model, string path)
    {
        var optimizer = model.Optimizer!;
        using var file = SafeTensors.Open(path);
        if (!file.Metadata.TryGetValue("optimizer", out var className) || className != optimizer.ClassName)
            throw new InvalidDataException($"{path}: optimizer state is for {QuotedName.Of(className)} but the model compiles {optimizer.ClassName}.");
        if (!file.Metadata.TryGetValue("iterations", out var iterations) || !long.TryParse(iterations, CultureInfo.InvariantCulture, out long count))
            throw new InvalidDataException($"{path}: the metadata has no valid 'iterations'.");
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.NamedParameters)
        {
            var keys = optimizer.SlotNames.Select(s => $"{s}/{name}").ToList();
            int present = keys.Count(file.Contains);
            if (present == 0) continue;
            if (present != keys.Count)
                throw new InvalidDataException($"{path}: weight {QuotedName.Of(name)} has only some of its optimizer state ({string.Join(", ", keys.Where(file.Contains))}).");
            foreach (var key in keys)
            {
                if (!file[key].Shape.SequenceEqual(parameter.Shape.ToArray()))
                    throw new InvalidDataException($"{path}: tensor {QuotedName.Of(key)} has shape {file[key].ShapeText} but weight {QuotedName.Of(name)} is {parameter.Shape}.");
                known.Add(key);
            }
            optimizer.SetState(parameter, keys.Select(file.Read).ToList());
        }
        var extra = file.Tensors.Where(t => !known.Contains(t.Name)).Select(t => t.Name).ToList();
        if (extra.Count > 0) throw new InvalidDataException($"{path}: optimizer tensors {QuotedName.List(extra)} match no weight of model {QuotedName.Of(model.Name)}.");
        optimizer.Iterations = count;
    }

    /// <summary>
    /// Complete checkpoints, oldest first by (epochs, steps into the next): "epoch-0002" after "epoch-0001-step-000017".
    /// In-progress temp folders start with '.' and never match.
    /// </summary>
    private static List<(int Epochs, string Path)> List(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        return Directory.EnumerateDirectories(directory)
            .Select(d => (Match: FolderPattern().Match(Path.GetFileName(d)), Path: d))
            .Where(x => x.Match.Success && File.Exists(Path.Combine(x.Path, StateFile)))
            .Select(x => (Epochs: int.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture),
                          Steps: x.Match.Groups[2].Success ? int.Parse(x.Match.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
                          Path: Path.GetFullPath(x.Path)))
            .OrderBy(x => x.Epochs).ThenBy(x => x.Steps)
            .Select(x => (x.Epochs, x.Path))
            .ToList();
    }

    [GeneratedRegex(@"^epoch-(\d+)(?:-step-(\d+))?$")]
    private static partial Regex FolderPattern();
}
