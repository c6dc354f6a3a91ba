using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras AveragePooling2D: the mean of each window; with "same" the padded cells are left out of the divisor (TensorFlow).</summary>
public sealed class AveragePooling2D : Pooling2DLayer
{
    /// <param name="strides">Null means the pool size, as in Keras.</param>
    public AveragePooling2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name) { }

    public override string ClassName => "AveragePooling2D";
    private protected override PoolKind Kind => PoolKind.Average;

    internal static AveragePooling2D FromConfig(JsonObject c)
    {
        const string owner = "AveragePooling2D";
        JsonConfig.RequireChannelsLast(c, owner);
        var pool = JsonConfig.Pair(c, owner, "pool_size", 2);
        return new AveragePooling2D(pool, c["strides"] is null ? pool : JsonConfig.Pair(c, owner, "strides"),
            "valid", JsonConfig.String(c, owner, "name"))
        {
            Trainable = JsonConfig.Bool(c, owner, "trainable", true),
            Padding = ReadPadding(c, owner),
            CeilMode = JsonConfig.Bool(c, owner, "ceil_mode", false),
            CountIncludePad = JsonConfig.Bool(c, owner, "count_include_pad", false),
        };
    }
}
