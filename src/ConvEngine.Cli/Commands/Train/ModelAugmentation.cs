using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// Puts <c>--augment</c>'s layers into a model right after its input, as the course does (augmentation is part of the
/// model, active only in training, and saved with it). The model's config gets the layers and is rebuilt, so built-in
/// and JSON-config models go the same way and their weights initialise as without augmentation.
/// </summary>
internal static class ModelAugmentation
{
    /// <summary>One image's shape after the layers at inference (RandomCrop, Resizing and CenterCrop change it).</summary>
    public static int[] OutputShape(AugmentationSpec spec, int[] imageShape, IBackend backend)
    {
        using var probe = new AugmentationPipeline(spec.CreateLayers(), imageShape, backend);
        return probe.OutputShape;
    }

    /// <summary>
    /// The model with the layers between its input and its first layer, taking images of <paramref name="imageShape"/>. The
    /// layers' output must be what the model takes; RandomWidth and RandomHeight, which change the size in training
    /// only, are refused in front of a model that flattens (Flatten into Dense needs one size), as Keras would fail there.
    /// </summary>
    public static Model Insert(Model model, AugmentationSpec spec, int[] imageShape, IBackend backend, ulong seed, string modelName)
    {
        var outputShape = OutputShape(spec, imageShape, backend);
        if (!outputShape.SequenceEqual(model.InputShape))
            throw new ArgumentException(
                $"--augment: {spec.Description} turns {SymbolicTensor.FormatShape(imageShape)} images into {SymbolicTensor.FormatShape(outputShape)}, " +
                $"but {modelName} takes {SymbolicTensor.FormatShape(model.InputShape)}; leave out the layers that change the size, or give a model that takes their output.");
        RequireFixedSizeFits(spec, model, modelName);

        var json = ModelConfig.ToJson(model);
        var config = (JsonObject)json["config"]!;
        var layers = (JsonArray)config["layers"]!;
        var taken = layers.Select(l => l!["config"]?["name"]?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var entries = new List<JsonObject>();
        foreach (var layer in spec.CreateLayers())
        {
            var layerConfig = layer.GetConfig();
            string name = layer.Name;
            for (int i = 1; taken.Contains(name); i++) name = $"{layer.Name}_{i}";
            taken.Add(name);
            layerConfig["name"] = name;
            entries.Add(new JsonObject { ["class_name"] = layer.ClassName, ["config"] = layerConfig, ["name"] = name });
            layer.Dispose();
        }

        var input = (JsonObject)layers[0]!;
        input["config"]!["batch_input_shape"] = new JsonArray([null, .. imageShape.Select(d => (JsonNode?)d)]);
        string inputName = input["config"]!["name"]!.GetValue<string>();
        if (model is Sequential)
        {
            foreach (var e in entries) e.Remove("name");
        }
        else
        {
            // Functional: chain the layers from the input, and let whatever read the input read the last of them.
            string previous = inputName;
            foreach (var e in entries)
            {
                e["inbound_nodes"] = new JsonArray(new JsonArray(new JsonArray(previous, 0, 0, new JsonObject())));
                previous = e["name"]!.GetValue<string>();
            }
            foreach (var layer in layers.Skip(1))
                foreach (var reference in References(layer!))
                    if (reference[0]?.GetValue<string>() == inputName) reference[0] = previous;
        }
        for (int i = 0; i < entries.Count; i++) layers.Insert(1 + i, entries[i]);
        return ModelConfig.FromJson(json, backend, seed);
    }

    /// <summary>The [name, node, index, kwargs] references of a functional layer's inbound nodes.</summary>
    private static IEnumerable<JsonArray> References(JsonNode layer) =>
        (layer["inbound_nodes"] as JsonArray ?? []).OfType<JsonArray>().SelectMany(call => call.OfType<JsonArray>());

    /// <summary>RandomWidth and RandomHeight change the size in training only; a Flatten after them would then feed Dense the wrong width.</summary>
    public static void RequireFixedSizeFits(AugmentationSpec spec, Model model, string modelName)
    {
        var resizing = spec.ClassNames.Where(c => c is "RandomWidth" or "RandomHeight").ToList();
        if (resizing.Count == 0) return;
        var flatten = FlattenLayers(model).FirstOrDefault();
        if (flatten is not null)
            throw new ArgumentException(
                $"--augment: {string.Join(" and ", resizing)} change{(resizing.Count == 1 ? "s" : "")} the image size in training, but {modelName} flattens its feature maps " +
                $"('{flatten.Name}'), and the Dense layer after a Flatten takes one size only (Keras fails the same way); use a model that ends in global pooling, or leave {string.Join(" and ", resizing)} out.");
    }

    private static IEnumerable<Layer> FlattenLayers(Model model) =>
        model.Nodes.SelectMany(n => n.Layer is Model inner ? FlattenLayers(inner) : n.Layer is Flatten ? [n.Layer] : []);
}
