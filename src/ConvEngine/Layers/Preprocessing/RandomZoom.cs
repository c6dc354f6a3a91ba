using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras RandomZoom: in training each image is scaled about its centre by zy = 1 + U[height lower, upper] and
/// zx = 1 + U[width lower, upper] (zx = zy when width_factor is None, keeping the aspect ratio); a number f means
/// [−f, f]. A positive factor zooms out (shows more), a negative one zooms in. Height bounds lie in [−1, 1], width
/// bounds are at least −1. Sampled with the fill mode and interpolation. Keras 2 and 3 agree. Identity at inference.
/// </summary>
public sealed class RandomZoom : RandomTransformLayer
{
    /// <summary>Zooms each image in or out by random factors in training (Keras's RandomZoom; the width factor follows the height's when null).</summary>
    public RandomZoom(Factor heightFactor, Factor? widthFactor = null, string fillMode = "reflect", string interpolation = "bilinear",
        ulong? seed = null, double fillValue = 0, string? name = null) : base(fillMode, interpolation, fillValue, seed, name)
    {
        HeightFactor = heightFactor;
        WidthFactor = widthFactor;
        HeightRange = heightFactor.Symmetric;
        if (Math.Abs(HeightRange.Lower) > 1 || Math.Abs(HeightRange.Upper) > 1 || double.IsNaN(HeightRange.Lower) || double.IsNaN(HeightRange.Upper))
            throw new ArgumentException($"RandomZoom '{Name}': height_factor {heightFactor} is outside Keras's range: its values must lie in [-1, 1].");
        if (widthFactor is { } w)
        {
            WidthRange = w.Symmetric;
            if (!(WidthRange.Value.Lower >= -1 && WidthRange.Value.Upper >= -1))
                throw new ArgumentException($"RandomZoom '{Name}': width_factor {w} is outside Keras's range: its values must be at least -1.");
        }
    }

    /// <inheritdoc/>
    public override string ClassName => "RandomZoom";
    /// <summary>The range of the vertical zoom.</summary>
    public Factor HeightFactor { get; }
    /// <summary>The range of the horizontal zoom; null keeps the aspect ratio.</summary>
    public Factor? WidthFactor { get; }
    /// <summary>The vertical zoom's (lower, upper) bounds.</summary>
    public (double Lower, double Upper) HeightRange { get; }
    /// <summary>Null when the width follows the height.</summary>
    public (double Lower, double Upper)? WidthRange { get; }

    /// <summary>Image <paramref name="index"/>'s zoom (zx, zy).</summary>
    public (float Zx, float Zy) DrawZoom(ulong seed, int index)
    {
        float zy = AugmentDraws.Uniform(seed, 0, index, (float)(1 + HeightRange.Lower), (float)(1 + HeightRange.Upper));
        float zx = WidthRange is { } w ? AugmentDraws.Uniform(seed, 1, index, (float)(1 + w.Lower), (float)(1 + w.Upper)) : zy;
        return (zx, zy);
    }

    /// <inheritdoc/>
    public override void DrawTransform(ulong seed, int index, int height, int width, Span<float> row)
    {
        var (zx, zy) = DrawZoom(seed, index);
        TransformMatrix.Zoom(zx, zy, height, width, row);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["height_factor"] = HeightFactor.ToJson();
        config["width_factor"] = WidthFactor?.ToJson();
        return config;
    }

    internal static RandomZoom FromConfig(JsonObject c)
    {
        const string owner = "RandomZoom";
        var (fill, interpolation, fillValue) = ReadSampling(c, owner);
        Factor? width = c["width_factor"] is { } node ? Factor.Read(node, owner, "width_factor") : null;
        return new RandomZoom(Factor.Read(c, owner, "height_factor"), width, fill, interpolation, JsonConfig.OptionalULong(c, owner, "seed"),
            fillValue, JsonConfig.OptionalString(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
