using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras LeakyReLU layer: x for x &gt; 0, negative_slope·x otherwise. The default slope is 0.3 in Keras 2
/// (keras/layers/activation/leaky_relu.py, <c>alpha=0.3</c>) and Keras 3 (<c>negative_slope=0.3</c>); configs spell it
/// "alpha" (Keras 2, TF.js) or "negative_slope" (Keras 3). Not to be confused with the activation name "leaky_relu",
/// whose slope is 0.2 (tf.nn.leaky_relu, Keras 3's activations.leaky_relu).
/// </summary>
public sealed class LeakyReLU : ActivatedLayer
{
    /// <summary>Keras's default negative slope of the layer.</summary>
    public const double DefaultNegativeSlope = 0.3;

    /// <summary>A leaky ReLU with <paramref name="negativeSlope"/> (≥ 0) below zero.</summary>
    public LeakyReLU(double negativeSlope = DefaultNegativeSlope, string? name = null)
        : base(name, ActivationFunction.Of("leaky_relu", KernelActivation.LeakyRelu((float)Check(negativeSlope, name))))
    {
        NegativeSlope = negativeSlope;
    }

    /// <summary>"LeakyReLU", Keras's class name.</summary>
    public override string ClassName => "LeakyReLU";
    /// <summary>The slope below zero.</summary>
    public double NegativeSlope { get; }

    private static double Check(double slope, string? name) => slope >= 0 && !double.IsInfinity(slope) ? slope
        : throw new ArgumentException($"LeakyReLU{(name is null ? "" : $" '{name}'")}: negative_slope must be a non-negative number, got {slope}.");

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) => SingleInput(inputs).Shape;

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => inputs[0].Shape;

    // The linear part is the identity; leaky relu fuses, so this is the whole op.
    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused) =>
        inputs[0].Backend.Activate(inputs[0].Buffer, output.Buffer, inputs[0].Length, fused);

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient) =>
        [needInputGradient[0] ? gradPreActivation : null];

    /// <summary>Keras 3's spelling: negative_slope (Keras 2's alpha is read too).</summary>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config.Remove("activation");
        config["negative_slope"] = NegativeSlope;
        return config;
    }

    /// <summary>Keras 3's negative_slope, else Keras 2's / TF.js's alpha, else 0.3.</summary>
    internal static LeakyReLU FromConfig(JsonObject c)
    {
        const string owner = "LeakyReLU";
        double slope = c["negative_slope"] is not null ? JsonConfig.Double(c, owner, "negative_slope")
            : JsonConfig.Double(c, owner, "alpha", DefaultNegativeSlope);
        return new LeakyReLU(slope, JsonConfig.String(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
