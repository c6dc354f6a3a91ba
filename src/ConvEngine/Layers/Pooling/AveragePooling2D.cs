using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>Keras AveragePooling2D: the mean of each window; with "same" the padded cells are left out of the divisor (TensorFlow).</summary>
public sealed class AveragePooling2D : Pooling2DLayer
{
    /// <param name="strides">Null means the pool size, as in Keras.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    /// <param name="poolSize">The window size; Keras's default 2 when null.</param>
    /// <param name="padding">"valid" or "same".</param>
    public AveragePooling2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name) { }

    /// <inheritdoc/>
    public override string ClassName => "AveragePooling2D";
    private protected override PoolKind Kind => PoolKind.Average;

    private AveragePooling2D(JsonObject c) : base(c, "AveragePooling2D") { }

    internal static AveragePooling2D FromConfig(JsonObject c) => new(c);
}
