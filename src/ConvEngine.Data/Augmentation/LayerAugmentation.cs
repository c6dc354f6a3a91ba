using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Training;

namespace ConvEngine.Data;

/// <summary>
/// Augmentation in the input pipeline (the ImageDataGenerator route, or Keras's <c>dataset.map(augment)</c>): Keras
/// preprocessing layers run on each batch on the host's cpu backend, on the dataset's prefetch task. A training stage
/// draws from (seed, epoch, batch index); a validation stage runs the layers as at inference (RandomCrop resizes,
/// Resizing and CenterCrop apply, the other Random* layers pass the images through).
/// </summary>
public sealed class LayerAugmentation : IBatchTransform, IDisposable
{
    private readonly AugmentationPipeline _pipeline;
    private readonly IBackend _backend;
    private readonly Lock _gate = new();

    /// <summary>Builds the stage's pipeline on a cpu backend of its own.</summary>
    /// <param name="layers">Preprocessing layers, not yet applied to anything.</param>
    /// <param name="sampleShape">One image's (H, W, C) as the dataset gives it.</param>
    /// <param name="seed">Seed of the random draws, combined with each batch's epoch and index.</param>
    /// <param name="training">Draw (true) or run as at inference (false, for validation data).</param>
    /// <param name="threads">Threads of the stage's own cpu backend; default 1, leaving the other cores to training.</param>
    public LayerAugmentation(IEnumerable<Layer> layers, int[] sampleShape, ulong seed, bool training = true, int threads = 1)
    {
        _backend = new CpuBackend(threads);
        _pipeline = new AugmentationPipeline(layers, sampleShape, _backend);
        Seed = seed;
        Training = training;
    }

    /// <summary>Seed of the random draws; each batch draws from (seed, epoch, batch index).</summary>
    public ulong Seed { get; }
    /// <summary>Whether the random layers draw (training) or run as at inference (validation).</summary>
    public bool Training { get; }
    /// <summary>The preprocessing layers, in the order they run.</summary>
    public IReadOnlyList<Layer> Layers => _pipeline.Layers;

    /// <inheritdoc/>
    public int[] OutputSampleShape(int[] sampleShape)
    {
        if (!sampleShape.SequenceEqual(_pipeline.InputShape))
            throw new ArgumentException($"Augmentation stage: built for images ({string.Join(", ", _pipeline.InputShape)}), given ({string.Join(", ", sampleShape)}).");
        return _pipeline.OutputShape;
    }

    /// <inheritdoc/>
    public Batch Apply(Batch batch, int epoch, int batchIndex)
    {
        ulong seed = CounterRng.Hash(CounterRng.Hash(Seed, (ulong)epoch), (ulong)batchIndex);
        lock (_gate)
        {
            var (images, shape) = _pipeline.Run(batch.Inputs, batch.Count, Training, seed);
            return batch with { Inputs = images, InputShape = shape };
        }
    }

    /// <summary>Frees the pipeline's tensors and the stage's cpu backend.</summary>
    public void Dispose()
    {
        _pipeline.Dispose();
        _backend.Dispose();
    }
}
