using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras RandomContrast: in training, out = clip((x − mean)·f + mean), the mean per image and channel over the pixels.
/// <list type="bullet">
/// <item><see cref="KerasSemantics.Keras2"/> (default; tf.keras ≤ 2.15, the course's): one f for the whole batch, drawn
/// from [1 − lower, 1 + upper] where a number f means lower = upper = f; clipped to [0, 255].</item>
/// <item><see cref="KerasSemantics.Keras3"/> (Keras ≥ 3.6): one f per image; clipped to <see cref="ValueRange"/>; a number
/// f means (lower, upper) = (0, f), so f is drawn from [1, 1 + f].</item>
/// </list>
/// Either way lower must lie in [0, 1] and upper be non-negative. Identity at inference.
/// </summary>
public sealed class RandomContrast : RandomPreprocessingLayer
{
    /// <param name="valueRange">Keras 3's clip range (low, high); Keras 2 clips to (0, 255). Giving it implies nothing: <paramref name="semantics"/> chooses.</param>
    /// <param name="factor">The contrast range; a number f is read as the semantics define it.</param>
    /// <param name="seed">The seed of the random draws; null for a random one.</param>
    /// <param name="semantics">Which Keras version's definition to follow.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public RandomContrast(Factor factor, ulong? seed = null, KerasSemantics semantics = KerasSemantics.Keras2,
        (double Low, double High)? valueRange = null, string? name = null) : base(seed, name)
    {
        Factor = factor;
        Semantics = semantics;
        (Lower, Upper) = factor.IsRange ? (factor.First, factor.Second)
            : semantics == KerasSemantics.Keras3 ? (0, factor.First) : (factor.First, factor.First);
        bool valid = semantics == KerasSemantics.Keras2 || factor.IsRange
            ? Lower >= 0 && Upper >= 0 && Lower <= 1
            : factor.First >= 0 && factor.First <= 1;
        if (!valid)
            throw new ArgumentException($"RandomContrast '{Name}': factor {factor} is outside Keras's range: the lower bound must be in [0, 1] and the upper " +
                                        "bound non-negative (the factor is drawn from [1 − lower, 1 + upper]).");
        ValueRange = valueRange ?? (0, 255);
        if (!(ValueRange.Low <= ValueRange.High))
            throw new ArgumentException($"RandomContrast '{Name}': value_range ({ValueRange.Low}, {ValueRange.High}) must have low ≤ high.");
    }

    /// <inheritdoc/>
    public override string ClassName => "RandomContrast";
    /// <summary>The range the contrast factor is drawn from.</summary>
    public Factor Factor { get; }
    /// <summary>Whether the layer follows Keras 2's or Keras 3's definition.</summary>
    public KerasSemantics Semantics { get; }
    /// <summary>The factor is drawn from [1 − Lower, 1 + Upper].</summary>
    public double Lower { get; }
    /// <summary>The upper end of the drawn factor.</summary>
    public double Upper { get; }
    /// <summary>The clip range: (0, 255) in Keras 2 mode, Keras 3's value_range otherwise.</summary>
    public (double Low, double High) ValueRange { get; }

    /// <summary>Whether a factor is drawn per image (Keras 3) rather than once per batch (Keras 2).</summary>
    public bool PerImage => Semantics == KerasSemantics.Keras3;

    /// <summary>The contrast factor of this step for image <paramref name="index"/> (every image shares index 0's in Keras 2 mode).</summary>
    public float Draw(ulong seed, int index) =>
        AugmentDraws.Uniform(seed, 0, PerImage ? index : 0, (float)(1 - Lower), (float)(1 + Upper));

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images, ulong seed, int n, int height, int width, int channels)
    {
        int count = PerImage ? n : 1;
        var factors = HostParameters(count);
        for (int b = 0; b < count; b++) factors[b] = Draw(seed, b);
        var backend = images.Backend;
        var output = Output(backend, n, height, width, channels);
        var means = Workspace("means", backend, new TensorShape(n, channels));
        var (low, high) = Semantics == KerasSemantics.Keras3 ? ValueRange : (0, 255);
        var g = new ContrastGeometry(n, height * width, channels, PerImage ? 1 : 0, (float)low, (float)high);
        backend.AdjustContrast(images.Buffer, UploadParameters(backend, "factors", factors.AsSpan(0, count)), means.Buffer, output.Buffer, g);
        return output;
    }

    /// <summary>Keras's config; Keras 3 mode writes Keras 3's <c>value_range</c>, which is how a config says Keras 3.</summary>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["factor"] = Factor.ToJson();
        if (Semantics == KerasSemantics.Keras3) config["value_range"] = new JsonArray(ValueRange.Low, ValueRange.High);
        return config;
    }

    /// <summary>An explicit "semantics" ("keras2" or "keras3") wins; otherwise a value_range (written by Keras ≥ 3.8) means Keras 3.</summary>
    internal static RandomContrast FromConfig(JsonObject c)
    {
        const string owner = "RandomContrast";
        JsonConfig.RequireChannelsLast(c, owner);
        var range = c["value_range"] is null ? ((double, double)?)null : PreprocessingOptions.ReadRange(c, owner, "value_range");
        var semantics = JsonConfig.OptionalString(c, owner, "semantics") is { } s ? PreprocessingOptions.ParseSemantics(owner, s)
            : range is not null ? KerasSemantics.Keras3 : KerasSemantics.Keras2;
        return new RandomContrast(Factor.Read(c, owner, "factor"), JsonConfig.OptionalULong(c, owner, "seed"), semantics, range, JsonConfig.OptionalString(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
