using ConvEngine.Training;

namespace ConvEngine.Data;

/// <summary>
/// Any batch source with a transform stage: each epoch's batches are read from <see cref="Source"/> and transformed on a
/// background task (<see cref="Prefetch"/>) a few batches ahead of the consumer. <see cref="ImageDatasetFromDirectory"/>
/// can instead run its transform inside its own prefetch task (<see cref="ImageDatasetOptions.Transform"/>).
/// </summary>
public sealed class TransformedBatches(IBatchSource source, IBatchTransform transform, int prefetchBatches = 2) : IBatchSource
{
    /// <summary>The batches before the transform.</summary>
    public IBatchSource Source { get; } = source;
    /// <summary>The stage applied to each batch on the prefetch task.</summary>
    public IBatchTransform Transform { get; } = transform;
    /// <inheritdoc/>
    public int BatchCount => Source.BatchCount;
    /// <inheritdoc/>
    public int SampleCount => Source.SampleCount;
    /// <summary>One sample's shape after the transform.</summary>
    public int[] SampleShape => Transform.OutputSampleShape(Source.SampleShape);

    /// <inheritdoc/>
    public IEnumerable<Batch> GetBatches(int epoch)
    {
        // Disposed after the prefetch stage (which waits for its producer), so the source's own background work ends too.
        using var batches = Source.GetBatches(epoch).GetEnumerator();
        // The producer pulls the source's batches in order on the prefetch task and transforms each there.
        var transformed = Prefetch.Run(BatchCount, (index, _) =>
        {
            if (!batches.MoveNext())
                throw new InvalidOperationException($"The batch source gave {index} batches in epoch {epoch + 1}, not the {BatchCount} it announced.");
            return Transform.Apply(batches.Current, epoch, index);
        }, Math.Max(1, prefetchBatches));
        foreach (var batch in transformed) yield return batch;
    }
}
