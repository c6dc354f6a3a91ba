using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras BatchNormalization over the last (channel) axis, with Keras's defaults: momentum 0.99, epsilon 1e-3,
/// center (beta) and scale (gamma); weights gamma, beta, moving_mean, moving_variance, the moving ones not trainable.
/// <para>In training it normalises with the batch's mean and biased variance over every axis but the channels
/// (N, H, W for images) and updates moving = momentum·moving + (1 − momentum)·batch. For 4-D and 5-D inputs Keras 2
/// runs TensorFlow's fused batch norm, whose batch variance for the moving average carries Bessel's correction
/// n/(n − 1) (keras/layers/normalization/batch_normalization.py v2.15, _fused_batch_norm; tensorflow
/// fused_batch_norm_op.cc); for other ranks it uses tf.nn.moments' biased variance. This layer does the same.</para>
/// <para>At inference it uses the moving statistics. A frozen layer (<see cref="Layer.Trainable"/> false) runs in
/// inference mode even while the model trains, and so updates nothing, as Keras ≥ 2.1 does.</para>
/// </summary>
public sealed class BatchNormalization : Layer
{
    private bool _usedBatchStatistics;
    private int _inputRank;

    /// <summary>Keras's BatchNormalization over <paramref name="axis"/> (channels by default), with its defaults.</summary>
    public BatchNormalization(int axis = -1, double momentum = 0.99, double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null)
        : base(name)
    {
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentException($"BatchNormalization '{Name}': momentum must be in [0, 1], got {momentum}.");
        if (!(epsilon > 0) || double.IsInfinity(epsilon))
            throw new ArgumentException($"BatchNormalization '{Name}': epsilon must be positive, got {epsilon}.");
        (Axis, Momentum, Epsilon, Center, Scale) = (axis, momentum, epsilon, center, scale);
    }

    /// <inheritdoc/>
    public override string ClassName => "BatchNormalization";
    /// <summary>−1 or the index of the last axis counting the batch (3 for images); other axes are not supported.</summary>
    public int Axis { get; }
    /// <summary>Weight of the old value in the moving statistics' update.</summary>
    public double Momentum { get; }
    /// <summary>Added to the variance before its square root.</summary>
    public double Epsilon { get; }
    /// <summary>Whether beta is added (Keras center).</summary>
    public bool Center { get; }
    /// <summary>Whether gamma multiplies (Keras scale).</summary>
    public bool Scale { get; }

    /// <summary>Initial value of the scale.</summary>
    public Initializer GammaInitializer { get; init; } = Initializer.Ones;
    /// <summary>Initial value of the offset.</summary>
    public Initializer BetaInitializer { get; init; } = Initializer.Zeros;
    /// <summary>Initial value of the moving mean.</summary>
    public Initializer MovingMeanInitializer { get; init; } = Initializer.Zeros;
    /// <summary>Initial value of the moving variance.</summary>
    public Initializer MovingVarianceInitializer { get; init; } = Initializer.Ones;

    /// <summary>The learned scale per channel, once built (null without scale).</summary>
    public Parameter? Gamma { get; private set; }
    /// <summary>The learned offset per channel, once built (null without center).</summary>
    public Parameter? Beta { get; private set; }
    /// <summary>The mean used at inference, updated in training.</summary>
    public Parameter? MovingMean { get; private set; }
    /// <summary>The variance used at inference, updated in training.</summary>
    public Parameter? MovingVariance { get; private set; }

    /// <summary>Channels normalised (the last axis).</summary>
    public int Channels => MovingMean?.Shape[0] ?? throw new InvalidOperationException($"BatchNormalization '{Name}' has not been applied to an input yet.");

