namespace ConvEngine.Layers;

/// <summary>
/// The output of a layer applied in a graph (Keras's KerasTensor): it carries the sample shape
/// (batch dimension left out, shown as None) and the node that produced it.
/// </summary>
public sealed class SymbolicTensor
{
    internal SymbolicTensor(Node producer, int[] shape)
    {
        Producer = producer;
        Shape = shape;
    }

    /// <summary>The node (a layer applied to its inputs) that computes this tensor.</summary>
    public Node Producer { get; }
    /// <summary>One sample's shape, without the batch dimension.</summary>
    public int[] Shape { get; }
    /// <summary>The producing layer.</summary>
    public Layer Layer => Producer.Layer;

    /// <summary>Keras's notation with None for the batch: "(None, 28, 28, 1)".</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>The shape as Keras prints it, batch first: "(None, 28, 28, 1)".</summary>
    public static string FormatShape(IReadOnlyList<int> sampleShape) =>
        "(None" + string.Concat(sampleShape.Select(d => ", " + d)) + ")";

    /// <inheritdoc/>
    public override string ToString() => $"{Layer.Name} {ShapeText}";
}

/// <summary>A layer applied to symbolic inputs, producing one symbolic output: a vertex of the model graph.</summary>
public sealed class Node
{
    internal Node(Layer layer, IReadOnlyList<SymbolicTensor> inputs, int[] outputShape)
    {
        Layer = layer;
        Inputs = inputs;
        Output = new SymbolicTensor(this, outputShape);
    }

    /// <summary>The layer that makes this tensor.</summary>
    public Layer Layer { get; }
    /// <summary>The tensors that layer was applied to.</summary>
    public IReadOnlyList<SymbolicTensor> Inputs { get; }
    /// <summary>The tensor this node makes.</summary>
    public SymbolicTensor Output { get; }
}
