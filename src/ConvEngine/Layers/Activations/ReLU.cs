using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras ReLU layer: f(x) = x &gt; threshold ? min(x, max_value) : negative_slope·(x − threshold), with Keras's
/// defaults max_value None (no cap), negative_slope 0, threshold 0 (keras backend.relu, the same in Keras 2 and 3).
/// MobileNet and MobileNetV2 use ReLU(6.0), i.e. ReLU6. With the defaults it is plain relu.
/// </summary>
public sealed class ReLU : ActivatedLayer
{
    /// <param name="maxValue">The upper clip; null for none. Keras requires it, the slope and the threshold to be non-negative.</param>
    /// <param name="negativeSlope">The slope below the threshold.</param>
    /// <param name="threshold">Values at or below it take the negative slope.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public ReLU(double? maxValue = null, double negativeSlope = 0, double threshold = 0, string? name = null)
        : base(name, Function(maxValue, negativeSlope, threshold, name))
    {
        (MaxValue, NegativeSlope, Threshold) = (maxValue, negativeSlope, threshold);
    }

    /// <inheritdoc/>
    public override string ClassName => "ReLU";
    /// <summary>The upper clip (Keras max_value); null for none.</summary>
    public double? MaxValue { get; }
    /// <summary>The slope below the threshold (Keras negative_slope).</summary>
    public double NegativeSlope { get; }
    /// <summary>Values at or below it take the negative slope.</summary>
    public double Threshold { get; }

    private static ActivationFunction Function(double? maxValue, double slope, double threshold, string? name)
    {
        string which = name is null ? "ReLU" : $"ReLU '{name}'";
        if (maxValue is { } m && !(m >= 0)) throw new ArgumentException($"{which}: max_value must be non-negative or None, got {m}.");
        if (!(slope >= 0) || double.IsInfinity(slope)) throw new ArgumentException($"{which}: negative_slope must be a non-negative number, got {slope}.");
        if (!(threshold >= 0) || double.IsInfinity(threshold)) throw new ArgumentException($"{which}: threshold must be a non-negative number, got {threshold}.");
        if (maxValue is null && slope == 0 && threshold == 0) return ActivationFunction.Relu;
        if (maxValue is null && threshold == 0) return ActivationFunction.Of("leaky_relu", KernelActivation.LeakyRelu((float)slope));
        return ActivationFunction.Of("relu", KernelActivation.ClippedRelu((float)(maxValue ?? double.PositiveInfinity), (float)slope, (float)threshold));
    }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) => SingleInput(inputs).Shape;

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => inputs[0].Shape;

    // The linear part is the identity: with a fusable activation this is the whole op.
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
        config["max_value"] = MaxValue;
        config["negative_slope"] = NegativeSlope;
        config["threshold"] = Threshold;
        return config;
    }

    internal static ReLU FromConfig(JsonObject c)
    {
        const string owner = "ReLU";
        double? maxValue = c["max_value"] is null ? null : JsonConfig.Double(c, owner, "max_value");
        return new ReLU(maxValue, JsonConfig.Double(c, owner, "negative_slope", 0), JsonConfig.Double(c, owner, "threshold", 0),
            JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
