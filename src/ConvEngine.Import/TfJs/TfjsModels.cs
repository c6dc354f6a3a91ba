using System.Text.Json.Nodes;
using ConvEngine.Import.Keras;
using ConvEngine.Kernels;
using ConvEngine.Models;
using ConvEngine.Serialization;

namespace ConvEngine.Import.TfJs;

/// <summary>
/// TensorFlow.js Layers models (<c>model.json</c> with <c>"format": "layers-model"</c>, as tfjs's <c>model.save</c> and the
/// tensorflowjs converter write them): <c>modelTopology</c> is a Keras model config (or holds one under
/// <c>model_config</c>) and is built by the same Keras-config reader as to_json() files and .h5 files; the weights come
/// from <c>weightsManifest</c> (see <see cref="TfjsWeightsManifest"/>), named "layer/weight" and paired with the
/// model's innermost layers by name.
/// </summary>
public static class TfjsModels
{
    /// <summary>True when <paramref name="root"/> looks like a TF.js model.json: a modelTopology or a weightsManifest list.</summary>
    public static bool IsModelJson(JsonObject root) => root["modelTopology"] is JsonObject || root["weightsManifest"] is JsonArray;

    /// <summary>Loads a TF.js Layers model: its architecture and every weight.</summary>
    public static Model Load(string path, IBackend? backend = null, ulong? seed = null)
    {
        var root = TfjsWeightsManifest.ReadJson(path, "TF.js model.json");
        var config = ModelConfig(root, path);
        if (root["weightsManifest"] is null)
            throw new TfjsImportException($"{path}: no 'weightsManifest': the model.json lists no weights.");
        var weights = TfjsWeightsManifest.Read(root["weightsManifest"], path);
        var model = KerasModels.FromJson(config, backend, seed, $"{path} modelTopology");
        try
        {
            Assign(model, weights, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The Keras model config inside a model.json: modelTopology itself, or its model_config.</summary>
    public static JsonObject ModelConfig(JsonObject root, string path)
    {
        if (root["format"] is JsonValue f && f.TryGetValue(out string? format) && format != "layers-model")
            throw new TfjsImportException($"{path}: a TF.js {QuotedName.Of(format)} (a converted TensorFlow graph, not a Keras model); only 'layers-model' files are read.");
        if (root["modelTopology"] is not JsonObject topology)
            throw new TfjsImportException($"{path}: no 'modelTopology' object: this is not a TF.js Layers model.json.");
        return topology["model_config"] is JsonObject inner ? inner
            : topology["class_name"] is not null ? topology
            : throw new TfjsImportException($"{path}: modelTopology holds neither a Keras model config (class_name, config) nor model_config.");
    }

    /// <summary>Loads the weights of a TF.js manifest (model.json or weights manifest) into <paramref name="model"/>.</summary>
    public static void LoadWeights(Model model, string path) => Assign(model, TfjsWeightsManifest.Read(path), path);

    /// <summary>
    /// Groups the manifest's weights by layer (the name up to its last '/') and gives each innermost layer of the model
    /// the group whose prefix is its path ("inner_block/conv2d") or, as tfjs writes it, its own name.
    /// </summary>
    private static void Assign(Model model, IReadOnlyList<TfjsWeight> weights, string path)
    {
        var groups = weights.GroupBy(w => w.Name.LastIndexOf('/') is var slash and > 0 ? w.Name[..slash] : "")
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        if (groups.TryGetValue("", out var loose))
            throw new TfjsImportException($"{path}: weight {QuotedName.Of(loose[0].Name)} has no layer prefix ('layer/weight'); cannot tell which layer it belongs to.");
        var byLeafName = groups.Keys.GroupBy(k => k[(k.LastIndexOf('/') + 1)..], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        var used = new HashSet<string>(StringComparer.Ordinal);
        var pairs = new List<(LeafLayer, IReadOnlyList<KerasWeight>, string)>();
        foreach (var leaf in LeafLayerWeights.Of(model))
        {
            string? key = groups.ContainsKey(leaf.Path) ? leaf.Path
                : byLeafName.TryGetValue(leaf.Layer.Name, out var candidates) && candidates.Count == 1 ? candidates[0]
                : null;
            if (key is null)
                throw new TfjsImportException($"{path}: no weights for layer {QuotedName.Of(leaf.Path)} ({leaf.Layer.ClassName}); " +
                    $"the manifest has weights for {LeafLayerWeights.Names(groups.Keys.Take(12))}{(groups.Count > 12 ? ", …" : "")}.");
            if (!used.Add(key))
                throw new TfjsImportException($"{path}: the weights '{key}/…' would go to two layers of model {QuotedName.Of(model.Name)}.");
            pairs.Add((leaf, groups[key].Select(w => w.AsKerasWeight()).ToList(), $"weights '{key}/…'"));
        }
        var unused = groups.Keys.Where(k => !used.Contains(k)).ToList();
        if (unused.Count > 0)
            throw new TfjsImportException($"{path}: the manifest has weights for {LeafLayerWeights.Names(unused)}, which match no layer of model {QuotedName.Of(model.Name)}.");
        LeafLayerWeights.Assign(model, path, pairs);
    }
}
