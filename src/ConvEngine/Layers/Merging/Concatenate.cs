using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Concatenate along the channel axis (axis −1, the default; the engine is channels-last), as an
/// inception module joins its branches. Backward splits the gradient back into the inputs' channels.
/// </summary>
public sealed class Concatenate : Layer
{
    private int[] _channels = [];

    /// <param name="axis">−1 or the index of the last axis counting the batch (3 for images); other axes are not supported.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Concatenate(int axis = -1, string? name = null) : base(name) => Axis = axis;

    /// <inheritdoc/>
    public override string ClassName => "Concatenate";
    /// <summary>The axis the inputs are joined along (-1: channels).</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        if (inputs.Count < 2)
            throw new ArgumentException($"Concatenate '{Name}' joins at least two inputs; got {inputs.Count} ({string.Join(", ", inputs.Select(i => $"'{i.Layer.Name}'"))}).");
        var first = inputs[0];
        int rank = first.Shape.Length + 1;
        if (Axis != -1 && Axis != rank - 1)
            throw new NotSupportedException($"Concatenate '{Name}': only the last (channel) axis is supported (axis −1 or {rank - 1}); got axis {Axis}.");
        foreach (var other in inputs.Skip(1))
            if (other.Shape.Length != first.Shape.Length || !other.Shape[..^1].SequenceEqual(first.Shape[..^1]))
                throw ShapeError(other, $"joins inputs that agree on all but the last axis: '{first.Layer.Name}' outputs {first.ShapeText},");
        _channels = inputs.Select(i => i.Shape[^1]).ToArray();
        return [.. first.Shape[..^1], _channels.Sum()];
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var backend = inputs[0].Backend;
        var output = OutputFor(backend, inputs[0].Shape[0]);
        backend.Concat(inputs.Select(t => t.Buffer).ToArray(), _channels, output.Buffer, output.Length / output.Shape[-1]);
        return output;
    }

    /// <summary>The output buffer for a batch of <paramref name="batch"/>, which the model's inference may have its inputs' convs write in place.</summary>
    internal Tensor OutputFor(IBackend backend, int batch) => Workspace("output", backend, BatchShape(batch, OutputShape));

    /// <summary>The channels each input contributes, in order.</summary>
    internal IReadOnlyList<int> Channels => _channels;

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        var backend = gradOutput.Backend;
        var parts = LastInputs.Select((x, i) => Workspace($"grad_input_{i}", backend, x.Shape)).ToArray();
        backend.Split(gradOutput.Buffer, parts.Select(t => t.Buffer).ToArray(), _channels, gradOutput.Length / gradOutput.Shape[-1]);
        return parts.Select((t, i) => needInputGradient[i] ? t : null).ToArray();
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        return config;
    }

    internal static Concatenate FromConfig(JsonObject c) =>
        new(JsonConfig.Int(c, "Concatenate", "axis", -1), JsonConfig.String(c, "Concatenate", "name"))
        { Trainable = JsonConfig.Bool(c, "Concatenate", "trainable", true) };
}
