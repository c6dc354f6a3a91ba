using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Add: the elementwise sum of two or more inputs of one shape (a residual connection).
/// Its backward pass hands the same gradient to every input; the model sums gradients where a tensor
/// feeds several layers, so a skip connection gets both paths' gradients.
/// </summary>
public sealed class Add : Layer
{
    /// <summary>The elementwise sum of its inputs, which must have one shape.</summary>
    public Add(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string ClassName => "Add";

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        if (inputs.Count < 2)
            throw new ArgumentException($"Add '{Name}' sums at least two inputs; got {inputs.Count} ({string.Join(", ", inputs.Select(i => $"'{i.Layer.Name}'"))}).");
        var first = inputs[0];
        foreach (var other in inputs.Skip(1))
            if (!other.Shape.SequenceEqual(first.Shape))
                throw ShapeError(other, $"sums inputs of one shape: '{first.Layer.Name}' outputs {first.ShapeText},");
        return first.Shape;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var backend = inputs[0].Backend;
        var output = Workspace("output", backend, inputs[0].Shape);
        backend.Add(inputs[0].Buffer, inputs[1].Buffer, output.Buffer, output.Length);
        for (int i = 2; i < inputs.Count; i++) backend.Axpy(1f, inputs[i].Buffer, output.Buffer, output.Length);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) =>
        needInputGradient.Select(need => need ? gradOutput : null).ToArray();

    internal static Add FromConfig(JsonObject c) =>
        new(JsonConfig.String(c, "Add", "name")) { Trainable = JsonConfig.Bool(c, "Add", "trainable", true) };
}
