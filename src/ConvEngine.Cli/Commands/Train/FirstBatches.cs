using ConvEngine.Training;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// The first <see cref="BatchCount"/> batches of each epoch of another source, as Keras's steps_per_epoch and
/// validation_steps cut an epoch short (for smoke runs and quick looks at a large dataset).
/// </summary>
internal sealed class FirstBatches : IBatchSource
{
    private readonly IBatchSource _source;

    /// <param name="batchSize">The source's batch size: every batch but the last is full.</param>
    public FirstBatches(IBatchSource source, int steps, int batchSize)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"A step limit must be at least 1, got {steps}.");
        _source = source;
        BatchCount = Math.Min(steps, source.BatchCount);
        SampleCount = (int)Math.Min(source.SampleCount, (long)BatchCount * batchSize);
    }

    public int BatchCount { get; }
    public int SampleCount { get; }
    public int[] SampleShape => _source.SampleShape;

    public IEnumerable<Batch> GetBatches(int epoch) => _source.GetBatches(epoch).Take(BatchCount);
}
