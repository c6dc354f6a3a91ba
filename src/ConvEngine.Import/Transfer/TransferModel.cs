using ConvEngine.Data;
using ConvEngine.Layers;
using ConvEngine.Losses;
using ConvEngine.Metrics;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;

namespace ConvEngine.Import.Transfer;

/// <summary>
/// Keras's transfer-learning recipe as one object: a pretrained <see cref="TransferBase"/>, frozen, and a new
/// classifier head. <see cref="Head"/> is the head alone (input: the base's features), so it can train on features
/// computed once (<see cref="FeatureCache"/>); <see cref="Full"/> is image → base → head, sharing those layers, for
/// prediction, saving, and fine-tuning with the top of the base unfrozen (<see cref="UnfreezeTop"/>).
/// </summary>
public sealed class TransferModel : IDisposable
{
    private TransferModel(TransferBase @base, HeadSpec headSpec, int classCount, Model head, Model full)
    {
        Base = @base;
        HeadSpec = headSpec;
        ClassCount = classCount;
        Head = head;
        Full = full;
    }

    /// <summary>The convolutional base, frozen.</summary>
    public TransferBase Base { get; }
    /// <summary>The head's layers, as given.</summary>
    public HeadSpec HeadSpec { get; }
    /// <summary>The number of classes the head tells apart.</summary>
    public int ClassCount { get; }
    /// <summary>The head: (base features) → class scores.</summary>
    public Model Head { get; }
    /// <summary>The whole classifier: (H, W, 3) pixels 0–255 → class scores; its layers are the base's and the head's.</summary>
    public Model Full { get; }

    /// <summary>Two classes: one sigmoid unit (binary labels); more: softmax over class indices.</summary>
    public LabelMode LabelMode => ClassCount == 2 ? LabelMode.Binary : LabelMode.Int;
    /// <summary>The loss for <see cref="ClassCount"/> classes: binary cross-entropy for two, sparse categorical cross-entropy for more.</summary>
    public Loss CreateLoss() => ClassCount == 2 ? new BinaryCrossentropy() : new SparseCategoricalCrossentropy();
    /// <summary>The accuracy metric that goes with <see cref="CreateLoss"/>.</summary>
    public Metric CreateAccuracy() => ClassCount == 2 ? new BinaryAccuracy() : new SparseCategoricalAccuracy();

    /// <summary>Builds the head on <paramref name="base"/> for <paramref name="classCount"/> classes and freezes the base.</summary>
    /// <param name="augmentation">Preprocessing layers (RandomFlip, RandomContrast …) between the image and the base, as the course
    /// places them: active in training only, so <see cref="HasAugmentation"/> models train on images, never on cached features.
    /// Their output must be the base's input.</param>
    /// <param name="base">The base; its layers are frozen.</param>
    /// <param name="headSpec">The head's layers.</param>
    /// <param name="classCount">Two or more classes.</param>
    /// <param name="seed">Seed of the head's initialisation.</param>
    public static TransferModel Create(TransferBase @base, HeadSpec headSpec, int classCount, ulong seed, IReadOnlyList<Layer>? augmentation = null)
    {
        var backend = @base.Model.Backend;
        var featuresInput = new InputLayer(@base.FeatureShape, "features");
        var head = new Model(featuresInput, headSpec.Apply(featuresInput, classCount), "head", backend, seed);
        var image = new InputLayer([.. @base.Model.InputShape], "image");
        SymbolicTensor x = image;
        foreach (var layer in augmentation ?? []) x = layer.Apply(x);
        if (!x.Shape.SequenceEqual(@base.Model.InputShape))
            throw new ArgumentException($"The augmentation before base '{@base.Name}' turns its {SymbolicTensor.FormatShape(@base.Model.InputShape)} images into " +
                $"{x.ShapeText}; the base takes {SymbolicTensor.FormatShape(@base.Model.InputShape)}: leave out the layers that change the size.");
        var full = new Model(image, head.Apply(@base.Model.Apply(x)), $"{@base.Name}_transfer", backend, seed);
        @base.Model.Trainable = false;
        return new TransferModel(@base, headSpec, classCount, head, full) { Augmentation = augmentation ?? [] };
    }

    /// <summary>The preprocessing layers between the image and the base (none by default).</summary>
    public IReadOnlyList<Layer> Augmentation { get; private init; } = [];

    /// <summary>Whether something random comes before the base: then its input changes every step and features cannot be cached.</summary>
    public bool HasAugmentation => Augmentation.OfType<RandomPreprocessingLayer>().Any();

    /// <summary>Compiles the head (Adam at <paramref name="learningRate"/>, the loss and accuracy for the class count).</summary>
    public void CompileHead(double learningRate) => Head.Compile(new Adam(learningRate), CreateLoss(), [CreateAccuracy()]);

    /// <summary>Compiles the whole model (after <see cref="UnfreezeTop"/>, for fine-tuning at a low rate; or to save it).</summary>
    public void CompileFull(double learningRate) => Full.Compile(new Adam(learningRate), CreateLoss(), [CreateAccuracy()]);

    /// <summary>
    /// Trains the head on cached features (the base does not run). Features are shuffled every epoch from
    /// <paramref name="seed"/>; <paramref name="validation"/> is evaluated after each epoch.
    /// </summary>
    public History TrainHead(FeatureSet train, FeatureSet? validation, int epochs, int batchSize, int seed,
        IEnumerable<Callback>? callbacks = null, string? checkpointDirectory = null, CancellationToken cancellationToken = default)
    {
        if (!Head.IsCompiled) throw new InvalidOperationException("TrainHead: compile the head first (CompileHead).");
        return Head.Fit(train.ToBatchSource(LabelMode, batchSize, shuffle: true, seed),
            validation?.ToBatchSource(LabelMode, batchSize, shuffle: false, seed), epochs, callbacks, checkpointDirectory,
            cancellationToken: cancellationToken);
    }

    /// <summary>Unfreezes the top <paramref name="blocks"/> blocks of the base (see <see cref="ModelBlocks"/>); the rest stays frozen.</summary>
    public IReadOnlyList<ModelBlock> UnfreezeTop(int blocks) => ModelBlocks.UnfreezeTop(Base.Model, blocks);

    /// <summary>Frees the tensors of the whole classifier (base and head).</summary>
    public void Dispose() => Full.Dispose();
}
