using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras Activation layer: any <see cref="ActivationFunction"/> name (relu, swish, gelu, hard_sigmoid, softmax over the last axis, …).</summary>
public sealed class Activation : ActivatedLayer
{
    /// <summary>Applies the Keras activation named <paramref name="activation"/> (e.g. "relu", "softmax").</summary>
    public Activation(string activation, string? name = null) : base(name, activation) { }

    /// <inheritdoc/>
    public override string ClassName => "Activation";

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) => SingleInput(inputs).Shape;

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => inputs[0].Shape;

    // The "linear part" is the identity, so the fused activation is the whole op.
    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused) =>
        inputs[0].Backend.Activate(inputs[0].Buffer, output.Buffer, inputs[0].Length, fused);

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient) =>
        [needInputGradient[0] ? gradPreActivation : null];

    internal static Activation FromConfig(JsonObject c) =>
        new(JsonConfig.String(c, "Activation", "activation"), JsonConfig.String(c, "Activation", "name"))
        { Trainable = JsonConfig.Bool(c, "Activation", "trainable", true) };
}
