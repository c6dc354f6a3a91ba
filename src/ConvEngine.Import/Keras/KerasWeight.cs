namespace ConvEngine.Import.Keras;

/// <summary>
/// One weight array as Keras stored it: its name from the layer's <c>weight_names</c> attribute
/// (e.g. "conv2d/kernel:0" or, in Keras 1 files, "block1_conv1_W_1:0"), its shape and its float32 values, row-major.
/// </summary>
public sealed record KerasWeight(string Name, int[] Shape, float[] Values)
{
    /// <summary>The shape as "(3, 3, 1, 32)".</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>The weight's role without its layer prefix and ":0" suffix: "kernel", "bias", or "W"/"b" for Keras 1 names.</summary>
    public string ShortName
    {
        get
        {
            string name = Name;
            int colon = name.LastIndexOf(':');
            if (colon > 0) name = name[..colon];
            int slash = name.LastIndexOf('/');
            return slash >= 0 ? name[(slash + 1)..] : name;
        }
    }

    internal static string FormatShape(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + ")";
}

/// <summary>The weights of one Keras layer, in the order of its <c>weight_names</c> attribute (empty for pooling, flatten, …).</summary>
public sealed record KerasLayerWeights(string Name, IReadOnlyList<KerasWeight> Weights)
{
    /// <summary>The number of float values over all the layer's weights.</summary>
    public long ValueCount => Weights.Sum(w => (long)w.Values.Length);
}
