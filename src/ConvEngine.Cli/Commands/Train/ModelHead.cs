using ConvEngine.Data;
using ConvEngine.Layers;
using ConvEngine.Losses;
using ConvEngine.Metrics;
using ConvEngine.Models;

namespace ConvEngine.Cli.Commands;

/// <summary>How a model's output reads as class scores.</summary>
internal enum HeadKind
{
    /// <summary>One sigmoid unit: the probability of class 1 of two (binary cross-entropy, 0/1 labels).</summary>
    Sigmoid,
    /// <summary>K softmax units: one probability per class (sparse categorical cross-entropy, class-index labels).</summary>
    Softmax,
}

/// <summary>
/// The output head of a classifier and what training it takes: the loss, the label mode of the data and the
/// accuracy metric, chosen as the course does (a sigmoid unit: binary_crossentropy and binary_accuracy; a
/// softmax layer: sparse_categorical_crossentropy, as Keras pairs with integer labels).
/// </summary>
internal sealed record ModelHead(HeadKind Kind, int Units, string LayerName)
{
    /// <summary>The classes this head scores: 2 for a sigmoid unit, K for K softmax units.</summary>
    public int ClassCount => Kind == HeadKind.Sigmoid ? 2 : Units;

    public LabelMode LabelMode => Kind == HeadKind.Sigmoid ? LabelMode.Binary : LabelMode.Int;

    public Loss CreateLoss() => Kind == HeadKind.Sigmoid ? new BinaryCrossentropy() : new SparseCategoricalCrossentropy();

    public Metric CreateAccuracy() => Kind == HeadKind.Sigmoid ? new BinaryAccuracy() : new SparseCategoricalAccuracy();

    public string Describe() => Kind == HeadKind.Sigmoid
        ? $"'{LayerName}' has one sigmoid unit (binary: 2 classes)"
        : $"'{LayerName}' has {Units} softmax units ({Units} classes)";

    /// <summary>Reads the head of <paramref name="model"/>; a head that is neither is an error naming the layer.</summary>
    public static ModelHead Of(Model model)
    {
        var layer = model.Output.Layer;
        while (layer is Model inner) layer = inner.Output.Layer;
        int units = model.OutputShape[^1];
        if (model.OutputShape.Length != 1)
            throw new ArgumentException(
                $"Model '{model.Name}' outputs {SymbolicTensor.FormatShape(model.OutputShape)}; a classifier outputs (None, units): end it with Flatten or pooling, then Dense.");
        if (layer is ActivatedLayer { Activation.IsSigmoid: true } && units == 1)
            return new ModelHead(HeadKind.Sigmoid, 1, layer.Name);
        if (layer is ActivatedLayer { Activation.IsSoftmax: true } && units >= 2)
            return new ModelHead(HeadKind.Softmax, units, layer.Name);
        string activation = layer is ActivatedLayer a ? a.Activation.Name : layer.ClassName;
        throw new ArgumentException(
            $"Model '{model.Name}' ends in '{layer.Name}' ({activation}, {units} unit(s)); train, evaluate and predict take a classifier ending in " +
            "one sigmoid unit (two classes) or in K ≥ 2 softmax units (K classes).");
    }

    /// <summary>Refuses data whose class count this head cannot score, saying what would fit.</summary>
    public void RequireFits(IReadOnlyList<string> classNames, string dataName)
    {
        if (classNames.Count == ClassCount) return;
        string classes = string.Join(", ", classNames.Take(12)) + (classNames.Count > 12 ? ", …" : "");
        string advice = Kind == HeadKind.Sigmoid
            ? $"for {classNames.Count} classes use a softmax head with {classNames.Count} units (e.g. --model {BuiltInModels.CustomConvnetSoftmax})"
            : $"give the last Dense layer {classNames.Count} units{(classNames.Count == 2 ? ", or one sigmoid unit" : "")}";
        throw new ArgumentException(
            $"The model's head does not fit the data: {Describe()}, but {dataName} has {classNames.Count} classes [{classes}]; {advice}.");
    }

    /// <summary>The label mode that the compiled <paramref name="loss"/> reads, for evaluating a saved model.</summary>
    public LabelMode LabelModeFor(Loss? loss) => loss switch
    {
        BinaryCrossentropy => LabelMode.Binary,
        SparseCategoricalCrossentropy => LabelMode.Int,
        CategoricalCrossentropy => LabelMode.Categorical,
        _ => LabelMode,
    };
}
