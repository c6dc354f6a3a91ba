using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras RandomBrightness: in training each image gets δ·(high − low) added, δ drawn per image from the factor's
/// range (a number f means [−f, f]; a pair is sorted; every value in [−1, 1]), then the result is clipped to
/// <see cref="ValueRange"/> (default (0, 255)). Keras 2 and 3 agree. Identity at inference.
/// </summary>
public sealed class RandomBrightness : RandomPreprocessingLayer
{
    /// <summary>Adds a random brightness offset per image, drawn from <paramref name="factor"/> times the value range (Keras's RandomBrightness).</summary>
    public RandomBrightness(Factor factor, (double Low, double High)? valueRange = null, ulong? seed = null, string? name = null) : base(seed, name)
    {
        if (factor.First is < -1 or > 1 || factor.Second is < -1 or > 1 || double.IsNaN(factor.First) || double.IsNaN(factor.Second))
            throw new ArgumentException($"RandomBrightness '{Name}': factor {factor} is outside Keras's range: a number or two numbers in [-1.0, 1.0].");
        (Lower, Upper) = factor.IsRange ? (Math.Min(factor.First, factor.Second), Math.Max(factor.First, factor.Second)) : (-Math.Abs(factor.First), Math.Abs(factor.First));
        var (low, high) = valueRange ?? (0, 255);
        ValueRange = (Math.Min(low, high), Math.Max(low, high));
    }

    /// <inheritdoc/>
    public override string ClassName => "RandomBrightness";
    /// <summary>δ is drawn from [Lower, Upper] and scaled by the value range's width.</summary>
    public double Lower { get; }
    /// <summary>The upper end of the drawn factor.</summary>
    public double Upper { get; }
    /// <summary>The input's value range (sorted): the delta's scale and the clip bounds.</summary>
    public (double Low, double High) ValueRange { get; }

    /// <summary>The value added to image <paramref name="index"/> in this step.</summary>
    public float Draw(ulong seed, int index) =>
        AugmentDraws.Uniform(seed, 0, index, (float)Lower, (float)Upper) * (float)(ValueRange.High - ValueRange.Low);

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images, ulong seed, int n, int height, int width, int channels)
    {
        var deltas = HostParameters(n);
        for (int b = 0; b < n; b++) deltas[b] = Draw(seed, b);
        var backend = images.Backend;
        var output = Output(backend, n, height, width, channels);
        backend.AdjustBrightness(images.Buffer, UploadParameters(backend, "deltas", deltas.AsSpan(0, n)), output.Buffer, n,
            (long)height * width * channels, (float)ValueRange.Low, (float)ValueRange.High);
        return output;
    }

    /// <summary>As Keras writes it: the factor as its sorted [lower, upper] list and the sorted value_range.</summary>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["factor"] = new JsonArray(Lower, Upper);
        config["value_range"] = new JsonArray(ValueRange.Low, ValueRange.High);
        return config;
    }

    internal static RandomBrightness FromConfig(JsonObject c)
    {
        const string owner = "RandomBrightness";
        JsonConfig.RequireChannelsLast(c, owner);
        var range = c["value_range"] is null ? ((double, double)?)null : PreprocessingOptions.ReadRange(c, owner, "value_range");
        return new RandomBrightness(Factor.Read(c, owner, "factor"), range, JsonConfig.OptionalULong(c, owner, "seed"), JsonConfig.OptionalString(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
