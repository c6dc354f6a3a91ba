using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras RandomWidth: see <see cref="RandomResizeLayer"/>; in training the batch's width becomes int(f·W). Identity at inference.</summary>
public sealed class RandomWidth : RandomResizeLayer
{
    /// <summary>Resizes each batch to a random width drawn from <paramref name="factor"/> in training.</summary>
    public RandomWidth(Factor factor, string interpolation = "bilinear", ulong? seed = null, string? name = null) : base(factor, interpolation, seed, name) { }

    /// <inheritdoc/>
    public override string ClassName => "RandomWidth";
    private protected override bool ResizesWidth => true;

    internal static RandomWidth FromConfig(JsonObject c)
    {
        const string owner = "RandomWidth";
        JsonConfig.RequireChannelsLast(c, owner);
        return new RandomWidth(Factor.Read(c, owner, "factor"), JsonConfig.String(c, owner, "interpolation", "bilinear"), JsonConfig.OptionalULong(c, owner, "seed"),
            JsonConfig.OptionalString(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
