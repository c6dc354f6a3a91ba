using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>Keras GlobalAveragePooling2D: (N, H, W, C) → (N, C) (or (N, 1, 1, C) with keepdims), the mean over all positions.</summary>
public sealed class GlobalAveragePooling2D : GlobalPooling2DLayer
{
    /// <summary>The mean of each channel over the image; <paramref name="keepDims"/> keeps (1, 1, C) instead of (C).</summary>
    public GlobalAveragePooling2D(string? name = null, bool keepDims = false) : base(name, keepDims) { }

    /// <inheritdoc/>
    public override string ClassName => "GlobalAveragePooling2D";
    private protected override PoolKind Kind => PoolKind.Average;

    internal static GlobalAveragePooling2D FromConfig(JsonObject c)
    {
        var (name, keepDims, trainable) = ReadConfig(c, "GlobalAveragePooling2D");
        return new GlobalAveragePooling2D(name, keepDims) { Trainable = trainable };
    }
}
