using ConvEngine.Models;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Keras;

/// <summary>
/// Loads a Keras 3 weights file (<see cref="KerasWeightsFile.IsKeras3"/>) into an engine model. Each layer with weights
/// is found at the group Keras 3 gives it (<see cref="Keras3Layout"/>); when that group is missing but the file names
/// its groups (Keras ≥ 3.6), by the layer's name at the same nesting depth. Every count and shape is checked before
/// any value is assigned, and a group with weights that matches no layer is an error, so a different architecture
/// never loads halfway.
/// </summary>
internal static class Keras3Weights
{
    /// <param name="source">How to name the file in messages (e.g. "m.keras (model.weights.h5)"); the file's path if null.</param>
    /// <param name="model">The model to load into; it must be built.</param>
    /// <param name="file">The opened model.weights.h5.</param>
    public static KerasLoadReport Load(Model model, KerasWeightsFile file, string? source = null)
    {
        string where = source ?? file.Path;
        if (!file.IsKeras3) throw new ArgumentException($"{where} is not in Keras 3's layout.");
        var groups = file.Layers.Where(l => l.Weights.Count > 0).ToDictionary(l => l.Name, StringComparer.Ordinal);
        var layout = Keras3Layout.Paths(model).ToDictionary(p => p.Layer);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var pairs = new List<(LeafLayer, IReadOnlyList<KerasWeight>, string)>();
        bool byName = false;
        foreach (var leaf in LeafLayerWeights.Of(model))
        {
            string expected = layout[leaf.Layer].Path;
            string? group = groups.ContainsKey(expected) ? expected : FindByName(file, groups, leaf, expected);
            if (group is null)
                throw new KerasImportException($"{where}: no weights for layer {QuotedName.Of(leaf.Path)} ({leaf.Layer.ClassName}): Keras 3 keeps them at {QuotedName.Of($"/{expected}/vars")}, " +
                    $"which the file lacks (it has {LeafLayerWeights.Names(groups.Keys.Take(12).Select(g => "/" + g))}{(groups.Count > 12 ? ", …" : "")}).");
            byName |= group != expected;
            if (!used.Add(group))
                throw new KerasImportException($"{where}: the weights at {QuotedName.Of($"/{group}/vars")} would go to two layers of model {QuotedName.Of(model.Name)}.");
            pairs.Add((leaf, groups[group].Weights, $"/{group}/vars"));
        }
        var unused = groups.Keys.Where(g => !used.Contains(g) && (g.StartsWith("layers/", StringComparison.Ordinal) || g.Length == 0)).ToList();
        if (unused.Count > 0)
            throw new KerasImportException($"{where}: the file holds weights at {LeafLayerWeights.Names(unused.Select(g => $"/{g}/vars"))} " +
                $"that match no layer of model {QuotedName.Of(model.Name)}: it was saved from a different architecture.");
        LeafLayerWeights.Assign(model, where, pairs);
        var loaded = pairs.Select(p => new KerasLoadedLayer(p.Item3, p.Item1.Path, p.Item2.Count, p.Item2.Sum(w => (long)w.Values.Length))).ToList();
        return new KerasLoadReport(byName ? KerasWeightMatching.ByName : KerasWeightMatching.Topological, loaded, [], []);
    }

    /// <summary>A group at the layer's nesting depth whose name attribute is the layer's name, if exactly one.</summary>
    private static string? FindByName(KerasWeightsFile file, Dictionary<string, KerasLayerWeights> groups, LeafLayer leaf, string expected)
    {
        int depth = expected.Count(c => c == '/');
        var matches = groups.Keys.Where(g => g.Count(c => c == '/') == depth
            && file.Keras3Names.TryGetValue(g, out string? name) && name == leaf.Layer.Name).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }
}
