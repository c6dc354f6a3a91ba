using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>Keras GlobalMaxPooling2D: (N, H, W, C) → (N, C) (or (N, 1, 1, C) with keepdims), the max over all positions.</summary>
public sealed class GlobalMaxPooling2D : GlobalPooling2DLayer
{
    /// <summary>The maximum of each channel over the image; <paramref name="keepDims"/> keeps (1, 1, C) instead of (C).</summary>
    public GlobalMaxPooling2D(string? name = null, bool keepDims = false) : base(name, keepDims) { }

    /// <inheritdoc/>
    public override string ClassName => "GlobalMaxPooling2D";
    private protected override PoolKind Kind => PoolKind.Max;

    internal static GlobalMaxPooling2D FromConfig(JsonObject c)
    {
        var (name, keepDims, trainable) = ReadConfig(c, "GlobalMaxPooling2D");
        return new GlobalMaxPooling2D(name, keepDims) { Trainable = trainable };
    }
}
