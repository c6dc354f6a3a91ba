using ConvEngine.Kernels;
using ConvEngine.Models;

namespace ConvEngine.Layers;

/// <summary>
/// Preprocessing layers run on their own, outside a model: as a dataset's transform stage (augmentation in the input
/// pipeline, Keras's <c>dataset.map(lambda x, y: (augment(x, training=True), y))</c>) or to look at what they do
/// (`convengine augment`). The layers are applied in order to batches of <see cref="InputShape"/> images on
/// <see cref="Backend"/>; each run is seeded, and draws as a model's training step with that seed would.
/// Not thread-safe: one caller at a time (a dataset's prefetch task).
/// </summary>
public sealed class AugmentationPipeline : IDisposable
{
    private readonly Sequential _model;

    /// <param name="layers">Preprocessing layers not yet applied to anything.</param>
    /// <param name="sampleShape">One image's (H, W, C).</param>
    /// <param name="backend">The backend the layers run on.</param>
    public AugmentationPipeline(IEnumerable<Layer> layers, int[] sampleShape, IBackend backend)
    {
        var list = layers.ToList();
        if (list.Count == 0) throw new ArgumentException("An augmentation pipeline needs at least one layer.");
        if (list.FirstOrDefault(l => l is not ImagePreprocessingLayer and not Rescaling) is { } other)
            throw new ArgumentException($"An augmentation pipeline takes preprocessing layers; {other.ClassName} '{other.Name}' is not one.");
        Backend = backend;
        _model = new Sequential(name: "augmentation", backend: backend, seed: 0) { new InputLayer(sampleShape) };
        foreach (var layer in list) _model.Add(layer);
        Layers = list;
    }

    /// <summary>The backend the layers run on.</summary>
    public IBackend Backend { get; }
    /// <summary>The preprocessing layers, in the order they run.</summary>
    public IReadOnlyList<Layer> Layers { get; }
    /// <summary>One image's shape in.</summary>
    public int[] InputShape => _model.InputShape;
    /// <summary>One image's shape out at inference (RandomWidth and RandomHeight change it in training).</summary>
    public int[] OutputShape => _model.OutputShape;
    /// <summary>Whether any layer draws at random (and so acts only in training).</summary>
    public bool IsRandom => Layers.Any(l => l is RandomPreprocessingLayer);

    /// <summary>
    /// Runs the layers on a batch (N, H, W, C) on <see cref="Backend"/>: in training mode with draws from <paramref name="seed"/>,
    /// else as at inference. The result is a buffer of the last layer's, valid until the next run.
    /// </summary>
    public Tensor Run(Tensor images, bool training, ulong seed)
    {
        if (!ReferenceEquals(images.Backend, Backend))
            throw new ArgumentException($"Augmentation pipeline: the images live on backend '{images.Backend.Name}' but the pipeline runs on '{Backend.Name}'.");
        if (images.Shape.Rank != 4 || !images.Shape.Dims[1..].SequenceEqual(InputShape))
            throw new Kernels.Geometry.ShapeException(
                $"Augmentation pipeline: takes images {SymbolicTensor.FormatShape(InputShape)}, got a batch of shape {images.Shape}.");
        return _model.RunGraph(images, new ForwardContext(training, seed));
    }

    /// <summary>Runs the layers on host images (N, H, W, C) row-major; returns the output and its shape.</summary>
    public (float[] Images, int[] Shape) Run(float[] images, int count, bool training, ulong seed)
    {
        using var batch = Tensor.FromArray(Backend, images, [count, .. InputShape]);
        var output = Run(batch, training, seed);
        return (output.ToArray(), output.Shape.ToArray());
    }

    /// <summary>Frees the layers' tensors.</summary>
    public void Dispose() => _model.Dispose();
}
