using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Losses;
using ConvEngine.Metrics;
using ConvEngine.Models;
using ConvEngine.Optimizers;

namespace ConvEngine.Serialization;

/// <summary>
/// A saved model is a folder: config.json (the architecture plus, once compiled, Keras's "training_config")
/// and model.safetensors (every weight under its path, e.g. "conv2d/kernel").
/// </summary>
public static class ModelFiles
{
    /// <summary>The architecture file of a saved model folder.</summary>
    public const string ConfigFile = "config.json";
    /// <summary>The weights file of a saved model folder.</summary>
    public const string WeightsFile = "model.safetensors";
    /// <summary>The "format" stamp of config.json, and the newest "format_version" this build writes and reads.</summary>
    public const string FormatName = "convengine.model";
    /// <summary>The version of the config format this build writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>Writes config.json and model.safetensors into <paramref name="directory"/> (no atomicity of its own).</summary>
    internal static void WriteInto(string directory, Model model)
    {
        model.Initialize();
        var json = ModelConfig.ToJson(model);
        json["format"] = FormatName;
        json["format_version"] = FormatVersion;
        if (model.IsCompiled)
            json["training_config"] = new JsonObject
            {
                ["loss"] = model.Loss!.ToJson(),
                ["metrics"] = new JsonArray(model.Metrics.Select(m => (JsonNode?)m.ToJson()).ToArray()),
                ["optimizer_config"] = model.Optimizer!.ToJson(),
            };
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), json.ToJsonString(JsonConfig.Indented));
        SaveWeights(model, Path.Combine(directory, WeightsFile));
    }

    /// <summary>Rebuilds the model from config.json, loads model.safetensors and compiles it if a training_config is present.</summary>
    internal static Model ReadFrom(string directory, IBackend? backend, ulong? seed = null)
    {
        string configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath) && FileKinds.Of(configPath) == FileKind.Missing) throw new FileNotFoundException($"No model config at {configPath}.", configPath);
        var json = JsonFile.ReadObject(configPath, "Model config");
        // Hand-written or Keras-style configs carry no stamp; one that names another format or a newer version is refused.
        JsonFile.RequireFormat(json, configPath, FormatName, FormatVersion, required: false);
        Model model;
        try
        {
            model = ModelConfig.FromJson(json, backend, seed);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new FormatException($"{configPath}: {e.Message}", e);
        }
        LoadWeights(model, Path.Combine(directory, WeightsFile));
        if (json["training_config"] is JsonObject training)
        {
            try
            {
                var loss = Loss.FromJson(training["loss"] ?? throw new FormatException("training_config has no loss."));
                var metrics = (training["metrics"] as JsonArray ?? []).Select(m => Metric.FromJson(m!)).ToList();
                var optimizer = Optimizer.FromJson(training["optimizer_config"] ?? throw new FormatException("training_config has no optimizer_config."));
                model.Compile(optimizer, loss, metrics);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                model.Dispose();
                throw new FormatException($"{configPath}: {e.Message}", e);
            }
        }
        return model;
    }

    /// <summary>Writes every weight of the model into one safetensors file, atomically.</summary>
    public static void SaveWeights(Model model, string path)
    {
        model.Initialize();
        SafeTensors.Write(path, model.NamedParameters.Select(p => (p.Path, p.Parameter.Shape.ToArray(), p.Parameter.ToArray())),
            new Dictionary<string, string> { ["format"] = "convengine", ["model"] = model.Name });
    }

    /// <summary>
    /// Loads every weight by path. The file must hold exactly the model's weights with the same shapes;
    /// an error names the tensor, the file and both shapes.
    /// </summary>
    public static void LoadWeights(Model model, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No weights file at {path}.", path);
        using var file = SafeTensors.Open(path);
        var named = model.NamedParameters;
        foreach (var (name, parameter) in named)
        {
            if (!file.Contains(name))
                throw new InvalidDataException($"{path}: no tensor {QuotedName.Of(name)}, which model {QuotedName.Of(model.Name)} needs ({parameter.Shape}).");
            var info = file[name];
            if (!info.Shape.SequenceEqual(parameter.Shape.ToArray()))
                throw new ShapeException($"{path}: tensor {QuotedName.Of(name)} has shape {info.ShapeText} but layer {QuotedName.Of(parameter.Owner.Name)} expects {parameter.Shape}.");
        }
        var expected = named.Select(p => p.Path).ToHashSet(StringComparer.Ordinal);
        var extra = file.Tensors.Where(t => !expected.Contains(t.Name)).Select(t => t.Name).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{path}: tensors {QuotedName.List(extra)} match no weight of model {QuotedName.Of(model.Name)}.");
        foreach (var (name, parameter) in named) parameter.Assign(model.Backend, file.Read(name));
    }
}
