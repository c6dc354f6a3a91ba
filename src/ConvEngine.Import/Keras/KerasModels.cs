using System.Text.Json;
using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Keras;

/// <summary>
/// Keras architectures as engine models: the JSON of <c>model.to_json()</c> (Sequential or Functional) and full-model
/// HDF5 files (<c>model.save("m.h5")</c>: the root attribute <c>model_config</c> plus the weights). Each layer is built
/// from its Keras config (filters, kernel_size, strides, padding, dilation_rate, activation, use_bias, units,
/// pool_size, rate, scale/offset, batch_input_shape …) by the engine's layer registry; a class the engine has no
/// layer for is an <see cref="UnsupportedLayerException"/> naming the layer, its class and the model.
/// Older and newer spellings are normalised first: Keras ≤ 2.2 Sequential configs that are a bare list of layers,
/// and Keras 3's InputLayer "batch_shape" and dict-style inbound_nodes; a Keras 3 config's "hard_sigmoid" (relu6(x + 3)/6,
/// not Keras 2's clamp(0.2x + 0.5, 0, 1)) is read as the engine's "hard_sigmoid_keras3".
/// </summary>
public static class KerasModels
{
    private static readonly HashSet<string> ModelClasses = new(StringComparer.Ordinal) { "Sequential", "Functional", "Model" };

    /// <summary>Builds the model a Keras JSON config describes; its weights start uninitialized.</summary>
    /// <param name="source">Where the JSON came from (a file name), for error messages.</param>
    /// <param name="json">The text of <c>model.to_json()</c> or a Keras config.json.</param>
    /// <param name="backend">Where the model's tensors live; null for a new cpu backend.</param>
    /// <param name="seed">Seed of the later initialisation; null for a random seed.</param>
    public static Model FromJson(string json, IBackend? backend = null, ulong? seed = null, string? source = null)
    {
        var root = JsonFile.ParseObject(System.Text.Encoding.UTF8.GetBytes(json), source ?? "Keras model config");
        return FromJson(root, backend, seed, source);
    }

    /// <summary>Builds the model a parsed Keras JSON config ({"class_name", "config"}) describes.</summary>
    public static Model FromJson(JsonObject root, IBackend? backend = null, ulong? seed = null, string? source = null)
    {
        string where = source ?? "Keras model config";
        var normalised = (JsonObject)root.DeepClone();
        Normalise(normalised, where, IsKeras3(normalised));
        CheckLayers(normalised, where);
        CheckGraph(normalised, where);
        try
        {
            return ModelConfig.FromJson(normalised, backend, seed);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or ShapeException)
        {
            throw new FormatException($"{where}: cannot build Keras model {QuotedName.Of(ModelName(normalised))}: {e.Message}", e);
        }
        catch (NotSupportedException e)   // a setting the engine lacks (BatchNormalization on another axis): still the user's file, named
        {
            throw new NotSupportedException($"{where}: cannot build Keras model {QuotedName.Of(ModelName(normalised))}: {e.Message}", e);
        }
    }

    /// <summary>
    /// A full-model Keras HDF5 file: the architecture from its <c>model_config</c> attribute, then its weights
    /// (paired by name, since the layers carry the file's names).
    /// </summary>
    public static Model LoadH5(string path, IBackend? backend = null, ulong? seed = null) => LoadH5(KerasWeightsFile.Read(path), backend, seed);

    /// <summary>A full-model file already read; see <see cref="LoadH5(string, IBackend?, ulong?)"/>.</summary>
    public static Model LoadH5(KerasWeightsFile file, IBackend? backend = null, ulong? seed = null)
    {
        if (file.ModelConfigJson is null)
            throw new KerasImportException($"{file.Path}: no 'model_config' attribute: the file holds weights only (save_weights). " +
                "Build the model (or load its to_json() config with KerasModels.FromJson) and load the weights with KerasWeights.Load.");
        var model = FromJson(file.ModelConfigJson, backend, seed, $"{file.Path} model_config");
        KerasWeights.Load(model, file, KerasWeightMatching.Auto);
        return model;
    }

    private static string ModelName(JsonObject model) =>
        model["config"] is JsonObject c && c["name"] is JsonValue v && v.TryGetValue(out string? name) ? name
        : model["class_name"]?.ToString() ?? "model";

