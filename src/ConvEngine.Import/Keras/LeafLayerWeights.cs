using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Keras;

/// <summary>A layer that owns weights, found by walking into nested models, with its path ("inner_block/conv2d").</summary>
internal sealed record LeafLayer(string Path, Layer Layer, Model Owner);

/// <summary>
/// Formats that store weights per innermost layer (Keras 3's layers/…/vars, TF.js's "layer/weight" names) rather
/// than per top-level layer as Keras 2's HDF5 does: the leaf layers of a model, and the check-all-then-assign step
/// they share, so a failed load leaves the model as it was.
/// </summary>
internal static class LeafLayerWeights
{
    /// <summary>Every layer with weights, nested models walked into, in the models' layer order.</summary>
    public static IReadOnlyList<LeafLayer> Of(Model model)
    {
        var leaves = new List<LeafLayer>();
        Walk(model, "");
        return leaves;

        void Walk(Model owner, string prefix)
        {
            foreach (var layer in owner.Layers)
            {
                if (layer is Model inner) Walk(inner, $"{prefix}{inner.Name}/");
                else if (layer.Parameters.Count > 0) leaves.Add(new LeafLayer(prefix + layer.Name, layer, owner));
            }
        }
    }

    /// <summary>
    /// Pairs each layer's parameters with the file's weights for it — by role name ("kernel", "gamma") when every
    /// parameter finds its own, else in order — checks every count and shape, then assigns all of them.
    /// </summary>
    /// <param name="model">The model the leaves belong to; its backend receives the values.</param>
    /// <param name="file">The file, for messages.</param>
    /// <param name="pairs">Each leaf with the weights the file holds for it and where they are in the file (a group or prefix).</param>
    public static void Assign(Model model, string file, IReadOnlyList<(LeafLayer Leaf, IReadOnlyList<KerasWeight> Weights, string Where)> pairs)
    {
        var assignments = new List<(Parameter Parameter, float[] Values)>();
        foreach (var (leaf, weights, where) in pairs)
        {
            var parameters = leaf.Layer.Parameters;
            if (parameters.Count != weights.Count)
                throw new KerasImportException($"{file}: {QuotedName.Of(where)} holds {weights.Count} weights ({Names(weights.Select(w => w.ShortName))}) " +
                    $"but {leaf.Layer.ClassName} {QuotedName.Of(leaf.Path)} has {parameters.Count} ({Names(parameters.Select(p => p.Name))}).");
            var byRole = weights.GroupBy(w => w.ShortName, StringComparer.Ordinal).Where(g => g.Count() == 1)
                .ToDictionary(g => g.Key, g => g.Single(), StringComparer.Ordinal);
            bool named = parameters.All(p => byRole.ContainsKey(p.Name));
            for (int i = 0; i < parameters.Count; i++)
            {
                var weight = named ? byRole[parameters[i].Name] : weights[i];
                int[] expected = parameters[i].Shape.ToArray();
                // A Keras scalar (shape ()) is the engine's one-value weight (shape (1)), e.g. Normalization's count.
                if (!(expected is [1] && weight.Shape.Length == 0) && !expected.AsSpan().SequenceEqual(weight.Shape))
                    throw new ShapeException($"Shape mismatch for layer {QuotedName.Of(leaf.Path)} ({leaf.Layer.ClassName}) weight {QuotedName.Of(parameters[i].Name)}: " +
                        $"the model expects {KerasWeight.FormatShape(expected)} but {file} holds {weight.ShapeText} in {QuotedName.Of(where)} {QuotedName.Of(weight.Name)}.");
                assignments.Add((parameters[i], weight.Values));
            }
        }
        foreach (var (parameter, values) in assignments) parameter.Assign(model.Backend, values);
    }

    internal static string Names(IEnumerable<string> names) => QuotedName.List(names);
}
