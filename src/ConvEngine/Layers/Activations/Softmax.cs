using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Softmax layer over the last axis (axis −1, its default). It behaves as Activation("softmax"):
/// as a model's output under a cross-entropy loss, the loss is computed from its logits.
/// </summary>
public sealed class Softmax : ActivatedLayer
{
    /// <param name="axis">−1 or the index of the last axis counting the batch; other axes are not supported.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Softmax(int axis = -1, string? name = null) : base(name, "softmax") => Axis = axis;

    /// <inheritdoc/>
    public override string ClassName => "Softmax";
    /// <summary>The axis the softmax normalises over (-1: the last).</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (Axis != -1 && Axis != input.Shape.Length)
            throw new NotSupportedException($"Softmax '{Name}': only the last axis is supported (axis −1 or {input.Shape.Length}); got axis {Axis} for input {input.ShapeText} from '{input.Layer.Name}'.");
        return input.Shape;
    }

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => inputs[0].Shape;

    // The linear part is the identity: copy the input where the logits go; the softmax follows.
    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused) =>
        inputs[0].Backend.Activate(inputs[0].Buffer, output.Buffer, inputs[0].Length, fused);

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient) =>
        [needInputGradient[0] ? gradPreActivation : null];

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config.Remove("activation");
        config["axis"] = Axis;
        return config;
    }

    internal static Softmax FromConfig(JsonObject c)
    {
        const string owner = "Softmax";
        int axis = c["axis"] is JsonArray { Count: 1 } list ? list[0]!.GetValue<int>() : JsonConfig.Int(c, owner, "axis", -1);
        return new Softmax(axis, JsonConfig.String(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
