using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras RandomRotation: in training each image turns about its centre by an angle drawn from
/// [lower·2π, upper·2π] (a number f means [−f, f]; counter-clockwise positive), sampled with the fill mode and
/// interpolation. Keras 2 and 3 agree. Identity at inference.
/// </summary>
public sealed class RandomRotation : RandomTransformLayer
{
    /// <summary>Rotates each image by a random fraction of a full turn drawn from <paramref name="factor"/> in training (Keras's RandomRotation).</summary>
    public RandomRotation(Factor factor, string fillMode = "reflect", string interpolation = "bilinear", ulong? seed = null,
        double fillValue = 0, string? name = null) : base(fillMode, interpolation, fillValue, seed, name)
    {
        Factor = factor;
        (Lower, Upper) = factor.Symmetric;
        if (!(Lower <= Upper))
            throw new ArgumentException($"RandomRotation '{Name}': factor {factor} has its upper bound below its lower bound.");
    }

    /// <inheritdoc/>
    public override string ClassName => "RandomRotation";
    /// <summary>The range the rotation is drawn from, in fractions of a full turn.</summary>
    public Factor Factor { get; }
    /// <summary>The angle's bounds as fractions of a full turn.</summary>
    public double Lower { get; }
    /// <summary>The upper end of the drawn rotation.</summary>
    public double Upper { get; }

    /// <summary>Image <paramref name="index"/>'s angle in radians (Keras: lower·2π and upper·2π in double, the draw in float32).</summary>
    public float DrawAngle(ulong seed, int index) =>
        AugmentDraws.Uniform(seed, 0, index, (float)(Lower * 2 * Math.PI), (float)(Upper * 2 * Math.PI));

    /// <inheritdoc/>
    public override void DrawTransform(ulong seed, int index, int height, int width, Span<float> row) =>
        TransformMatrix.Rotation(DrawAngle(seed, index), height, width, row);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["factor"] = Factor.ToJson();
        return config;
    }

    internal static RandomRotation FromConfig(JsonObject c)
    {
        const string owner = "RandomRotation";
        var (fill, interpolation, fillValue) = ReadSampling(c, owner);
        return new RandomRotation(Factor.Read(c, owner, "factor"), fill, interpolation, JsonConfig.OptionalULong(c, owner, "seed"), fillValue,
            JsonConfig.OptionalString(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
