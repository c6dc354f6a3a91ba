using ConvEngine.Data;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Tests.Data;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Augment;

/// <summary>Augmentation as a dataset stage (the ImageDataGenerator route): on the prefetch task, seeded per epoch and batch.</summary>
public class PipelineAugmentationTests
{
    /// <summary>A transform that records the thread it ran on and flips every image left-right, so its effect is visible.</summary>
    private sealed class ThreadRecordingFlip(int[] sampleShape) : IBatchTransform
    {
        public HashSet<int> Threads { get; } = [];
        public int[] OutputSampleShape(int[] shape) => shape;
        public Batch Apply(Batch batch, int epoch, int batchIndex)
        {
            lock (Threads) Threads.Add(Environment.CurrentManagedThreadId);
            int h = sampleShape[0], w = sampleShape[1], c = sampleShape[2];
            var flipped = new float[batch.Inputs.Length];
            for (int i = 0; i < flipped.Length; i++)
            {
                int k = i % c, x = i / c % w, rest = i / c / w;
                flipped[i] = batch.Inputs[(rest * w + (w - 1 - x)) * c + k];
            }
            return batch with { Inputs = flipped };
        }
    }

    private static TempImageTree Tree()
    {
        var tree = new TempImageTree();
        for (int i = 0; i < 10; i++)
            tree.Rgb($"a/{i}.png", 4, 5, (y, x) => ((byte)(x * 40 + i), (byte)(y * 50), 7));
        for (int i = 0; i < 6; i++)
            tree.Rgb($"b/{i}.png", 4, 5, (y, x) => ((byte)(200 - x * 30), (byte)i, (byte)(y * 20)));
        return tree;
    }

    [Test]
    public void DatasetTransform_RunsOnThePrefetchTask_AfterDecoding()
    {
        using var tree = Tree();
        var plain = new ImageDatasetFromDirectory(tree.Root, new ImageDatasetOptions { ImageSize = (4, 5), BatchSize = 4, Seed = 3 });
        var transform = new ThreadRecordingFlip([4, 5, 3]);
        var flipped = new ImageDatasetFromDirectory(tree.Root, new ImageDatasetOptions { ImageSize = (4, 5), BatchSize = 4, Seed = 3, Transform = transform });
        var expected = plain.GetBatches(0).ToList();
        var got = flipped.GetBatches(0).ToList();
        Assert.That(got, Has.Count.EqualTo(expected.Count));
        for (int b = 0; b < got.Count; b++)
        {
            Assert.That(got[b].Targets, Is.EqualTo(expected[b].Targets));
            Assert.That(got[b].Inputs, Is.EqualTo(new ThreadRecordingFlip([4, 5, 3]).Apply(expected[b], 0, b).Inputs));
        }
        Assert.That(transform.Threads, Does.Not.Contain(Environment.CurrentManagedThreadId), "the stage runs on the prefetch task, not the consumer's thread");
    }

    [Test]
    public void LayerAugmentation_IsSeededPerEpochAndBatch_AndValidationRunsAsAtInference()
    {
        using var tree = Tree();
        ImageDatasetFromDirectory Dataset(IBatchTransform transform) =>
            new(tree.Root, new ImageDatasetOptions { ImageSize = (4, 5), BatchSize = 4, Seed = 3, Transform = transform });
        using var first = new LayerAugmentation([new RandomFlip(), new RandomContrast(0.5), new RandomCrop(3, 4)], [4, 5, 3], seed: 9);
        using var second = new LayerAugmentation([new RandomFlip(), new RandomContrast(0.5), new RandomCrop(3, 4)], [4, 5, 3], seed: 9);
        using var validation = new LayerAugmentation([new RandomFlip(), new RandomContrast(0.5), new RandomCrop(3, 4)], [4, 5, 3], seed: 9, training: false);
        var a = Dataset(first);
        Assert.That(a.SampleShape, Is.EqualTo(new[] { 3, 4, 3 }), "the dataset announces the crop's shape");
        var epoch0 = a.GetBatches(0).Select(b => b.Inputs).ToList();
        Assert.That(Dataset(second).GetBatches(0).Select(b => b.Inputs), Is.EqualTo(epoch0), "same seed, same batches");
        Assert.That(a.GetBatches(1).Select(b => b.Inputs), Is.Not.EqualTo(epoch0), "another epoch draws again");

        // At inference RandomFlip and RandomContrast pass the images through and RandomCrop resizes (smart_resize, bilinear).
        var plain = new ImageDatasetFromDirectory(tree.Root, new ImageDatasetOptions { ImageSize = (4, 5), BatchSize = 4, Seed = 3 }).GetBatches(0).ToList();
        var valid = Dataset(validation).GetBatches(0).ToList();
        using var cpu = new CpuBackend(1);
        for (int b = 0; b < plain.Count; b++)
        {
            int n = plain[b].Count;
            using var images = Tensor.FromArray(cpu, plain[b].Inputs, n, 4, 5, 3);
            using var expected = Ops.SmartResize(images, 3, 4);
            Assert.That(valid[b].Inputs, Is.EqualTo(expected.ToArray()));
        }
    }

    [Test]
    public void TransformedBatches_WrapsAnySource()
    {
        var samples = Enumerable.Range(0, 6 * 2 * 3).Select(i => (float)i).ToArray();
        var source = new ArrayBatchSource(samples, [2, 3, 1], [0, 1, 0, 1, 0, 1], ["a", "b"], batchSize: 4, shuffle: false);
        var transform = new ThreadRecordingFlip([2, 3, 1]);
        var wrapped = new TransformedBatches(source, transform);
        var batches = wrapped.GetBatches(0).ToList();
        Assert.That(batches.Select(b => b.Count), Is.EqualTo(new[] { 4, 2 }));
        Assert.That(batches[0].Inputs.Take(3), Is.EqualTo(new float[] { 2, 1, 0 }));
        Assert.That(transform.Threads, Does.Not.Contain(Environment.CurrentManagedThreadId));
    }
}
