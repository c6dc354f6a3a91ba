using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras RandomHeight: see <see cref="RandomResizeLayer"/>; in training the batch's height becomes int(f·H). Identity at inference.</summary>
public sealed class RandomHeight : RandomResizeLayer
{
    /// <summary>Resizes each batch to a random height drawn from <paramref name="factor"/> in training.</summary>
    public RandomHeight(Factor factor, string interpolation = "bilinear", ulong? seed = null, string? name = null) : base(factor, interpolation, seed, name) { }

    /// <inheritdoc/>
    public override string ClassName => "RandomHeight";
    private protected override bool ResizesWidth => false;

    internal static RandomHeight FromConfig(JsonObject c)
    {
        const string owner = "RandomHeight";
        JsonConfig.RequireChannelsLast(c, owner);
        return new RandomHeight(Factor.Read(c, owner, "factor"), JsonConfig.String(c, owner, "interpolation", "bilinear"), JsonConfig.OptionalULong(c, owner, "seed"),
            JsonConfig.OptionalString(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
