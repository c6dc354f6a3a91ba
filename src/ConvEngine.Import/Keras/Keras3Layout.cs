using System.Text.RegularExpressions;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.Keras;

/// <summary>One layer's place in a Keras 3 weights file: its group ("layers/conv2d_1", the model itself "").</summary>
internal sealed record Keras3LayerPath(string Path, Layer Layer, Model Owner);

/// <summary>
/// Where Keras 3's saving_lib puts each layer's variables in model.weights.h5. It walks the model: its own variables
/// at <c>vars/</c>, then its <c>layers</c> list, naming each entry by the snake_case of its class, made unique in list
/// order ("conv2d", "conv2d_1", …: not by the layer's name), so a Conv2D's kernel is <c>layers/conv2d_1/vars/0</c>
/// and its bias <c>…/vars/1</c> (trainable variables, then non-trainable ones); a nested model recurses under its own
/// entry. A Sequential's list leaves out its InputLayer; a functional model's list is Keras's <c>operations</c> order:
/// by depth from the output (deepest first), ties by the order a depth-first walk from the output meets them.
/// </summary>
internal static partial class Keras3Layout
{
    /// <summary>Keras 3's naming.to_snake_case: non-word characters dropped, "MaxPooling2D" → "max_pooling2d".</summary>
    public static string SnakeCase(string className)
    {
        string name = NonWord().Replace(className, "");
        name = CapitalWord().Replace(name, "$1_$2");
        return LowerUpper().Replace(name, "$1_$2").ToLowerInvariant();
    }

    /// <summary>The model's <c>layers</c> list in the order Keras 3 builds it for this graph.</summary>
    public static IReadOnlyList<Layer> LayerOrder(Model model)
    {
        if (model is Sequential sequential) return sequential.Layers;
        var nodes = model.Nodes;
        var output = model.Output.Producer;
        // Depth: the longest path from the node to the output; pre-order: when a walk from the output first meets it.
        var preorder = new Dictionary<Node, int>();
        var order = new List<Node>();
        var stack = new Stack<Node>();
        stack.Push(output);
        // Keras visits a node's inputs in argument order; a stack pops them in that order when pushed reversed.
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (preorder.ContainsKey(node)) continue;
            preorder[node] = preorder.Count;
            order.Add(node);
            for (int i = node.Inputs.Count - 1; i >= 0; i--)
                if (!preorder.ContainsKey(node.Inputs[i].Producer)) stack.Push(node.Inputs[i].Producer);
        }
        var depth = new Dictionary<Node, int> { [output] = 0 };
        // Nodes is topological (inputs first): walking it backwards settles each node before its inputs.
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            if (!depth.TryGetValue(node, out int d)) continue;
            foreach (var input in node.Inputs)
                depth[input.Producer] = Math.Max(depth.GetValueOrDefault(input.Producer, 0), d + 1);
        }
        return nodes.Where(depth.ContainsKey).OrderByDescending(n => depth[n]).ThenBy(n => preorder[n]).Select(n => n.Layer).ToList();
    }

    /// <summary>Every layer of the model and of its nested models with the group Keras 3 gives it, the model's own entry "" first.</summary>
    public static IReadOnlyList<Keras3LayerPath> Paths(Model model)
    {
        var paths = new List<Keras3LayerPath>();
        Walk(model, model, "");
        return paths;

        void Walk(Model owner, Layer self, string prefix)
        {
            paths.Add(new Keras3LayerPath(prefix, self, owner));
            if (self is not Model inner) return;
            var used = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var layer in LayerOrder(inner))
            {
                string key = SnakeCase(layer.ClassName);
                // saving_lib's _get_unique_name: the first keeps the name, later ones get _1, _2, …
                if (used.TryGetValue(key, out int n))
                {
                    used[key] = n + 1;
                    key = $"{key}_{n + 1}";
                }
                else used[key] = 0;
                Walk(inner, layer, prefix.Length == 0 ? $"layers/{key}" : $"{prefix}/layers/{key}");
            }
        }
    }

    [GeneratedRegex(@"\W+")]
    private static partial Regex NonWord();

    [GeneratedRegex("(.)([A-Z][a-z]+)")]
    private static partial Regex CapitalWord();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();
}
