using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>Keras AveragePooling2D: the mean of each window; with "same" the padded cells are left out of the divisor (TensorFlow).</summary>
public sealed class AveragePooling2D : Pooling2DLayer
{
    /// <param name="strides">Null means the pool size, as in Keras.</param>
    public AveragePooling2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name) { }

    /// <inheritdoc/>
    public override string ClassName => "AveragePooling2D";
    private protected override PoolKind Kind => PoolKind.Average;

    private AveragePooling2D(JsonObject c) : base(c, "AveragePooling2D") { }

    internal static AveragePooling2D FromConfig(JsonObject c) => new(c);
}
