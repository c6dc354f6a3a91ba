using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;

namespace ConvEngine.Models;

public partial class Model
{
    /// <summary>
    /// Inference on a batch that is already on <see cref="Backend"/>: <paramref name="input"/> (N, input shape),
    /// the result written into <paramref name="output"/> (N, output shape). Nothing moves between host and device
    /// and, after the first call for a batch size, nothing is allocated.
    /// </summary>
    public void Predict(Tensor input, Tensor output)
    {
        CheckInput("Predict", input);
        int n = input.Shape[0];
        if (output.Shape.Rank != OutputShape.Length + 1 || output.Shape[0] != n || !output.Shape.Dims[1..].SequenceEqual(OutputShape))
            throw new ShapeException($"Predict: model '{Name}' gives ({n}, {string.Join(", ", OutputShape)}) for input {input.Shape}; got output {output.Shape}.");
        if (!ReferenceEquals(output.Backend, Backend))
            throw new ArgumentException($"Predict: model '{Name}' runs on backend '{Backend.Name}'; input and output must live there.");
        var y = RunGraph(input, ForwardContext.Inference);
        Backend.Copy(y.Buffer, output.Buffer, y.Length);
    }

    /// <summary>
    /// Times inference on <paramref name="input"/> (on <see cref="Backend"/>) node by node: one untimed run, then
    /// <paramref name="runs"/> timed ones (each node's wall time after a backend synchronize); returns every node in
    /// graph order with its median. A node computed inside another node's fused kernel (a conv that runs at the residual
    /// Add or the Concatenate it feeds, an activation folded into the conv before it) shows 0 ms and names that node.
    /// .NET optimizes a method fully only after about 30 calls, so profile after a few dozen runs (or with that many),
    /// or the kernels called least look slower than they run.
    /// </summary>
    public IReadOnlyList<LayerTiming> ProfilePredict(Tensor input, int runs = 5)
    {
        CheckInput("ProfilePredict", input);
        if (runs <= 0) throw new ArgumentOutOfRangeException(nameof(runs), $"ProfilePredict: runs must be positive, got {runs}.");
        RunGraph(input, ForwardContext.Inference);
        var times = new double[runs][];
        for (int r = 0; r < runs; r++) RunGraph(input, ForwardContext.Inference, times[r] = new double[_nodes.Count]);
        var fusions = FusionsFor(input, ForwardContext.Inference);
        return _nodes.Select((node, i) => new LayerTiming(node.Layer.Name, node.Layer.ClassName,
            times.Select(t => t[i]).Order().ElementAt(runs / 2),
            fusions?.RunsAt[i] is int at and >= 0 ? _nodes[at].Layer.Name : null)).ToList();
    }

    /// <summary>Initializes the weights and checks that <paramref name="input"/> is a batch of the model's input on its backend.</summary>
    private void CheckInput(string op, Tensor input)
    {
        RequireGraph();
        Initialize();
        if (input.Shape.Rank != InputShape.Length + 1 || !input.Shape.Dims[1..].SequenceEqual(InputShape))
            throw new ShapeException($"{op}: model '{Name}' takes (N, {string.Join(", ", InputShape)}); got input {input.Shape}.");
        if (!ReferenceEquals(input.Backend, Backend))
            throw new ArgumentException($"{op}: model '{Name}' runs on backend '{Backend.Name}'; the input must live there.");
    }
}

/// <summary>One node of <see cref="Model.ProfilePredict"/>: its layer, the median wall time, and the node whose fused kernel computes it, if another.</summary>
/// <param name="Layer">The layer's name.</param>
/// <param name="ClassName">The layer's Keras class name.</param>
/// <param name="Milliseconds">The median wall time of the node (0 when it runs inside <paramref name="RunsIn"/>).</param>
/// <param name="RunsIn">The layer whose fused kernel computes this node, or null when it runs on its own.</param>
public sealed record LayerTiming(string Layer, string ClassName, double Milliseconds, string? RunsIn);
