using System.Globalization;
using ConvEngine.Layers;

namespace ConvEngine.Import.Transfer;

/// <summary>One layer of a classifier head: flatten, global average pooling, dense (units, activation) or dropout (rate).</summary>
public sealed record HeadLayerSpec(string Kind, int Units = 0, string Activation = "relu", double Rate = 0)
{
    /// <summary>The layer as the head syntax writes it, e.g. "dense:64:relu" or "dropout:0.5".</summary>
    public override string ToString() => Kind switch
    {
        "dense" => $"dense:{Units}:{Activation}",
        "dropout" => $"dropout:{Rate.ToString(CultureInfo.InvariantCulture)}",
        _ => Kind,
    };
}

/// <summary>
/// A new classifier head on top of a base, written as on the command line: <c>dense:256,dropout:0.5</c> is
/// Dense(256, relu) then Dropout(0.5). Items: <c>flatten</c>, <c>gap</c> (global average pooling), <c>dense:N</c> or
/// <c>dense:N:activation</c>, <c>dropout:R</c>. The output layer is added for the data: one sigmoid unit for two
/// classes (binary cross-entropy, as the course's models), K softmax units for K classes. When the base gives a
/// 4-D feature map and the head does not start with flatten or gap, a Flatten comes first (Keras's usual top).
/// </summary>
public sealed class HeadSpec
{
    private HeadSpec(IReadOnlyList<HeadLayerSpec> layers) => Layers = layers;

    /// <summary>The head's layers, input side first.</summary>
    public IReadOnlyList<HeadLayerSpec> Layers { get; }

    /// <summary>The default head: Dense(256, relu), Dropout(0.5).</summary>
    public static HeadSpec Default { get; } = Parse("dense:256,dropout:0.5");

    /// <summary>Parses "dense:256,dropout:0.5"; an empty text is a head of the output layer alone.</summary>
    /// <exception cref="FormatException">An unknown item or a bad number, naming the item.</exception>
    public static HeadSpec Parse(string text)
    {
        var layers = new List<HeadLayerSpec>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = item.Split(':', StringSplitOptions.TrimEntries);
            string kind = parts[0].ToLowerInvariant();
            FormatException Bad(string why) => new($"Head item '{item}': {why} (items: flatten, gap, dense:N[:activation], dropout:R; e.g. dense:256,dropout:0.5).");
            switch (kind)
            {
                case "flatten" or "gap" or "global_average_pooling" or "avg" when parts.Length == 1:
                    layers.Add(new HeadLayerSpec(kind == "flatten" ? "flatten" : "gap"));
                    break;
                case "dense" when parts.Length is 2 or 3:
                    if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int units) || units < 1)
                        throw Bad($"units must be a positive integer, got '{parts[1]}'");
                    string activation = parts.Length == 3 ? parts[2].ToLowerInvariant() : "relu";
                    if (!ActivationFunction.Names.Contains(activation))
                        throw Bad($"unknown activation '{activation}' ({string.Join(", ", ActivationFunction.Names)})");
                    layers.Add(new HeadLayerSpec("dense", units, activation));
                    break;
                case "dropout" when parts.Length == 2:
                    if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || !(rate >= 0 && rate < 1))
                        throw Bad($"the rate must be in [0, 1), got '{parts[1]}'");
                    layers.Add(new HeadLayerSpec("dropout", Rate: rate));
                    break;
                default:
                    throw Bad("not understood");
            }
        }
        return new HeadSpec(layers);
    }

    /// <summary>
    /// Applies the head to <paramref name="features"/> (the base's output) for <paramref name="classCount"/> classes;
    /// returns the output: Dense(1, sigmoid) for two classes, Dense(K, softmax) for more. Layers are named head_…
    /// and the output layer "predictions".
    /// </summary>
    public SymbolicTensor Apply(SymbolicTensor features, int classCount)
    {
        if (classCount < 2) throw new ArgumentException($"A classifier head needs at least 2 classes; the data has {classCount}.");
        var x = features;
        bool reduced = false;
        int counter = 0;
        string Next(string kind) => $"head_{kind}_{++counter}";
        foreach (var spec in Layers)
        {
            if (!reduced && x.Shape.Length > 1 && spec.Kind is not ("flatten" or "gap"))
            {
                x = new Flatten(Next("flatten")).Apply(x);
                reduced = true;
            }
            x = spec.Kind switch
            {
                "flatten" => new Flatten(Next("flatten")).Apply(x),
                "gap" => x.Shape.Length == 3 ? new GlobalAveragePooling2D(Next("gap")).Apply(x)
                    : throw new ArgumentException($"Head item 'gap' needs a (H, W, C) feature map; the base gives {x.ShapeText}."),
                "dense" => new Dense(spec.Units, spec.Activation, name: Next("dense")).Apply(x),
                "dropout" => new Dropout(spec.Rate, name: Next("dropout")).Apply(x),
                _ => throw new InvalidOperationException(spec.Kind),
            };
            reduced |= spec.Kind is "flatten" or "gap";
        }
        if (x.Shape.Length > 1) x = new Flatten(Next("flatten")).Apply(x);
        return classCount == 2
            ? new Dense(1, "sigmoid", name: "predictions").Apply(x)
            : new Dense(classCount, "softmax", name: "predictions").Apply(x);
    }

    /// <summary>The head as the head syntax writes it (comma-separated layers).</summary>
    public override string ToString() => string.Join(",", Layers);
}
