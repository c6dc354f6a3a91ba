using System.Text.Json.Nodes;

namespace ConvEngine.Layers;

/// <summary>A (height, width) pair such as a kernel size or strides; an int means the same on both axes, as in Keras.</summary>
public readonly record struct Size2D(int Height, int Width)
{
    /// <summary>The same size along height and width.</summary>
    public static implicit operator Size2D(int both) => new(both, both);
    /// <summary>A (height, width) pair.</summary>
    public static implicit operator Size2D((int Height, int Width) pair) => new(pair.Height, pair.Width);

    internal JsonArray ToJson() => [Height, Width];
    /// <inheritdoc/>
    public override string ToString() => $"({Height}, {Width})";
}
