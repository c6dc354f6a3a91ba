using System.Text.Json.Nodes;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.Keras;

/// <summary>A model the chosen format cannot express (a layer class it lacks, a setting it has no spelling for): names the layer.</summary>
public sealed class ModelExportException(string message) : IOException(message);

/// <summary>
/// An engine model as the config.json of a Keras 3 .keras file (serialization_lib's form): every object is
/// {"module", "class_name", "config", "registered_name"} with layers' "build_config"; the InputLayer's shape is
/// "batch_shape"; a functional layer's calls are {"args": [keras tensors], "kwargs": {}}, each tensor
/// {"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer, node, index]}}.
/// Layer settings are the engine's Keras-named config (the same keys Keras 3's constructors take).
/// </summary>
internal static class Keras3Config
{
    /// <summary>The Keras layer classes an engine model may be made of to be written as Keras 3 (the engine's own, such as LRN, are not Keras's).</summary>
    public static readonly IReadOnlySet<string> ExportableClasses = new HashSet<string>(StringComparer.Ordinal)
    {
        "InputLayer", "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D",
        "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dense", "Flatten", "Dropout", "Activation", "ReLU", "Softmax", "Rescaling",
        "Add", "Multiply", "Concatenate", "BatchNormalization", "ZeroPadding2D", "Cropping2D", "Reshape", "Sequential", "Functional",
        "LeakyReLU", "Permute", "Normalization",
    };

    /// <summary>Fails, naming the layer and its class, unless every layer (nested models included) is a Keras class.</summary>
    public static void CheckExportable(Model model, string format = "Keras 3")
    {
        foreach (var entry in Keras3Layout.Paths(model))
            if (!ExportableClasses.Contains(entry.Layer.ClassName))
                throw new ModelExportException($"Layer '{entry.Layer.Name}' ({entry.Layer.ClassName}) of model '{entry.Owner.Name}' has no {format} equivalent; the model cannot be exported.");
    }

    /// <summary>The config.json object of <paramref name="model"/>.</summary>
    public static JsonObject ToJson(Model model)
    {
        CheckExportable(model);
        return ModelJson(model);
    }

    private static JsonObject ModelJson(Model model)
    {
        var layers = new JsonArray();
        JsonObject config;
        if (model is Sequential sequential)
        {
            layers.Add(LayerJson(sequential.Input.Layer));
            foreach (var layer in sequential.Layers) layers.Add(LayerJson(layer));
            config = new JsonObject { ["name"] = model.Name, ["trainable"] = model.Trainable, ["dtype"] = "float32", ["layers"] = layers,
                ["build_input_shape"] = BatchShape(model.InputShape) };
            return Wrap("keras", "Sequential", config, null, new JsonObject { ["input_shape"] = BatchShape(model.InputShape) });
        }
        foreach (var layer in Keras3Layout.LayerOrder(model))
        {
            var entry = LayerJson(layer);
            entry["name"] = layer.Name;
            var node = model.Nodes.Single(n => ReferenceEquals(n.Layer, layer));
            entry["inbound_nodes"] = node.Inputs.Count == 0 ? new JsonArray() : new JsonArray(new JsonObject
            {
                ["args"] = node.Inputs.Count == 1 ? new JsonArray(Tensor(node.Inputs[0])) : new JsonArray(new JsonArray(node.Inputs.Select(t => (JsonNode?)Tensor(t)).ToArray())),
                ["kwargs"] = new JsonObject(),
            });
            layers.Add(entry);
        }
        config = new JsonObject
        {
            ["name"] = model.Name, ["trainable"] = model.Trainable, ["layers"] = layers,
            ["input_layers"] = new JsonArray(model.Input.Layer.Name, 0, 0),
            ["output_layers"] = new JsonArray(model.Output.Layer.Name, 0, 0),
        };
        return Wrap("keras.src.models.functional", "Functional", config, "Functional", new JsonObject { ["input_shape"] = BatchShape(model.InputShape) });
    }

