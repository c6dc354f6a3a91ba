using ConvEngine.Data;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

// Keras model.fit(x, y, batch_size, shuffle=True): a fresh permutation of all samples each epoch, last batch partial.
public class ArrayBatchSourceTests
{
    private static readonly string[] Classes = ["a", "b", "c"];

    // Sample i is a 1x2 "image" (i, −i) with label i % 3.
    private static ArrayBatchSource Source(int count, LabelMode mode = LabelMode.Int, bool shuffle = true, int seed = 3, int batchSize = 4) =>
        new([.. Enumerable.Range(0, count).SelectMany(i => new float[] { i, -i })], [1, 2, 1],
            [.. Enumerable.Range(0, count).Select(i => i % 3)], Classes, mode, batchSize, shuffle, seed);

    private static List<int> Ids(ArrayBatchSource source, int epoch) =>
        [.. source.GetBatches(epoch).SelectMany(b => Enumerable.Range(0, b.Count).Select(i => (int)b.Inputs[i * 2]))];

    [Test]
    public void EveryEpoch_IsAPermutation_SeededByEpoch()
    {
        var source = Source(10);
        var e0 = Ids(source, 0);
        Assert.That(e0, Is.EquivalentTo(Enumerable.Range(0, 10)));
        Assert.That(Ids(source, 1), Is.EquivalentTo(e0).And.Not.EqualTo(e0));
        Assert.That(Ids(Source(10), 0), Is.EqualTo(e0));
        Assert.That(Ids(Source(10, shuffle: false), 7), Is.EqualTo(Enumerable.Range(0, 10)));
    }

    [Test]
    public void Batches_HaveShapesAndTargetsOfTheirSamples()
    {
        var source = Source(10, LabelMode.Categorical);
        Assert.That(source.BatchCount, Is.EqualTo(3));
        var batches = source.GetBatches(0).ToList();
        Assert.That(batches.Select(b => b.Count), Is.EqualTo(new[] { 4, 4, 2 }));
        Assert.That(batches[0].InputShape, Is.EqualTo(new[] { 4, 1, 2, 1 }));
        foreach (var b in batches)
        {
            Assert.That(b.TargetShape, Is.EqualTo(new[] { b.Count, 3 }));
            for (int i = 0; i < b.Count; i++)
            {
                int id = (int)b.Inputs[i * 2];
                Assert.That(b.Inputs[i * 2 + 1], Is.EqualTo(-id));
                var oneHot = new float[3];
                oneHot[id % 3] = 1;
                Assert.That(b.Targets.AsSpan(i * 3, 3).ToArray(), Is.EqualTo(oneHot));
            }
        }
    }

    [Test]
    public void ByteSamples_AreScaled()
    {
        var source = ArrayBatchSource.FromBytes([0, 51, 255, 102], [2], [0, 1], ["x", "y"], LabelMode.Binary, shuffle: false, scale: 1f / 255);
        var batch = source.GetBatches(0).Single();
        Assert.That(batch.Inputs, Is.EqualTo(new[] { 0f, 0.2f, 1f, 0.4f }).Within(1e-6));
        Assert.That(batch.Targets, Is.EqualTo(new[] { 0f, 1f }));
    }

    [Test]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => new ArrayBatchSource(new float[5], [2], [0, 1], Classes));
        Assert.Throws<ArgumentException>(() => new ArrayBatchSource(new float[4], [2], [0], Classes));
        Assert.Throws<ArgumentException>(() => new ArrayBatchSource(new float[4], [2], [0, 3], Classes));
        Assert.Throws<ArgumentException>(() => new ArrayBatchSource(new float[4], [2], [0, 1], Classes, LabelMode.Binary));
    }
}
