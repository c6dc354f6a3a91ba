namespace ConvEngine.Benchmarks.Training;

/// <summary>One layer of a benchmarked net, in Keras terms; both engines build their layers from the same list.</summary>
public abstract record LayerSpec;

/// <summary>Conv2D, stride 1, SAME padding, bias, ReLU.</summary>
public sealed record ConvSpec(int Filters, int Kernel) : LayerSpec;

/// <summary>MaxPool2D 2x2, stride 2, VALID (Keras's default; odd sizes round down).</summary>
public sealed record PoolSpec : LayerSpec;

public sealed record FlattenSpec : LayerSpec;

/// <summary>Dense with bias; Activation is "relu", or "softmax"/"sigmoid" on the output layer (fused into the loss on both sides).</summary>
public sealed record DenseSpec(int Units, string Activation) : LayerSpec;

public sealed record DropoutSpec(double Rate) : LayerSpec;

/// <summary>The loss a net trains with; the output layer's activation goes with it.</summary>
public enum TrainingLoss
{
    /// <summary>Softmax output, class-index targets (Keras sparse_categorical_crossentropy; torch CrossEntropyLoss on logits).</summary>
    SparseCategoricalCrossentropy,
    /// <summary>Sigmoid output of one unit, 0/1 targets (Keras binary_crossentropy, fused to logits; torch BCEWithLogitsLoss).</summary>
    BinaryCrossentropy,
}

/// <summary>A net of the training benchmark: input (H, W, C), layers, loss, batch size.</summary>
public sealed record TrainingNet(string Id, string Title, int Height, int Width, int Channels,
    IReadOnlyList<LayerSpec> Layers, TrainingLoss Loss, int BatchSize = 64)
{
    public const double LearningRate = 1e-3;
    // Keras 2's Adam defaults; TorchSharp's own defaults differ (beta2 0.99, eps 1e-8), so both sides are given these.
    public const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-7;

    /// <summary>The Fashion-MNIST net of the training issue: 28x28x1, three conv/pool stages, Dense 128, Dropout 0.5, softmax over 10.</summary>
    public static TrainingNet FashionMnist { get; } = new("fashion-mnist", "Fashion-MNIST convnet, 28x28x1, 10 classes",
        28, 28, 1,
        [new ConvSpec(32, 5), new PoolSpec(), new ConvSpec(64, 3), new PoolSpec(), new ConvSpec(128, 3), new PoolSpec(),
         new FlattenSpec(), new DenseSpec(128, "relu"), new DropoutSpec(0.5), new DenseSpec(10, "softmax")],
        TrainingLoss.SparseCategoricalCrossentropy);

    /// <summary>The course's custom convnet: 128x128x3, three conv/pool stages, Dense 6 relu, one sigmoid unit.</summary>
    public static TrainingNet Custom128 { get; } = new("custom-128", "Course custom convnet, 128x128x3, binary",
        128, 128, 3,
        [new ConvSpec(32, 5), new PoolSpec(), new ConvSpec(64, 3), new PoolSpec(), new ConvSpec(128, 3), new PoolSpec(),
         new FlattenSpec(), new DenseSpec(6, "relu"), new DenseSpec(1, "sigmoid")],
        TrainingLoss.BinaryCrossentropy);

    public static IReadOnlyList<TrainingNet> All { get; } = [FashionMnist, Custom128];

    /// <summary>
    /// A net small enough for ILGPU's CPU accelerator to take a few steps in seconds (--compare-backends --small, the
    /// GPU script's proof run): 16x16x1, two conv/pool stages, softmax over 10, batch 8. Not one of the benchmarked nets.
    /// </summary>
    public static TrainingNet Small { get; } = new("small", "Small convnet, 16x16x1, 10 classes", 16, 16, 1,
        [new ConvSpec(8, 3), new PoolSpec(), new ConvSpec(16, 3), new PoolSpec(), new FlattenSpec(), new DenseSpec(10, "softmax")],
        TrainingLoss.SparseCategoricalCrossentropy, BatchSize: 8);

    /// <summary>Finds a net by id ("fashion-mnist", "custom-128") or by the brief's letter ("a", "b").</summary>
    public static TrainingNet Find(string name) => name switch
    {
        "a" => FashionMnist,
        "b" => Custom128,
        "small" => Small,
        _ => All.FirstOrDefault(n => n.Id == name)
             ?? throw new ArgumentException($"Unknown training net '{name}'; use one of: a, b, {string.Join(", ", All.Select(n => n.Id))}."),
    };

    /// <summary>Values in one sample: H·W·C.</summary>
    public int SampleLength => Height * Width * Channels;

    /// <summary>Output units: classes for softmax, 1 for sigmoid.</summary>
    public int OutputUnits => Layers.OfType<DenseSpec>().Last().Units;

    // BenchmarkDotNet shows parameters by ToString.
    public override string ToString() => Id;
}
