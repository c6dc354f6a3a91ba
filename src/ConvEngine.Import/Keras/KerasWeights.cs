using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Keras;

/// <summary>How the layers of a Keras weights file are paired with the layers of an engine model.</summary>
public enum KerasWeightMatching
{
    /// <summary>By name when the file's weighted layers and the model's have exactly the same names; otherwise topologically.</summary>
    Auto,
    /// <summary>Keras's load_weights(by_name=True): each file layer goes to the model layer of the same name; others are left alone.</summary>
    ByName,
    /// <summary>Keras's default load_weights: the i-th weighted layer of the file goes to the i-th weighted layer of the model.</summary>
    Topological,
}

/// <summary>One file layer loaded into one model layer.</summary>
public sealed record KerasLoadedLayer(string FileLayer, string ModelLayer, int WeightCount, long ValueCount);

/// <summary>What a load did: how layers were paired, which pairs were loaded, and what was left out (only by name).</summary>
public sealed record KerasLoadReport(
    KerasWeightMatching Matching,
    IReadOnlyList<KerasLoadedLayer> Loaded,
    IReadOnlyList<string> FileLayersNotInModel,
    IReadOnlyList<string> ModelLayersNotInFile)
{
    /// <summary>The number of float values assigned.</summary>
    public long ValueCount => Loaded.Sum(l => l.ValueCount);
}

/// <summary>
/// Loads Keras HDF5 weights into an engine model. Within a layer the weights pair up in order (Keras's
/// weight_names order is the layer's weight order: kernel then bias), and every shape is checked before any
/// value is assigned, so a failed load leaves the model as it was. Keras stores kernels as the engine does
/// (Conv2D (kh, kw, in, out), Dense (in, units), channels-last), so values load without permutation.
/// </summary>
public static class KerasWeights
{
    /// <summary>Reads <paramref name="path"/> and loads it into <paramref name="model"/>.</summary>
    public static KerasLoadReport Load(Model model, string path, KerasWeightMatching matching = KerasWeightMatching.Auto) =>
        Load(model, KerasWeightsFile.Read(path), matching);

    /// <summary>Loads an already read file into <paramref name="model"/> (built: every layer applied to its input).</summary>
    public static KerasLoadReport Load(Model model, KerasWeightsFile file, KerasWeightMatching matching = KerasWeightMatching.Auto)
    {
        // Keras 3 files locate weights by path, not by layer_names order.
        if (file.IsKeras3) return Keras3Weights.Load(model, file);
        var modelLayers = WeightedLayers(model);
        var fileLayers = file.WeightedLayers;
        if (matching == KerasWeightMatching.Auto)
            matching = modelLayers.Select(l => l.Name).Order(StringComparer.Ordinal)
                .SequenceEqual(fileLayers.Select(l => l.Name).Order(StringComparer.Ordinal))
                ? KerasWeightMatching.ByName : KerasWeightMatching.Topological;

        var pairs = new List<(KerasLayerWeights File, Layer Model)>();
        var fileOnly = new List<string>();
        var modelOnly = new List<string>();
        if (matching == KerasWeightMatching.ByName)
        {
            var byName = modelLayers.ToDictionary(l => l.Name, StringComparer.Ordinal);
            foreach (var layer in fileLayers)
            {
                if (byName.Remove(layer.Name, out var target)) pairs.Add((layer, target));
                else fileOnly.Add(layer.Name);
            }
            modelOnly.AddRange(modelLayers.Where(l => byName.ContainsKey(l.Name)).Select(l => l.Name));
            if (pairs.Count == 0)
                throw new KerasImportException($"{file.Path}: no layer with weights has the name of a layer of model {QuotedName.Of(model.Name)} " +
                    $"(file: {Names(fileLayers.Select(l => l.Name))}; model: {Names(modelLayers.Select(l => l.Name))}).");
        }
        else
        {
            if (fileLayers.Count != modelLayers.Count)
                throw new KerasImportException($"{file.Path}: the file has {fileLayers.Count} layers with weights ({Names(fileLayers.Select(l => l.Name))}) " +
                    $"but model {QuotedName.Of(model.Name)} has {modelLayers.Count} ({Names(modelLayers.Select(l => l.Name))}); Keras's topological loading pairs them in order.");
            for (int i = 0; i < fileLayers.Count; i++) pairs.Add((fileLayers[i], modelLayers[i]));
        }

        foreach (var (source, target) in pairs) CheckShapes(file, source, target);
        var loaded = new List<KerasLoadedLayer>();
        foreach (var (source, target) in pairs)
        {
            var parameters = target.Parameters;
            for (int i = 0; i < parameters.Count; i++) parameters[i].Assign(model.Backend, source.Weights[i].Values);
            loaded.Add(new KerasLoadedLayer(source.Name, target.Name, parameters.Count, source.ValueCount));
        }
        return new KerasLoadReport(matching, loaded, fileOnly, modelOnly);
    }