    /// <summary>Keras uses TensorFlow's fused kernel, with the unbiased variance in the moving average, for 4-D and 5-D inputs.</summary>
    private bool MovingVarianceIsUnbiased => _inputRank is 4 or 5;

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        int rank = input.Shape.Length + 1;
        if (Axis != -1 && Axis != rank - 1)
            throw new NotSupportedException(
                $"BatchNormalization '{Name}': only the last (channel) axis is supported (axis −1 or {rank - 1}); got axis {Axis} for input {input.ShapeText} from '{input.Layer.Name}'.");
        int channels = input.Shape[^1];
        if (MovingMean is not null && MovingMean.Shape[0] != channels)
            throw ShapeError(input, $"normalises {MovingMean.Shape[0]} channels");
        _inputRank = rank;
        if (MovingMean is null)
        {
            if (Scale) Gamma = AddParameter("gamma", [channels], GammaInitializer);
            if (Center) Beta = AddParameter("beta", [channels], BetaInitializer);
            MovingMean = AddParameter("moving_mean", [channels], MovingMeanInitializer, trainable: false);
            MovingVariance = AddParameter("moving_variance", [channels], MovingVarianceInitializer, trainable: false);
        }
        return input.Shape;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var backend = x.Backend;
        int channels = x.Shape[-1];
        long rows = x.Length / channels;
        var output = Workspace("output", backend, x.Shape);
        var (gamma, beta) = (Gamma?.Value!.Buffer, Beta?.Value!.Buffer);
        _usedBatchStatistics = context.Training && Trainable;
        if (!_usedBatchStatistics)
        {
            backend.BatchNormForward(x.Buffer, MovingMean!.Value!.Buffer, MovingVariance!.Value!.Buffer, gamma, beta, output.Buffer, rows, channels, (float)Epsilon);
            return output;
        }
        var mean = Workspace("batch_mean", backend, new(channels));
        var variance = Workspace("batch_variance", backend, new(channels));
        backend.BatchNormStatistics(x.Buffer, mean.Buffer, variance.Buffer, rows, channels);
        backend.BatchNormForward(x.Buffer, mean.Buffer, variance.Buffer, gamma, beta, output.Buffer, rows, channels, (float)Epsilon);
        float besselCorrection = MovingVarianceIsUnbiased ? (float)(rows / (double)Math.Max(1, rows - 1)) : 1f;
        backend.MovingAverageUpdate(MovingMean!.Value!.Buffer, mean.Buffer, channels, (float)Momentum, 1f);
        backend.MovingAverageUpdate(MovingVariance!.Value!.Buffer, variance.Buffer, channels, (float)Momentum, besselCorrection);
        MovingMean.Changed();
        MovingVariance.Changed();
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        var x = LastInput;
        var backend = x.Backend;
        int channels = x.Shape[-1];
        var (mean, variance) = _usedBatchStatistics
            ? (Workspace("batch_mean", backend, new(channels)), Workspace("batch_variance", backend, new(channels)))
            : (MovingMean!.Value!, MovingVariance!.Value!);
        var gradInput = needInputGradient[0] ? Workspace("grad_input", backend, x.Shape) : null;
        var gradGamma = Gamma is null ? null : GradientOf(Gamma);
        var gradBeta = Beta is null ? null : GradientOf(Beta);
        if (gradInput is null && gradGamma is null && gradBeta is null) return [null];
        backend.BatchNormBackward(x.Buffer, gradOutput.Buffer, mean.Buffer, variance.Buffer, Gamma?.Value!.Buffer,
            gradInput?.Buffer, gradGamma?.Buffer, gradBeta?.Buffer, x.Length / channels, channels, (float)Epsilon, _usedBatchStatistics);
        return [gradInput];
    }

    /// <summary>
    /// The weights of one convolution that computes <paramref name="conv"/> followed by this layer at inference:
    /// per output channel s = γ/√(var + ε), kernel' = kernel·s, bias' = β + (bias − mean)·s (bias 0 when the conv has none).
    /// Load them into a Conv2D with use_bias and drop this layer (shared/reference/keras-semantics.md D gives the
    /// no-gamma, no-bias form w' = w/√(var+ε), b' = β − mean/√(var+ε)).
    /// </summary>
    public (float[] Kernel, float[] Bias) FoldedConvolutionWeights(ConvolutionLayer conv)
    {
        if (conv.Kernel?.Value is null || MovingMean?.Value is null)
            throw new InvalidOperationException($"Folding BatchNormalization '{Name}' into {conv.ClassName} '{conv.Name}': both need weights (apply them and initialize or load the model first).");
        if (!conv.Activation.IsLinear)
            throw new InvalidOperationException($"Folding BatchNormalization '{Name}' into {conv.ClassName} '{conv.Name}': the conv applies '{conv.Activation}' before the normalisation; only a linear conv folds.");
        int channels = Channels;
        if (conv.Filters != channels)
            throw new ShapeException($"Folding BatchNormalization '{Name}' ({channels} channels) into {conv.ClassName} '{conv.Name}' ({conv.Filters} filters): the counts must match.");
        float[] gamma = Gamma?.ToArray() ?? Enumerable.Repeat(1f, channels).ToArray();
        float[] beta = Beta?.ToArray() ?? new float[channels];
        var (scale, shift) = Ops.BatchNormToAffine(gamma, beta, MovingMean.ToArray(), MovingVariance!.ToArray(), Epsilon);
        float[] kernel = conv.Kernel.ToArray();
        for (int i = 0; i < kernel.Length; i++) kernel[i] *= scale[i % channels];
        float[] bias = conv.Bias?.ToArray() ?? new float[channels];
        for (int c = 0; c < channels; c++) bias[c] = (float)((double)bias[c] * scale[c] + shift[c]);
        return (kernel, bias);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = _inputRank > 0 ? new JsonArray(_inputRank - 1) : Axis;
        config["momentum"] = Momentum;
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
        config["beta_initializer"] = BetaInitializer.ToJson();
        config["gamma_initializer"] = GammaInitializer.ToJson();
        config["moving_mean_initializer"] = MovingMeanInitializer.ToJson();
        config["moving_variance_initializer"] = MovingVarianceInitializer.ToJson();
        config["beta_regularizer"] = null;
        config["gamma_regularizer"] = null;
        config["beta_constraint"] = null;
        config["gamma_constraint"] = null;
        return config;
    }

    internal static BatchNormalization FromConfig(JsonObject c)
    {
        const string owner = "BatchNormalization";
        int axis = c["axis"] switch
        {
            null => -1,
            JsonArray { Count: 1 } one when one[0] is JsonValue v && v.TryGetValue(out int only) => only,
            JsonArray many => throw new FormatException($"{owner} config: axis {many.ToJsonString()} normalises several axes; only one (the last) is supported."),
            _ => JsonConfig.Int(c, owner, "axis"),
        };
        foreach (string key in new[] { "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "virtual_batch_size", "adjustment" })
            if (c[key] is not null)
                throw new FormatException($"{owner} config: '{key}' is not supported (got {c[key]!.ToJsonString()}).");
        if (JsonConfig.Bool(c, owner, "renorm", false)) throw new FormatException($"{owner} config: renorm is not supported.");
        return new BatchNormalization(axis, JsonConfig.Double(c, owner, "momentum", 0.99), JsonConfig.Double(c, owner, "epsilon", 1e-3),
            JsonConfig.Bool(c, owner, "center", true), JsonConfig.Bool(c, owner, "scale", true), JsonConfig.String(c, owner, "name"))
        {
            Trainable = JsonConfig.Bool(c, owner, "trainable", true),
            GammaInitializer = ReadInitializer(c, "gamma_initializer", Initializer.Ones),
            BetaInitializer = ReadInitializer(c, "beta_initializer", Initializer.Zeros),
            MovingMeanInitializer = ReadInitializer(c, "moving_mean_initializer", Initializer.Zeros),
            MovingVarianceInitializer = ReadInitializer(c, "moving_variance_initializer", Initializer.Ones),
        };
    }

    /// <summary>Keras's constant initializers, as a name ("ones") or {"class_name": "Ones", "config": {}}; Constant with its value.</summary>
    private static Initializer ReadInitializer(JsonObject c, string key, Initializer fallback)
    {
        var node = c[key];
        if (node is null) return fallback;
        string? className = node is JsonValue v && v.TryGetValue(out string? text) ? text
            : node is JsonObject o && o["class_name"] is JsonValue n && n.TryGetValue(out string? named) ? named : null;
        return className?.ToLowerInvariant() switch
        {
            "zeros" => Initializer.Zeros,
            "ones" => Initializer.Ones,
            "constant" => Initializer.Constant((float)((node as JsonObject)?["config"]?["value"]?.GetValue<double>() ?? 0.0)),
            _ => throw new FormatException($"BatchNormalization config: '{key}' {node.ToJsonString()} is not supported; use Zeros, Ones or Constant."),
        };
    }
}
