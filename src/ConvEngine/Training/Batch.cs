namespace ConvEngine.Training;

/// <summary>One batch on the host: inputs (N, ...) and targets (N, ...) as flat row-major floats.</summary>
/// <param name="Targets">Labels as the loss expects them: class index (int label mode), 0/1 (binary) or one-hot (categorical).</param>
/// <param name="Inputs">The samples, row-major.</param>
/// <param name="InputShape">Their shape, batch first.</param>
/// <param name="TargetShape">The targets' shape, batch first.</param>
public sealed record Batch(float[] Inputs, int[] InputShape, float[] Targets, int[] TargetShape)
{
    /// <summary>The number of samples.</summary>
    public int Count => InputShape[0];
}

/// <summary>A dataset that yields batches epoch by epoch (shuffling may depend on the epoch).</summary>
public interface IBatchSource
{
    /// <summary>Batches per epoch.</summary>
    int BatchCount { get; }
    /// <summary>Samples per epoch.</summary>
    int SampleCount { get; }
    /// <summary>The shape of one sample, e.g. (H, W, C).</summary>
    int[] SampleShape { get; }
    /// <summary>The batches of <paramref name="epoch"/> (counted from 0), in the order that epoch visits them.</summary>
    IEnumerable<Batch> GetBatches(int epoch);
}
