using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Serialization;

/// <summary>
/// A model's architecture as Keras-like JSON (what Keras's model.to_json() writes): {"class_name", "config"}.
/// Sequential lists its layers; Functional lists each layer with its "inbound_nodes"
/// ([[["input_1", 0, 0, {}]]]) plus "input_layers" and "output_layers". Nested models nest their config.
/// </summary>
public static class ModelConfig
{
    /// <summary>The model's architecture as the engine's config.json holds it.</summary>
    public static JsonObject ToJson(Model model) => new()
    {
        ["class_name"] = model.ClassName,
        ["config"] = model.GetConfig(),
    };

    internal static JsonObject GraphConfig(Model model)
    {
        var layers = new JsonArray();
        if (model is Sequential sequential)
        {
            layers.Add(LayerJson(sequential.Input.Layer));
            foreach (var layer in sequential.Layers) layers.Add(LayerJson(layer));
            return new JsonObject { ["name"] = model.Name, ["layers"] = layers };
        }
        foreach (var node in model.Nodes)
        {
            var entry = LayerJson(node.Layer);
            entry["name"] = node.Layer.Name;
            var inbound = new JsonArray(node.Inputs.Select(t => (JsonNode?)new JsonArray(t.Layer.Name, 0, 0, new JsonObject())).ToArray());
            entry["inbound_nodes"] = node.Inputs.Count == 0 ? new JsonArray() : new JsonArray(inbound);
            layers.Add(entry);
        }
        return new JsonObject
        {
            ["name"] = model.Name,
            ["layers"] = layers,
            ["input_layers"] = new JsonArray(new JsonArray(model.Input.Layer.Name, 0, 0)),
            ["output_layers"] = new JsonArray(new JsonArray(model.Output.Layer.Name, 0, 0)),
        };
    }

    private static JsonObject LayerJson(Layer layer) => new() { ["class_name"] = layer.ClassName, ["config"] = layer.GetConfig() };

    /// <summary>Rebuilds a model (weights not yet set) from <see cref="ToJson"/>'s output.</summary>
    public static Model FromJson(JsonObject json, IBackend? backend = null, ulong? seed = null)
    {
        string className = JsonConfig.String(json, "model", "class_name");
        var config = JsonConfig.Object(json["config"], $"{className} config");
        return className switch
        {
            "Sequential" => SequentialFromConfig(config, backend, seed),
            "Functional" or "Model" => FunctionalFromConfig(config, backend, seed),
            _ => throw new FormatException($"Unknown model class {QuotedName.Of(className)}; expected Sequential or Functional."),
        };
    }

    private static Layer LayerFromJson(JsonNode? node, IBackend? backend, ulong? seed)
    {
        var obj = JsonConfig.Object(node, "layer");
        string className = JsonConfig.String(obj, "layer", "class_name");
        var config = JsonConfig.Object(obj["config"], $"{className} config");
        return className is "Sequential" or "Functional" or "Model"
            ? FromJson(obj, backend, seed)
            : LayerRegistry.Create(className, config);
    }

    private static Sequential SequentialFromConfig(JsonObject config, IBackend? backend, ulong? seed)
    {
        var model = new Sequential(name: JsonConfig.String(config, "Sequential", "name"), backend: backend, seed: seed);
        var layers = JsonConfig.Required(config, "Sequential", "layers") as JsonArray
            ?? throw new FormatException("Sequential config: 'layers' must be a list.");
        foreach (var node in layers)
        {
            var layer = LayerFromJson(node, backend, seed);
            // Keras also stores the input shape on the first layer instead of an InputLayer.
            if (model.Nodes.Count == 0 && layer is not InputLayer && layer is not Model
                && node?["config"]?["batch_input_shape"] is JsonArray)
                model.Add(InputLayer.FromConfig(new JsonObject
                {
                    ["batch_input_shape"] = node["config"]!["batch_input_shape"]!.DeepClone(),
                    ["name"] = LayerNames.Unique("input", zeroBased: false),
                }));
            model.Add(layer);
        }
        return model;
    }

    private static Model FunctionalFromConfig(JsonObject config, IBackend? backend, ulong? seed)
    {
        const string owner = "Functional";
        string name = JsonConfig.String(config, owner, "name");
        var entries = (JsonConfig.Required(config, owner, "layers") as JsonArray ?? throw new FormatException("Functional config: 'layers' must be a list."))
            .Select(n => JsonConfig.Object(n, "Functional layer")).ToList();
        var pending = new List<(Layer Layer, string[] Inbound)>();
        var outputs = new Dictionary<string, SymbolicTensor>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var layer = LayerFromJson(entry, backend, seed);
            if (layer is InputLayer input)
            {
                outputs[input.Name] = input;
                continue;
            }
            pending.Add((layer, InboundNames(entry, layer.Name)));
        }
        // Apply each layer once all its inputs exist (the list is usually in order already).
        while (pending.Count > 0)
        {
            int ready = pending.FindIndex(p => p.Inbound.All(outputs.ContainsKey));
            if (ready < 0)
                throw new FormatException($"Functional config {QuotedName.Of(name)}: layer {QuotedName.Of(pending[0].Layer.Name)} takes inputs " +
                    $"{string.Join(", ", pending[0].Inbound.Where(i => !outputs.ContainsKey(i)).Select(i => $"'{i}'"))} that no layer produces.");
            var (layer, inbound) = pending[ready];
            pending.RemoveAt(ready);
            outputs[layer.Name] = layer.Apply(inbound.Select(i => outputs[i]).ToArray());
        }
        string inputName = EndpointName(config, "input_layers", name);
        string outputName = EndpointName(config, "output_layers", name);
        if (!outputs.TryGetValue(inputName, out var inputTensor) || !outputs.TryGetValue(outputName, out var outputTensor))
            throw new FormatException($"Functional config {QuotedName.Of(name)}: input {QuotedName.Of(inputName)} or output {QuotedName.Of(outputName)} is not among its layers.");
        return new Model(inputTensor, outputTensor, name, backend, seed);
    }

    private static string[] InboundNames(JsonObject entry, string layerName)
    {
        if (entry["inbound_nodes"] is not JsonArray nodes || nodes.Count == 0)
            throw new FormatException($"Functional layer {QuotedName.Of(layerName)} has no inbound_nodes.");
        if (nodes.Count > 1)
            throw new FormatException($"Functional layer {QuotedName.Of(layerName)} is applied {nodes.Count} times; shared layers are not supported.");
        if (nodes[0] is not JsonArray inbound) throw new FormatException($"Functional layer {QuotedName.Of(layerName)}: inbound_nodes must be Keras 2 lists.");
        return inbound.Select(t => t is JsonArray { Count: >= 3 } ref_ && ref_[0] is JsonValue v && v.TryGetValue(out string? source)
                && ref_[1]?.GetValue<int>() == 0 && ref_[2]?.GetValue<int>() == 0
            ? source
            : throw new FormatException($"Functional layer {QuotedName.Of(layerName)}: unsupported inbound reference {t?.ToJsonString()}.")).ToArray();
    }

    private static string EndpointName(JsonObject config, string key, string model)
    {
        if (config[key] is not JsonArray list || list.Count != 1 || list[0] is not JsonArray { Count: >= 1 } first
            || first[0] is not JsonValue v || !v.TryGetValue(out string? layer))
            throw new FormatException($"Functional config {QuotedName.Of(model)}: {QuotedName.Of(key)} must name exactly one layer.");
        return layer;
    }
}
