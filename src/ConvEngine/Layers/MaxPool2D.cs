using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras MaxPooling2D (alias MaxPool2D): the max of each window; the gradient goes to the first max.</summary>
public sealed class MaxPool2D : Pooling2DLayer
{
    /// <param name="strides">Null means the pool size, as in Keras.</param>
    public MaxPool2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name) { }

    public override string ClassName => "MaxPooling2D";
    private protected override PoolKind Kind => PoolKind.Max;

    internal static MaxPool2D FromConfig(JsonObject c)
    {
        const string owner = "MaxPooling2D";
        JsonConfig.RequireChannelsLast(c, owner);
        var pool = JsonConfig.Pair(c, owner, "pool_size", 2);
        return new MaxPool2D(pool, c["strides"] is null ? pool : JsonConfig.Pair(c, owner, "strides"),
            "valid", JsonConfig.String(c, owner, "name"))
        {
            Trainable = JsonConfig.Bool(c, owner, "trainable", true),
            Padding = ReadPadding(c, owner),
            CeilMode = JsonConfig.Bool(c, owner, "ceil_mode", false),
            CountIncludePad = JsonConfig.Bool(c, owner, "count_include_pad", false),
        };
    }
}
