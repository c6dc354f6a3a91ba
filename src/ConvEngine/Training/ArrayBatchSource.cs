using ConvEngine.Kernels;

namespace ConvEngine.Training;

/// <summary>
/// Batches from host arrays (Keras's fit(x, y, batch_size, shuffle)): samples are reshuffled each epoch
/// from a seed, so the order depends only on (seed, epoch) and a resumed run sees the same batches.
/// The last batch may be smaller.
/// </summary>
public sealed class ArrayBatchSource : IBatchSource
{
    private readonly float[] _inputs;
    private readonly float[] _targets;
    private readonly int[] _targetShape;
    private readonly int _inputLength, _targetLength;

    /// <param name="sampleShape">One input sample's shape, e.g. (28, 28, 1).</param>
    /// <param name="targetShape">One target's shape, e.g. (1) for a label or (10) for one-hot; empty means one value per sample shaped (N).</param>
    public ArrayBatchSource(float[] inputs, int[] sampleShape, float[] targets, int[] targetShape, int batchSize = 32, bool shuffle = true, ulong seed = 0)
    {
        if (batchSize <= 0) throw new ArgumentException($"batch size must be positive, got {batchSize}.");
        if (sampleShape.Length == 0 || sampleShape.Any(d => d <= 0)) throw new ArgumentException($"sample shape ({string.Join(", ", sampleShape)}) must have positive dimensions.");
        _inputLength = sampleShape.Aggregate(1, (a, d) => checked(a * d));
        _targetLength = targetShape.Aggregate(1, (a, d) => checked(a * d));
        if (inputs.Length == 0 || inputs.Length % _inputLength != 0)
            throw new ArgumentException($"{inputs.Length} input values are not a whole number of samples of shape ({string.Join(", ", sampleShape)}).");
        SampleCount = inputs.Length / _inputLength;
        if (targets.Length != (long)SampleCount * _targetLength)
            throw new ArgumentException($"{targets.Length} target values do not match {SampleCount} samples of target shape ({string.Join(", ", targetShape)}).");
        _inputs = inputs;
        _targets = targets;
        SampleShape = (int[])sampleShape.Clone();
        _targetShape = (int[])targetShape.Clone();
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
    }

    public int BatchSize { get; }
    public bool Shuffle { get; }
    public ulong Seed { get; }
    public int SampleCount { get; }
    public int BatchCount => (SampleCount + BatchSize - 1) / BatchSize;
    public int[] SampleShape { get; }

    /// <summary>The sample order of an epoch: Fisher–Yates from a counter-based stream keyed by (seed, epoch).</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, SampleCount).ToArray();
        if (!Shuffle) return order;
        ulong stream = CounterRng.Hash(Seed, (ulong)epoch);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(CounterRng.Hash(stream, (ulong)i) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public IEnumerable<Batch> GetBatches(int epoch)
    {
        var order = Order(epoch);
        for (int start = 0; start < SampleCount; start += BatchSize)
        {
            int n = Math.Min(BatchSize, SampleCount - start);
            var x = new float[n * _inputLength];
            var y = new float[n * _targetLength];
            for (int i = 0; i < n; i++)
            {
                Array.Copy(_inputs, (long)order[start + i] * _inputLength, x, (long)i * _inputLength, _inputLength);
                Array.Copy(_targets, (long)order[start + i] * _targetLength, y, (long)i * _targetLength, _targetLength);
            }
            yield return new Batch(x, [n, .. SampleShape], y, [n, .. _targetShape]);
        }
    }
}