    private static JsonObject Tensor(SymbolicTensor t) => new()
    {
        ["class_name"] = "__keras_tensor__",
        ["config"] = new JsonObject { ["shape"] = BatchShape(t.Shape), ["dtype"] = "float32", ["keras_history"] = new JsonArray(t.Layer.Name, 0, 0) },
    };

    private static JsonObject LayerJson(Layer layer)
    {
        if (layer is Model inner) return ModelJson(inner);
        var config = layer.GetConfig();
        KerasSpellings(layer, config);
        if (layer is InputLayer input)
        {
            config.Remove("batch_input_shape");
            config.Remove("ragged");
            config["batch_shape"] = BatchShape(input.Shape);
            return Wrap("keras.layers", "InputLayer", config, null, null);
        }
        foreach (var key in config.Select(p => p.Key).ToList())
            if (config[key] is JsonObject o && o["class_name"] is not null && o["module"] is null && key.EndsWith("_initializer", StringComparison.Ordinal))
                config[key] = new JsonObject
                {
                    ["module"] = "keras.initializers", ["class_name"] = o["class_name"]!.DeepClone(),
                    ["config"] = o["config"]?.DeepClone() ?? new JsonObject(), ["registered_name"] = null,
                };
        var inputs = layer.Node?.Inputs ?? [];
        JsonNode? inputShape = inputs.Count == 1 ? BatchShape(inputs[0].Shape) : new JsonArray(inputs.Select(t => (JsonNode?)BatchShape(t.Shape)).ToArray());
        return Wrap("keras.layers", layer.ClassName, config, null, new JsonObject { ["input_shape"] = inputShape });
    }

    /// <summary>
    /// Rewrites the engine's names that Keras 3 spells differently, and refuses settings Keras 3 has no spelling for:
    /// the engine's hard_sigmoid is Keras 2's clamp(0.2x + 0.5, 0, 1) (Keras 3's hard_sigmoid is relu6(x + 3)/6, the
    /// engine's hard_sigmoid_keras3), the tanh form of gelu is no activation name, and Keras pads only "valid"/"same".
    /// </summary>
    private static void KerasSpellings(Layer layer, JsonObject config)
    {
        ModelExportException Refuse(string why) => new($"Layer '{layer.Name}' ({layer.ClassName}) has no Keras 3 equivalent: {why}; the model cannot be exported.");
        if (config["activation"] is JsonValue a && a.TryGetValue(out string? activation))
            config["activation"] = activation switch
            {
                "hard_sigmoid_keras3" => "hard_sigmoid",
                "hard_sigmoid" => throw Refuse("activation hard_sigmoid here is Keras 2's clamp(0.2x + 0.5, 0, 1), which Keras 3 does not have"),
                "gelu_approximate" => throw Refuse("activation gelu_approximate (the tanh form) has no Keras 3 activation name"),
                _ => activation,
            };
        bool kerasPadding = config["padding"] switch
        {
            null => true,
            JsonArray => layer.ClassName is "ZeroPadding2D" or "Cropping2D",
            JsonValue p => p.TryGetValue(out string? mode) && mode is "valid" or "same" or "causal",
            _ => false,
        };
        if (!kerasPadding)
            throw Refuse($"explicit pads {config["padding"]!.ToJsonString()} (Keras convolutions pad \"valid\" or \"same\")");
        if (layer.ClassName == "Conv2DTranspose" && config["groups"] is not null)
            throw Refuse("groups (Keras's Conv2DTranspose has no groups)");
    }

    private static JsonObject Wrap(string module, string className, JsonObject config, string? registeredName, JsonObject? buildConfig)
    {
        var o = new JsonObject { ["module"] = module, ["class_name"] = className, ["config"] = config, ["registered_name"] = registeredName };
        if (buildConfig is not null) o["build_config"] = buildConfig;
        return o;
    }

    private static JsonArray BatchShape(IReadOnlyList<int> shape)
    {
        var a = new JsonArray { null };
        foreach (int d in shape) a.Add(d);
        return a;
    }
}
