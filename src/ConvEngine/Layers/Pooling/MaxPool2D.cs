using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>Keras MaxPooling2D (alias MaxPool2D): the max of each window; the gradient goes to the first max.</summary>
public sealed class MaxPool2D : Pooling2DLayer
{
    /// <param name="strides">Null means the pool size, as in Keras.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    /// <param name="poolSize">The window size; Keras's default 2 when null.</param>
    /// <param name="padding">"valid" or "same".</param>
    public MaxPool2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name) { }

    /// <inheritdoc/>
    public override string ClassName => "MaxPooling2D";
    private protected override PoolKind Kind => PoolKind.Max;

    private MaxPool2D(JsonObject c) : base(c, "MaxPooling2D") { }

    internal static MaxPool2D FromConfig(JsonObject c) => new(c);
}
