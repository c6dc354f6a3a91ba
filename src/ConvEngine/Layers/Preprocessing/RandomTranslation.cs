using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras RandomTranslation: in training each image shifts by dy = U[height lower, upper]·H and dx = U[width lower,
/// upper]·W pixels (fractional; positive moves it down and right; a number f means [−f, f]; every bound in [−1, 1]),
/// sampled with the fill mode and interpolation. Keras 2 and 3 agree. Identity at inference.
/// </summary>
public sealed class RandomTranslation : RandomTransformLayer
{
    /// <summary>Shifts each image by random fractions of its height and width in training (Keras's RandomTranslation).</summary>
    public RandomTranslation(Factor heightFactor, Factor widthFactor, string fillMode = "reflect", string interpolation = "bilinear",
        ulong? seed = null, double fillValue = 0, string? name = null) : base(fillMode, interpolation, fillValue, seed, name)
    {
        HeightFactor = heightFactor;
        WidthFactor = widthFactor;
        HeightRange = Check("height_factor", heightFactor);
        WidthRange = Check("width_factor", widthFactor);
    }

    /// <inheritdoc/>
    public override string ClassName => "RandomTranslation";
    /// <summary>The range of the vertical shift, as a fraction of the height.</summary>
    public Factor HeightFactor { get; }
    /// <summary>The range of the horizontal shift, as a fraction of the width.</summary>
    public Factor WidthFactor { get; }
    /// <summary>The vertical shift's bounds as fractions of the height.</summary>
    public (double Lower, double Upper) HeightRange { get; }
    /// <summary>The horizontal shift's (lower, upper) bounds.</summary>
    public (double Lower, double Upper) WidthRange { get; }

    private (double, double) Check(string key, Factor factor)
    {
        var (lower, upper) = factor.Symmetric;
        if (!(lower <= upper))
            throw new ArgumentException($"RandomTranslation '{Name}': {key} {factor} has its upper bound below its lower bound.");
        if (Math.Abs(lower) > 1 || Math.Abs(upper) > 1)
            throw new ArgumentException($"RandomTranslation '{Name}': {key} {factor} is outside Keras's range: its values must lie in [-1, 1].");
        return (lower, upper);
    }

    /// <summary>Image <paramref name="index"/>'s shift (dx, dy) in pixels.</summary>
    public (float Dx, float Dy) DrawShift(ulong seed, int index, int height, int width) =>
        (AugmentDraws.Uniform(seed, 1, index, (float)WidthRange.Lower, (float)WidthRange.Upper) * width,
         AugmentDraws.Uniform(seed, 0, index, (float)HeightRange.Lower, (float)HeightRange.Upper) * height);

    /// <inheritdoc/>
    public override void DrawTransform(ulong seed, int index, int height, int width, Span<float> row)
    {
        var (dx, dy) = DrawShift(seed, index, height, width);
        TransformMatrix.Translation(dx, dy, row);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["height_factor"] = HeightFactor.ToJson();
        config["width_factor"] = WidthFactor.ToJson();
        return config;
    }

    internal static RandomTranslation FromConfig(JsonObject c)
    {
        const string owner = "RandomTranslation";
        var (fill, interpolation, fillValue) = ReadSampling(c, owner);
        return new RandomTranslation(Factor.Read(c, owner, "height_factor"), Factor.Read(c, owner, "width_factor"), fill, interpolation,
            JsonConfig.OptionalULong(c, owner, "seed"), fillValue, JsonConfig.OptionalString(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