    /// <summary>
    /// The model's layers that own weights, in the model's layer order (Keras's model.layers). A nested model counts
    /// as one layer whose weights are all of its own, as Keras saves it (one group with every nested weight).
    /// </summary>
    public static IReadOnlyList<Layer> WeightedLayers(Model model) => model.Layers.Where(l => l.Parameters.Count > 0).ToList();

    private static void CheckShapes(KerasWeightsFile file, KerasLayerWeights source, Layer target)
    {
        var parameters = target.Parameters;
        if (parameters.Count != source.Weights.Count)
            throw new KerasImportException($"{file.Path}: layer {QuotedName.Of(source.Name)} holds {source.Weights.Count} weights ({Names(source.Weights.Select(w => w.Name))}) " +
                $"but {target.ClassName} {QuotedName.Of(target.Name)} has {parameters.Count} ({Names(parameters.Select(p => p.Name))}).");
        for (int i = 0; i < parameters.Count; i++)
        {
            var weight = source.Weights[i];
            // Files name their weights by role; where both sides use Keras's role names they must agree (e.g. a
            // BatchNormalization saved with scale=False holds no gamma, a SeparableConv2D depthwise before pointwise).
            if (KerasRoleNames.Contains(weight.ShortName) && KerasRoleNames.Contains(parameters[i].Name) && weight.ShortName != parameters[i].Name)
                throw new KerasImportException($"{file.Path}: layer {QuotedName.Of(source.Name)} holds {Names(source.Weights.Select(w => w.Name))} " +
                    $"but {target.ClassName} {QuotedName.Of(target.Name)} has {Names(parameters.Select(p => p.Name))}: weight {i} is {QuotedName.Of(weight.Name)} in the file, {QuotedName.Of(parameters[i].Name)} in the model.");
            int[] expected = parameters[i].Shape.ToArray();
            // A Keras scalar (shape ()) is the engine's one-value weight (shape (1)), e.g. Normalization's count.
            bool scalar = expected is [1] && weight.Shape.Length == 0;
            if (!scalar && !expected.AsSpan().SequenceEqual(weight.Shape))
                throw new ShapeException($"Shape mismatch for layer {QuotedName.Of(target.Name)} ({target.ClassName}) weight {QuotedName.Of(parameters[i].Name)}: " +
                    $"the model expects {KerasWeight.FormatShape(expected)} but {file.Path} holds {weight.ShapeText} " +
                    $"in '{source.Name}/{weight.Name}'.");
        }
    }

    /// <summary>The weight names Keras gives by role (tf.keras 2 "conv2d/kernel:0" → "kernel").</summary>
    private static readonly HashSet<string> KerasRoleNames = new(StringComparer.Ordinal)
    {
        "kernel", "bias", "depthwise_kernel", "pointwise_kernel", "gamma", "beta", "moving_mean", "moving_variance", "mean", "variance", "count",
    };

    private static string Names(IEnumerable<string> names) => QuotedName.List(names);
}
