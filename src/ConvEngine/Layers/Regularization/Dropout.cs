using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Dropout: in training, zeroes each value with probability <see cref="Rate"/> and scales the kept
/// ones by 1/(1−rate) (inverted dropout); at inference it passes the input through. The mask comes from
/// the backend's counter-based kernel, seeded per step and per layer by the model. With Keras's noise_shape
/// (None, 1, …, 1) or (None, 1, …, 1, C) one draw is shared by a whole sample, or by each of its channels, as
/// EfficientNet's stochastic depth uses it (noise_shape (None, 1, 1, 1)).
/// </summary>
public sealed class Dropout : Layer
{
    private bool _maskedLastStep;

    /// <param name="seed">Mixed into the model's per-step seed; two dropouts with different seeds draw different masks.</param>
    /// <param name="rate">The fraction of inputs zeroed in training.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Dropout(double rate, ulong? seed = null, string? name = null) : this(rate, null, seed, name) { }

    /// <param name="noiseShape">Keras's noise_shape without the batch entry: null for a draw per value, else all 1s
    /// (a draw per sample) or 1s then the channel count (a draw per sample and channel).</param>
    /// <param name="rate">The fraction of inputs zeroed in training.</param>
    /// <param name="seed">The seed of the random draws; null for a random one.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Dropout(double rate, int[]? noiseShape, ulong? seed = null, string? name = null) : base(name)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentException($"Dropout '{Name}': rate must be in [0, 1), got {rate}.");
        if (noiseShape is not null && (noiseShape.Length == 0 || noiseShape[..^1].Any(d => d != 1) || noiseShape[^1] <= 0))
            throw new ArgumentException($"Dropout '{Name}': noise_shape (None, {string.Join(", ", noiseShape)}) is not supported; " +
                "only (None, 1, …, 1) and (None, 1, …, 1, C) share draws.");
        Rate = rate;
        Seed = seed;
        NoiseShape = noiseShape is null ? null : (int[])noiseShape.Clone();
    }

    /// <inheritdoc/>
    public override string ClassName => "Dropout";
    /// <summary>The fraction of inputs zeroed in training.</summary>
    public double Rate { get; }
    /// <summary>The layer's own seed, mixed with the training step's; null to draw from the step's alone.</summary>
    public ulong? Seed { get; }
    /// <summary>Keras's noise_shape without the batch entry; null draws every value independently.</summary>
    public int[]? NoiseShape { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (NoiseShape is not null && (NoiseShape.Length != input.Shape.Length || (NoiseShape[^1] != 1 && NoiseShape[^1] != input.Shape[^1])))
            throw ShapeError(input, $"draws its mask with noise_shape (None, {string.Join(", ", NoiseShape)})");
        return input.Shape;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var backend = x.Backend;
        _maskedLastStep = context.Training && Rate > 0;
        if (!_maskedLastStep) return x;
        var output = Workspace("output", backend, x.Shape);
        ulong seed = Seed is { } own ? CounterRng.Hash(context.Seed, own) : context.Seed;
        if (NoiseShape is null)
        {
            var mask = Workspace("mask", backend, x.Shape);
            backend.Dropout(x.Buffer, mask.Buffer, output.Buffer, x.Length, (float)Rate, seed);
            return output;
        }
        // One draw per sample (and channel): the mask of a tensor of ones, broadcast over the positions.
        var (n, spatial, channels, draws) = SharedLayout(x);
        var ones = Workspace("ones", backend, new(n * draws));
        var shared = Workspace("shared_mask", backend, new(n * draws));
        backend.Fill(ones.Buffer, 1f, ones.Length);
        backend.Dropout(ones.Buffer, shared.Buffer, shared.Buffer, shared.Length, (float)Rate, seed);
        backend.MultiplyBroadcast(x.Buffer, shared.Buffer, output.Buffer, n, spatial, channels, draws);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        if (!_maskedLastStep) return [gradOutput];
        var backend = gradOutput.Backend;
        var gradInput = Workspace("grad_input", backend, gradOutput.Shape);
        if (NoiseShape is null)
        {
            var mask = Workspace("mask", backend, gradOutput.Shape);
            backend.Multiply(gradOutput.Buffer, mask.Buffer, gradInput.Buffer, gradOutput.Length);
            return [gradInput];
        }
        var (n, spatial, channels, draws) = SharedLayout(gradOutput);
        var shared = Workspace("shared_mask", backend, new(n * draws));
        backend.MultiplyBroadcast(gradOutput.Buffer, shared.Buffer, gradInput.Buffer, n, spatial, channels, draws);
        return [gradInput];
    }

    /// <summary>(samples, positions, channels, draws per sample) for a shared mask.</summary>
    private (int N, int Spatial, int Channels, int Draws) SharedLayout(Tensor x)
    {
        int n = x.Shape[0], channels = x.Shape[-1];
        return (n, (int)(x.Length / n / channels), channels, NoiseShape![^1]);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["rate"] = Rate;
        config["noise_shape"] = NoiseShape is null ? null : new JsonArray([null, .. NoiseShape.Select(d => (JsonNode?)d)]);
        config["seed"] = Seed is { } s ? JsonValue.Create(s) : null;
        return config;
    }

    internal static Dropout FromConfig(JsonObject c)
    {
        const string owner = "Dropout";
        int[]? noiseShape = c["noise_shape"] is null ? null : JsonConfig.Ints(c, owner, "noise_shape", skipLeadingNull: true);
        return new Dropout(JsonConfig.Double(c, owner, "rate"), noiseShape, JsonConfig.OptionalULong(c, owner, "seed"), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
