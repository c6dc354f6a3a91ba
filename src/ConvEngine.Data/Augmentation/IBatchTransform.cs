using ConvEngine.Training;

namespace ConvEngine.Data;

/// <summary>
/// A transform stage of a dataset (Keras's <c>dataset.map</c>): applied to each batch on the dataset's prefetch task,
/// ahead of the training step, so it overlaps training. It must be a pure function of (batch, epoch, batch index)
/// and its own seed, so that a run gives the same batches whatever the thread timing.
/// </summary>
public interface IBatchTransform
{
    /// <summary>One sample's shape after the transform, for samples of <paramref name="sampleShape"/>.</summary>
    int[] OutputSampleShape(int[] sampleShape);

    /// <summary>The transformed batch: new inputs, the same targets.</summary>
    Batch Apply(Batch batch, int epoch, int batchIndex);
}