    /// <summary>Rewrites older and newer Keras spellings into the Keras 2 form the engine reads, in place.</summary>
    private static void Normalise(JsonObject model, string where, bool keras3)
    {
        string className = ClassOf(model, where);
        if (!ModelClasses.Contains(className))
            throw new FormatException($"{where}: the top-level class is {QuotedName.Of(className)}; a Keras model config is Sequential or Functional.");
        // Keras ≤ 2.2.4 wrote a Sequential's config as the bare list of its layers.
        if (model["config"] is JsonArray bare)
        {
            model["config"] = new JsonObject { ["name"] = LayerNames.Unique("sequential"), ["layers"] = bare.DeepClone() };
        }
        if (model["config"] is not JsonObject config || config["layers"] is not JsonArray layers)
            throw new FormatException($"{where}: {className} config has no 'layers' list.");
        // Keras 3 writes a single endpoint as ["input_layer", 0, 0] rather than [["input_layer", 0, 0]].
        foreach (string key in new[] { "input_layers", "output_layers" })
            if (config[key] is JsonArray { Count: > 0 } endpoints && endpoints[0] is JsonValue)
                config[key] = new JsonArray(endpoints.DeepClone());
        foreach (var node in layers)
        {
            if (node is not JsonObject layer) continue;
            if (ModelClasses.Contains(ClassOf(layer, where)))
            {
                Normalise(layer, where, keras3);
                if (layer["inbound_nodes"] is JsonArray inboundOfModel) layer["inbound_nodes"] = InboundKeras2(inboundOfModel, where);
                continue;
            }
            // tf.keras 2.2–2.5 spellings such as "preprocessing.RandomFlip" name the same layer.
            layer["class_name"] = PreprocessingLayers.CanonicalName(ClassOf(layer, where));
            if (layer["config"] is JsonObject layerConfig && layerConfig["batch_shape"] is JsonNode batchShape && layerConfig["batch_input_shape"] is null)
                layerConfig["batch_input_shape"] = batchShape.DeepClone();   // Keras 3
            if (layer["inbound_nodes"] is JsonArray inbound) layer["inbound_nodes"] = InboundKeras2(inbound, where);
            // Keras 3's hard_sigmoid is relu6(x + 3)/6, Keras 2's (and TF.js's) clamp(0.2x + 0.5, 0, 1): keep each file's meaning.
            if (keras3 && layer["config"] is JsonObject { } withActivation && withActivation["activation"] is JsonValue a
                && a.TryGetValue(out string? activation) && activation == "hard_sigmoid")
                withActivation["activation"] = "hard_sigmoid_keras3";
        }
        RenumberSingleCallNodes(config);
    }

