using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Normalization over the last (channel) axis: y = (x − mean)/max(√variance, ε), or with invert
/// y = mean + x·max(√variance, ε), ε = 1e-7 (keras backend.epsilon(); Keras 2 and 3 alike). EfficientNet's first
/// layers use it. The mean and variance are either the config's constants or, as Keras builds them when the config
/// has none, non-trainable weights mean, variance (one per channel) and count, in that order.
/// </summary>
public sealed class Normalization : Layer
{
    /// <summary>keras backend.epsilon(), the floor of the standard deviation.</summary>
    public const double Epsilon = 1e-7;

    private readonly double[]? _mean, _variance;

    /// <param name="mean">Constants per channel (one value broadcasts), or null to hold them as weights.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    /// <param name="axis">The feature axis (-1: channels).</param>
    /// <param name="variance">Fixed per-feature variances; null to learn them with adapt.</param>
    /// <param name="invert">Undo the normalisation (x·σ + μ) instead.</param>
    public Normalization(int axis = -1, double[]? mean = null, double[]? variance = null, bool invert = false, string? name = null) : base(name)
    {
        if ((mean is null) != (variance is null))
            throw new ArgumentException($"Normalization '{Name}': mean and variance must be given together, or neither.");
        if (variance is not null && variance.Any(v => !(v >= 0)))
            throw new ArgumentException($"Normalization '{Name}': variance must be non-negative, got ({string.Join(", ", variance)}).");
        (Axis, _mean, _variance, Invert) = (axis, mean?.ToArray(), variance?.ToArray(), invert);
    }

    /// <inheritdoc/>
    public override string ClassName => "Normalization";
    /// <summary>−1 or the index of the last axis counting the batch; other axes are not supported.</summary>
    public int Axis { get; }
    /// <summary>Whether the layer undoes the normalisation (x·σ + μ) instead.</summary>
    public bool Invert { get; }
    /// <summary>The per-feature mean, once built.</summary>
    public Parameter? Mean { get; private set; }
    /// <summary>The per-feature variance, once built.</summary>
    public Parameter? Variance { get; private set; }
    /// <summary>The number of values the statistics were computed from (Keras's count weight).</summary>
    public Parameter? Count { get; private set; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        int rank = input.Shape.Length + 1;
        if (Axis != -1 && Axis != rank - 1)
            throw new NotSupportedException($"Normalization '{Name}': only the last (channel) axis is supported (axis −1 or {rank - 1}); got axis {Axis} for input {input.ShapeText} from '{input.Layer.Name}'.");
        int channels = input.Shape[^1];
        foreach (var constants in new[] { _mean, _variance })
            if (constants is not null && constants.Length != 1 && constants.Length != channels)
                throw ShapeError(input, $"has {constants.Length} mean/variance values for {channels} channels");
        if (_mean is null && Mean is null)
        {
            Mean = AddParameter("mean", [channels], Initializer.Zeros, trainable: false);
            Variance = AddParameter("variance", [channels], Initializer.Ones, trainable: false);
            Count = AddParameter("count", [1], Initializer.Zeros, trainable: false);
        }
        return input.Shape;
    }

    /// <summary>The per-channel map y = x·scale + shift this layer is, from the current mean and variance (what exporters write).</summary>
    public (float[] Scale, float[] Shift) ChannelAffine(int channels)
    {
        float[] mean = Mean?.ToArray() ?? Broadcast(_mean!, channels), variance = Variance?.ToArray() ?? Broadcast(_variance!, channels);
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double deviation = Math.Max(Math.Sqrt(variance[c]), Epsilon);
            (scale[c], shift[c]) = Invert ? ((float)deviation, mean[c]) : ((float)(1 / deviation), (float)(-mean[c] / deviation));
        }
        return (scale, shift);
    }

    private static float[] Broadcast(double[] values, int channels) => Enumerable.Range(0, channels).Select(c => (float)values[values.Length == 1 ? 0 : c]).ToArray();

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var backend = x.Backend;
        int channels = x.Shape[-1];
        var (scaleValues, shiftValues) = ChannelAffine(channels);
        var scale = Workspace("scale", backend, new(channels));
        var shift = Workspace("shift", backend, new(channels));
        backend.Upload(scaleValues, scale.Buffer);
        backend.Upload(shiftValues, shift.Buffer);
        var output = Workspace("output", backend, x.Shape);
        backend.ChannelAffine(x.Buffer, scale.Buffer, shift.Buffer, output.Buffer, x.Length / channels, channels);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var backend = gradOutput.Backend;
        int channels = gradOutput.Shape[-1];
        var zeros = Workspace("zeros", backend, new(channels));
        backend.Fill(zeros.Buffer, 0f, channels);
        var gradInput = Workspace("grad_input", backend, gradOutput.Shape);
        backend.ChannelAffine(gradOutput.Buffer, Workspace("scale", backend, new(channels)).Buffer, zeros.Buffer, gradInput.Buffer, gradOutput.Length / channels, channels);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = new JsonArray(Axis);
        config["invert"] = Invert;
        config["mean"] = _mean is null ? null : new JsonArray(_mean.Select(v => (JsonNode?)v).ToArray());
        config["variance"] = _variance is null ? null : new JsonArray(_variance.Select(v => (JsonNode?)v).ToArray());
        return config;
    }

    internal static Normalization FromConfig(JsonObject c)
    {
        const string owner = "Normalization";
        int axis = c["axis"] switch
        {
            null => -1,
            JsonArray { Count: 1 } one when one[0] is JsonValue v && v.TryGetValue(out int only) => only,
            JsonArray many => throw new FormatException($"{owner} config: axis {many.ToJsonString()} normalises several axes; only one (the last) is supported."),
            _ => JsonConfig.Int(c, owner, "axis"),
        };
        return new Normalization(axis, Values(c, owner, "mean"), Values(c, owner, "variance"), JsonConfig.Bool(c, owner, "invert", false), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }

    /// <summary>A number or a list of numbers (Keras's listify_tensors), or null.</summary>
    internal static double[]? Values(JsonObject c, string owner, string key) => c[key] switch
    {
        null => null,
        JsonArray list => list.Select(n => n is JsonValue v && v.TryGetValue(out double d) ? d
            : throw new FormatException($"{owner} config: '{key}' must hold numbers, got {list.ToJsonString()}.")).ToArray(),
        _ => [JsonConfig.Double(c, owner, key)],
    };
}
