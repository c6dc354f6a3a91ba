using System.Text.RegularExpressions;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.Transfer;

/// <summary>A run of a base's layers that fine-tuning unfreezes together (VGG16's "block5", a ResNet residual block).</summary>
public sealed record ModelBlock(string Name, IReadOnlyList<Layer> Layers)
{
    /// <summary>The number of weights in the block's layers.</summary>
    public long ParameterCount => Layers.Sum(l => l.ParameterCount);
    /// <summary>The name, layer count and weight count.</summary>
    public override string ToString() => $"{Name} ({Layers.Count} layers, {ParameterCount:N0} weights)";
}

/// <summary>
/// Splits a pretrained base into blocks, bottom to top, for <c>--unfreeze-top N</c>. Layers named as Keras's
/// applications name them group by their prefix: VGG16's block1_…block5_, InceptionV1's Mixed_3b_…Mixed_5c_ (the
/// layers before the first prefix form "stem"). Other graphs are cut where a single tensor carries everything on
/// (after the stem's pooling and after each residual Add of a ResNet): each stretch between two such cuts that holds
/// weights is a block. Layers without weights belong to the block around them; the preprocessing layer to none.
/// </summary>
public static partial class ModelBlocks
{
    [GeneratedRegex(@"^(block\d+|Mixed_\d+[a-z])_")]
    private static partial Regex KerasBlockPrefix();

    /// <summary>The blocks of <paramref name="model"/>, bottom (input side) first.</summary>
    public static IReadOnlyList<ModelBlock> Of(Model model)
    {
        var leaves = Leaves(model).Where(l => l is not ImagePreprocessing).ToList();
        var weighted = leaves.Where(l => l.Parameters.Count > 0).ToList();
        if (weighted.Count == 0) return [];
        return weighted.Any(l => KerasBlockPrefix().IsMatch(l.Name)) ? ByPrefix(leaves) : ByCuts(model);
    }

    /// <summary>
    /// Freezes the base and unfreezes its top <paramref name="topBlocks"/> blocks (Keras's pattern: base.trainable = True,
    /// then every layer below the cut trainable = False). Returns the blocks unfrozen.
    /// </summary>
    public static IReadOnlyList<ModelBlock> UnfreezeTop(Model model, int topBlocks)
    {
        var blocks = Of(model);
        if (topBlocks < 0 || topBlocks > blocks.Count)
            throw new ArgumentOutOfRangeException(nameof(topBlocks),
                $"Model '{model.Name}' has {blocks.Count} blocks ({string.Join(", ", blocks.Select(b => b.Name))}); cannot unfreeze the top {topBlocks}.");
        model.Trainable = true;
        var bottom = blocks.Take(blocks.Count - topBlocks).SelectMany(b => b.Layers).ToHashSet();
        foreach (var layer in Leaves(model))
            if (bottom.Contains(layer)) layer.Trainable = false;
        // Nested models take their own flag from whether any layer inside trains.
        foreach (var inner in model.Nodes.Select(n => n.Layer).OfType<Model>())
            if (inner.Layers.All(l => !l.Trainable || l.Parameters.Count == 0)) inner.Trainable = false;
        return blocks.Skip(blocks.Count - topBlocks).ToList();
    }

    /// <summary>Every non-model layer in topological order, looking inside nested models; input layers left out.</summary>
    public static IEnumerable<Layer> Leaves(Model model)
    {
        foreach (var node in model.Nodes)
        {
            if (node.Layer is Model inner)
                foreach (var l in Leaves(inner)) yield return l;
            else if (node.Layer is not Layers.InputLayer)
                yield return node.Layer;
        }
    }

    private static IReadOnlyList<ModelBlock> ByPrefix(IReadOnlyList<Layer> leaves)
    {
        var blocks = new List<(string Name, List<Layer> Layers)>();
        foreach (var layer in leaves)
        {
            var match = KerasBlockPrefix().Match(layer.Name);
            string name = match.Success ? match.Groups[1].Value : blocks.Count == 0 ? "stem" : blocks[^1].Name;
            if (blocks.Count == 0 || blocks[^1].Name != name) blocks.Add((name, []));
            blocks[^1].Layers.Add(layer);
        }
        return blocks.Where(b => b.Layers.Any(l => l.Parameters.Count > 0)).Select(b => new ModelBlock(b.Name, b.Layers)).ToList();
    }

    /// <summary>
    /// Cuts the top-level graph after node i when node i's output is all that flows on (no tensor computed before it is
    /// read after it) and it feeds two or more layers: the input of a residual block, which feeds the block's first conv and
    /// its skip connection. A ResNet so splits into its stem (up to the max pool) and its residual blocks. A plain chain
    /// without such forks is cut after every layer with weights. A nested model is one node.
    /// </summary>
    private static IReadOnlyList<ModelBlock> ByCuts(Model model)
    {
        var nodes = model.Nodes;
        var index = nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var lastUse = new int[nodes.Count];
        var readers = new int[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            lastUse[i] = i;
            foreach (var input in nodes[i].Inputs)
            {
                int producer = index[input.Producer];
                lastUse[producer] = Math.Max(lastUse[producer], i);
                readers[producer]++;
            }
        }
        var blocks = Segments(nodes, lastUse, cutAt: i => readers[i] >= 2);
        if (blocks.Count <= 1) blocks = Segments(nodes, lastUse, cutAt: _ => true);
        return blocks.Select((s, i) => new ModelBlock(i == 0 ? "stem" : $"block{i}", s)).ToList();
    }

    /// <summary>The stretches between single-tensor cuts at the nodes <paramref name="cutAt"/> accepts; only stretches holding weights, later weightless layers joining the last.</summary>
    private static List<List<Layer>> Segments(IReadOnlyList<Node> nodes, int[] lastUse, Func<int, bool> cutAt)
    {
        var segments = new List<List<Layer>> { new() };
        int reach = 0;   // the furthest node that reads a tensor computed before the current one
        for (int i = 0; i < nodes.Count; i++)
        {
            var layer = nodes[i].Layer;
            if (layer is Model inner) segments[^1].AddRange(Leaves(inner));
            else if (layer is not Layers.InputLayer and not ImagePreprocessing) segments[^1].Add(layer);
            if (i > 0) reach = Math.Max(reach, lastUse[i - 1]);
            bool cut = reach <= i && layer is not Layers.InputLayer && i < nodes.Count - 1 && cutAt(i);
            if (cut && segments[^1].Any(l => l.Parameters.Count > 0)) segments.Add([]);
        }
        var weighted = segments.Where(s => s.Any(l => l.Parameters.Count > 0)).ToList();
        if (segments[^1].Count > 0 && !segments[^1].Any(l => l.Parameters.Count > 0) && weighted.Count > 0)
            weighted[^1].AddRange(segments[^1]);
        return weighted;
    }
}