    /// <summary>
    /// A nested model's own graph counts as its node 0, so Keras 2 and TF.js refer to its one call in the outer
    /// graph as node 1 (["inner", 1, 0]); the engine numbers a layer's calls in this config from 0. Rewrites the
    /// node index of every reference to a layer called once here.
    /// </summary>
    private static void RenumberSingleCallNodes(JsonObject config)
    {
        var layers = ((JsonArray)config["layers"]!).OfType<JsonObject>().ToList();
        var calledOnce = layers.Where(l => l["inbound_nodes"] is JsonArray { Count: 1 })
            .Select(EntryName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        void Renumber(JsonNode? reference)
        {
            if (reference is JsonArray { Count: >= 3 } r && r[0] is JsonValue v && v.TryGetValue(out string? source)
                && calledOnce.Contains(source) && r[1] is JsonValue i && i.TryGetValue(out int index) && index != 0)
                r[1] = 0;
        }
        foreach (var layer in layers)
            if (layer["inbound_nodes"] is JsonArray calls)
                foreach (var call in calls.OfType<JsonArray>())
                    foreach (var reference in call) Renumber(reference);
        if (config["output_layers"] is JsonArray outputs)
            foreach (var reference in outputs) Renumber(reference);
    }

    /// <summary>
    /// Whether a config was written by Keras 3, from what only Keras 3 writes: an InputLayer's "batch_shape" (Keras 2
    /// writes "batch_input_shape") or a call in inbound_nodes as {"args", "kwargs"} (Keras 2 writes lists).
    /// </summary>
    private static bool IsKeras3(JsonObject model)
    {
        if (model["config"] is not JsonObject { } config || config["layers"] is not JsonArray layers) return false;
        foreach (var node in layers)
        {
            if (node is not JsonObject layer) continue;
            if (layer["config"] is JsonObject c && c["batch_shape"] is not null && c["batch_input_shape"] is null) return true;
            if (layer["inbound_nodes"] is JsonArray calls && calls.Any(call => call is JsonObject)) return true;
            if (layer["class_name"] is JsonValue v && v.TryGetValue(out string? name) && ModelClasses.Contains(name) && IsKeras3(layer)) return true;
        }
        return false;
    }

    /// <summary>
    /// Keras 3 writes each call as {"args": [keras tensor or list of them], "kwargs": {}}, a keras tensor being
    /// {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, index]}}; Keras 2 writes
    /// [[layer, node, index, kwargs], …]. Returns the Keras 2 form.
    /// </summary>
    private static JsonArray InboundKeras2(JsonArray inbound, string where)
    {
        if (inbound.All(call => call is JsonArray)) return inbound;
        var calls = new JsonArray();
        foreach (var call in inbound)
        {
            if (call is JsonArray keras2) { calls.Add(keras2.DeepClone()); continue; }
            var args = (call as JsonObject)?["args"] as JsonArray
                ?? throw new FormatException($"{where}: unsupported inbound_nodes entry {call?.ToJsonString()}.");
            var references = new JsonArray();
            foreach (var tensor in args.SelectMany(a => a is JsonArray list ? list.ToArray() : [a]))
            {
                if (tensor?["config"]?["keras_history"] is not JsonArray history)
                    throw new FormatException($"{where}: unsupported inbound argument {tensor?.ToJsonString()}.");
                references.Add(new JsonArray(history[0]?.DeepClone(), history[1]?.DeepClone(), history[2]?.DeepClone(), new JsonObject()));
            }
            calls.Add(references);
        }
        return calls;
    }

    /// <summary>
    /// Builds each layer alone from its config first, so a class the engine lacks, or a setting it cannot honour,
    /// is reported with the layer's name, class and model rather than somewhere inside the graph construction.
    /// </summary>
    private static void CheckLayers(JsonObject model, string where)
    {
        string modelName = ModelName(model);
        var known = LayerRegistry.ClassNames.ToHashSet(StringComparer.Ordinal);
        foreach (var node in (JsonArray)model["config"]!["layers"]!)
        {
            if (node is not JsonObject layer) throw new FormatException($"{where}: model {QuotedName.Of(modelName)} lists a layer that is not a JSON object: {node?.ToJsonString()}.");
            string className = ClassOf(layer, where);
            if (ModelClasses.Contains(className))
            {
                CheckLayers(layer, where);
                continue;
            }
            var config = layer["config"] as JsonObject ?? throw new FormatException($"{where}: a {QuotedName.Of(className)} layer of model {QuotedName.Of(modelName)} has no config object.");
            string layerName = config["name"] is JsonValue v && v.TryGetValue(out string? n) ? n : layer["name"]?.ToString() ?? "(unnamed)";
            if (!known.Contains(className)) throw new UnsupportedLayerException(layerName, className, modelName, where);
            try
            {
                LayerRegistry.Create(className, config).Dispose();
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new FormatException($"{where}: layer {QuotedName.Of(layerName)} ({className}) of model {QuotedName.Of(modelName)}: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// A functional graph must be closed and acyclic: every inbound reference names a layer of the same model, and
    /// following them from any layer ends at inputs. Checked on the names, before any layer is built.
    /// </summary>
    private static void CheckGraph(JsonObject model, string where)
    {
        var layers = ((JsonArray)model["config"]!["layers"]!).OfType<JsonObject>().ToList();
        foreach (var nested in layers.Where(l => ModelClasses.Contains(ClassOf(l, where)))) CheckGraph(nested, where);
        if (ClassOf(model, where) == "Sequential") return;
        string modelName = ModelName(model);
        var inputsOf = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            string name = EntryName(layer) ?? "(unnamed)";
            inputsOf[name] = (layer["inbound_nodes"] as JsonArray ?? []).OfType<JsonArray>().SelectMany(call => call.OfType<JsonArray>())
                .Select(r => r.Count > 0 && r[0] is JsonValue v && v.TryGetValue(out string? source) ? source : "").ToList();
        }
        foreach (var (layer, sources) in inputsOf)
            foreach (string source in sources)
                if (!inputsOf.ContainsKey(source))
                    throw new FormatException($"{where}: layer {QuotedName.Of(layer)} of model {QuotedName.Of(modelName)} takes its input from {QuotedName.Of(source)}, which is not a layer of that model (a dangling reference).");
        // Depth-first search with an explicit stack (graphs may be deep); a layer met again while on the path closes a cycle.
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (string start in inputsOf.Keys)
        {
            if (state.ContainsKey(start)) continue;
            var stack = new Stack<(string Layer, int Next)>();
            stack.Push((start, 0));
            state[start] = 1;
            path.Add(start);
            while (stack.Count > 0)
            {
                var (layer, next) = stack.Pop();
                var sources = inputsOf[layer];
                if (next == sources.Count)
                {
                    state[layer] = 2;
                    path.RemoveAt(path.Count - 1);
                    continue;
                }
                stack.Push((layer, next + 1));
                string source = sources[next];
                if (state.TryGetValue(source, out int seen))
                {
                    if (seen == 1)
                        throw new FormatException($"{where}: the layers of model {QuotedName.Of(modelName)} form a cycle: " +
                            string.Join(" <- ", path.SkipWhile(l => l != source).Append(source).Select(QuotedName.Of)) + ".");
                    continue;
                }
                state[source] = 1;
                path.Add(source);
                stack.Push((source, 0));
            }
        }
    }

    /// <summary>A functional entry's name: its own "name", else its config's.</summary>
    private static string? EntryName(JsonObject layer) =>
        layer["name"] is JsonValue v && v.TryGetValue(out string? name) ? name
        : layer["config"] is JsonObject c && c["name"] is JsonValue cv && cv.TryGetValue(out string? configName) ? configName : null;

    private static string ClassOf(JsonObject node, string where) =>
        node["class_name"] is JsonValue v && v.TryGetValue(out string? name) ? name
        : throw new FormatException($"{where}: an entry has no 'class_name': {Abbreviate(node.ToJsonString())}.");

    private static string Abbreviate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
