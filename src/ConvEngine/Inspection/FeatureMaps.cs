using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Inspection;

/// <summary>
/// One layer's output for a batch, copied out of the forward pass: (N, H, W, C) for image layers, (N, L, C) for 1-D
/// ones, (N, units) for dense ones. The caller owns <see cref="Values"/>.
/// </summary>
/// <param name="Path">The layer's name; a layer inside a nested model is "model/layer".</param>
/// <param name="Layer">The layer itself (its class, weights).</param>
/// <param name="Values">The output tensor, on the model's backend.</param>
public sealed record FeatureMap(string Path, Layer Layer, Tensor Values) : IDisposable
{
    /// <summary>One sample's shape as Keras prints it: (None, 28, 28, 32).</summary>
    public string ShapeText => SymbolicTensor.FormatShape(Values.Shape.Dims[1..].ToArray());

    /// <summary>Frees the tensor of values.</summary>
    public void Dispose() => Values.Dispose();
}

/// <summary>
/// What each layer of a model outputs for an input — Keras's <c>Model(model.input, [layer.output, …]).predict(x)</c> —
/// from one inference pass that copies the chosen layers' outputs as the graph computes them.
/// </summary>
public static class FeatureMaps
{
    /// <summary>Every layer's path in topological order (the input layer first); nested models' layers follow the model's own path as "model/layer".</summary>
    public static IReadOnlyList<string> LayerPaths(Model model) => Paths(model).Select(p => p.Path).ToList();

    /// <summary>The layer at <paramref name="path"/> ("conv2d", or "vgg16/block1_conv1" inside a nested model).</summary>
    /// <exception cref="ArgumentException">The model has no such layer; the message lists the ones it has.</exception>
    public static Layer Find(Model model, string path) =>
        Paths(model).FirstOrDefault(p => p.Path == path).Node?.Layer ?? throw UnknownLayer(model, path);

    /// <summary>
    /// Runs <paramref name="input"/> (N, model input shape, on the model's backend) through <paramref name="model"/> in
    /// inference mode and returns the outputs of <paramref name="layers"/> (paths as <see cref="LayerPaths"/> gives them),
    /// in the order asked. Each map is a copy the caller disposes.
    /// </summary>
    /// <exception cref="ArgumentException">A layer the model does not have (the message lists those it has), or an input on another backend.</exception>
    /// <exception cref="ShapeException">The input's shape is not (N, model input shape).</exception>
    public static IReadOnlyList<FeatureMap> Of(Model model, Tensor input, params string[] layers)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        if (layers.Length == 0) throw new ArgumentException($"FeatureMaps.Of: name at least one layer of model '{model.Name}' ({string.Join(", ", LayerPaths(model))}).");
        if (input.Shape.Rank != model.InputShape.Length + 1 || !input.Shape.Dims[1..].SequenceEqual(model.InputShape))
            throw new ShapeException($"FeatureMaps.Of: model '{model.Name}' takes inputs {SymbolicTensor.FormatShape(model.InputShape)}; got a tensor of shape {input.Shape}.");
        if (!ReferenceEquals(input.Backend, model.Backend))
            throw new ArgumentException($"FeatureMaps.Of: the input lives on backend '{input.Backend.Name}' but model '{model.Name}' runs on '{model.Backend.Name}'; copy it with Tensor.To first.");

        var paths = Paths(model);
        var wanted = new Dictionary<Node, string>();
        foreach (string path in layers)
        {
            var node = paths.FirstOrDefault(p => p.Path == path).Node ?? throw UnknownLayer(model, path);
            wanted.TryAdd(node, path);
        }

        var captured = new Dictionary<string, FeatureMap>(StringComparer.Ordinal);
        try
        {
            model.Initialize();
            // Copied at once: a layer reuses its output buffer, and a view (Flatten) shares its input's.
            var context = ForwardContext.Inference with
            {
                Observer = (node, value) =>
                {
                    if (!wanted.TryGetValue(node, out var path) || captured.ContainsKey(path)) return;
                    var copy = Tensor.Zeros(value.Backend, value.Shape);
                    value.Backend.Copy(value.Buffer, copy.Buffer, value.Length);
                    captured[path] = new FeatureMap(path, node.Layer, copy);
                },
            };
            model.RunGraph(input, context);
            return layers.Select(path => captured[path]).ToList();
        }
        catch
        {
            foreach (var map in captured.Values) map.Dispose();
            throw;
        }
    }

    /// <summary>The same for host samples laid out (N, model input shape) row-major; <paramref name="count"/> samples.</summary>
    public static IReadOnlyList<FeatureMap> Of(Model model, float[] samples, int count, params string[] layers)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        using var input = Tensor.FromArray(model.Backend, samples, [count, .. model.InputShape]);
        return Of(model, input, layers);
    }

    private static List<(string Path, Node Node)> Paths(Model model)
    {
        var list = new List<(string, Node)>();
        Add(model, "");
        return list;

        void Add(Model m, string prefix)
        {
            foreach (var node in m.Nodes)
            {
                string path = prefix + node.Layer.Name;
                list.Add((path, node));
                if (node.Layer is Model inner) Add(inner, path + "/");
            }
        }
    }

    private static ArgumentException UnknownLayer(Model model, string path) =>
        new($"Model '{model.Name}' has no layer '{path}'; its layers are {string.Join(", ", LayerPaths(model))}.");
}
