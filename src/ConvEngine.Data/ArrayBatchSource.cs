using ConvEngine.Training;

namespace ConvEngine.Data;

/// <summary>
/// Batches from in-memory arrays, as Keras' <c>model.fit(x, y, batch_size, shuffle=True)</c> draws them: every epoch
/// a fresh permutation of all samples (from the seed and the epoch), cut into batches, the last one possibly smaller.
/// Samples are stored as floats, or as bytes converted (times <see cref="Scale"/>) while a batch is built.
/// </summary>
public sealed class ArrayBatchSource : IBatchSource
{
    private readonly float[]? floatSamples;
    private readonly byte[]? byteSamples;
    private readonly int[]? labels;
    private readonly int sampleSize, targetWidth;

    /// <summary>Batches of float samples (N × sample shape, row-major) with class indices <paramref name="labels"/> (null for label mode none).</summary>
    public ArrayBatchSource(float[] samples, int[] sampleShape, int[]? labels, IReadOnlyList<string> classNames,
                            LabelMode labelMode = LabelMode.Int, int batchSize = 32, bool shuffle = true, int seed = 0)
        : this(samples.Length, sampleShape, labels, classNames, labelMode, batchSize, shuffle, seed, 1f)
    {
        floatSamples = samples;
    }

    private ArrayBatchSource(byte[] samples, int[] sampleShape, int[]? labels, IReadOnlyList<string> classNames,
                             LabelMode labelMode, int batchSize, bool shuffle, int seed, float scale)
        : this(samples.Length, sampleShape, labels, classNames, labelMode, batchSize, shuffle, seed, scale)
    {
        byteSamples = samples;
    }

    private ArrayBatchSource(int length, int[] sampleShape, int[]? labels, IReadOnlyList<string> classNames,
                             LabelMode labelMode, int batchSize, bool shuffle, int seed, float scale)
    {
        if (sampleShape.Length == 0 || sampleShape.Any(d => d < 1))
            throw new ArgumentException($"ArrayBatchSource: sample shape ({string.Join(", ", sampleShape)}) must have positive dimensions.");
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"ArrayBatchSource: batch size must be at least 1, got {batchSize}.");
        sampleSize = sampleShape.Aggregate(1, (a, b) => checked(a * b));
        if (length % sampleSize != 0)
            throw new ArgumentException($"ArrayBatchSource: {length} values are not a whole number of samples of shape ({string.Join(", ", sampleShape)}).");
        SampleCount = length / sampleSize;
        LabelEncoding.Validate(labelMode, classNames, "ArrayBatchSource");
        if (labelMode != LabelMode.None)
        {
            if (labels is null || labels.Length != SampleCount)
                throw new ArgumentException($"ArrayBatchSource: {labels?.Length ?? 0} labels for {SampleCount} samples.");
            int bad = Array.FindIndex(labels, l => (uint)l >= (uint)classNames.Count);
            if (bad >= 0)
                throw new ArgumentException($"ArrayBatchSource: label {labels[bad]} of sample {bad} is not a class index in [0, {classNames.Count}).");
        }
        this.labels = labels;
        SampleShape = [.. sampleShape];
        ClassNames = classNames;
        LabelMode = labelMode;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        Scale = scale;
        targetWidth = LabelEncoding.Width(labelMode, classNames.Count);
    }

    /// <summary>Batches of byte samples, each value multiplied by <paramref name="scale"/> as a batch is built (1 keeps [0, 255]).</summary>
    public static ArrayBatchSource FromBytes(byte[] samples, int[] sampleShape, int[]? labels, IReadOnlyList<string> classNames,
                                             LabelMode labelMode = LabelMode.Int, int batchSize = 32, bool shuffle = true,
                                             int seed = 0, float scale = 1f) =>
        new(samples, sampleShape, labels, classNames, labelMode, batchSize, shuffle, seed, scale);

    /// <summary>Class names in label order (empty when the samples have no labels).</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>How the labels become targets (int, categorical, binary or none).</summary>
    public LabelMode LabelMode { get; }
    /// <summary>Samples per batch; the last batch of an epoch may hold fewer.</summary>
    public int BatchSize { get; }
    /// <summary>Whether each epoch visits the samples in a fresh seeded permutation (else in stored order).</summary>
    public bool Shuffle { get; }
    /// <summary>Seed of the per-epoch permutations.</summary>
    public int Seed { get; }
    /// <summary>Factor applied to byte samples (1 for float samples).</summary>
    public float Scale { get; }
    /// <inheritdoc/>
    public int SampleCount { get; }
    /// <inheritdoc/>
    public int BatchCount => (SampleCount + BatchSize - 1) / BatchSize;
    /// <inheritdoc/>
    public int[] SampleShape { get; }

    /// <summary>The order in which <paramref name="epoch"/> visits the samples.</summary>
    public int[] SampleOrder(int epoch) =>
        Shuffle ? SeededShuffle.Permutation(SampleCount, SeededShuffle.EpochSeed((ulong)Seed, epoch)) : SeededShuffle.Identity(SampleCount);

    /// <inheritdoc/>
    public IEnumerable<Batch> GetBatches(int epoch)
    {
        var order = SampleOrder(epoch);
        for (int start = 0; start < SampleCount; start += BatchSize)
        {
            int count = Math.Min(BatchSize, SampleCount - start);
            var inputs = new float[count * sampleSize];
            var batchLabels = new int[labels is null ? 0 : count];
            for (int k = 0; k < count; k++)
            {
                int sample = order[start + k];
                var destination = inputs.AsSpan(k * sampleSize, sampleSize);
                if (floatSamples is not null)
                    floatSamples.AsSpan(sample * sampleSize, sampleSize).CopyTo(destination);
                else
                {
                    var source = byteSamples.AsSpan(sample * sampleSize, sampleSize);
                    for (int i = 0; i < sampleSize; i++)
                        destination[i] = source[i] * Scale;
                }
                if (labels is not null)
                    batchLabels[k] = labels[sample];
            }
            var targets = new float[count * targetWidth];
            if (LabelMode != LabelMode.None)
                LabelEncoding.Encode(batchLabels, LabelMode, ClassNames.Count, targets);
            yield return new Batch(inputs, [count, .. SampleShape], targets, [count, targetWidth]);
        }
    }
}
