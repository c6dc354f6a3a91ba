using ConvEngine.Data;
using ConvEngine.Data.Images;
using ConvEngine.Import.Transfer;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Cli;
using ConvEngine.Tests.Transfer;
using NUnit.Framework;

namespace ConvEngine.Tests.Augment;

/// <summary>Augmentation before a frozen base: the base runs on every batch (no feature cache), its weights stay, the head learns.</summary>
[NonParallelizable]
public class AugmentTransferTests
{
    [Test]
    public void AugmentedTransferModel_RunsTheFrozenBaseOnEveryBatchOfEveryEpoch()
    {
        using var images = new SyntheticImages();
        string data = images.TrainValid(["bright", "dark"]);
        using var cpu = new CpuBackend(threads: 2);
        var input = new InputLayer([8, 8, 3], "image");
        var counter = new CountingIdentity("counter");
        SymbolicTensor x = counter.Apply(input);
        x = new Conv2D(4, 3, activation: "relu", name: "block1_conv1").Apply(x);
        x = new GlobalAveragePooling2D("gap").Apply(x);
        var baseModel = new Model(input, x, "tiny", cpu, 3);
        baseModel.Initialize();
        var @base = new TransferBase("tiny", baseModel, pretrained: false, "random (test)");
        using var transfer = TransferModel.Create(@base, HeadSpec.Parse("dense:4"), 2, seed: 1, [new RandomFlip("horizontal"), new RandomContrast(0.5)]);
        Assert.That(transfer.HasAugmentation, Is.True);
        var before = baseModel.Parameters.Select(p => p.ToArray()).ToArray();

        ImageDatasetFromDirectory Images(string split) => new(Path.Combine(data, split), new ImageDatasetOptions
            { ImageSize = (8, 8), ColorMode = ColorMode.Rgb, LabelMode = LabelMode.Binary, BatchSize = 8, Seed = 5, Shuffle = split == "train" });
        transfer.CompileFull(1e-2);
        var history = transfer.Full.Fit(Images("train"), Images("valid"), epochs: 2);

        Assert.That(history.Count, Is.EqualTo(2));
        Assert.That(counter.SamplesSeen, Is.EqualTo(2 * (32 + 8)), "32 training and 8 validation images through the base in each of 2 epochs");
        Assert.That(baseModel.Parameters.Select(p => p.ToArray()), Is.EqualTo(before), "the frozen base did not move");
        Assert.That(transfer.Head.Parameters.Sum(p => p.Length), Is.GreaterThan(0));
    }

    [Test]
    public void AugmentationThatChangesTheSize_IsRefusedBeforeTheBase()
    {
        using var cpu = new CpuBackend(threads: 1);
        var input = new InputLayer([8, 8, 3], "image");
        var baseModel = new Model(input, new GlobalAveragePooling2D("gap").Apply(input), "flat", cpu, 3);
        var @base = new TransferBase("flat", baseModel, pretrained: false, "random (test)");
        var e = Assert.Throws<ArgumentException>(() => TransferModel.Create(@base, HeadSpec.Parse("dense:4"), 2, 1, [new RandomCrop(6, 6)]))!;
        Assert.That(e.Message, Does.Contain("(None, 6, 6, 3)").And.Contain("(None, 8, 8, 3)"));
    }

    /// <summary>After RandomWidth a convolution follows the batch's size, and global pooling gives the head one size: a step trains.</summary>
    [Test]
    public void RandomWidth_BeforeConvAndGlobalPooling_Trains()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var model = new Sequential(backend: cpu, seed: 2)
        {
            new InputLayer(8, 10, 1), new RandomWidth((0.5, 0.5)), new Conv2D(3, 3, padding: "same", activation: "relu"),
            new GlobalAveragePooling2D(), new Dense(1, activation: "sigmoid"),
        };
        model.Compile(new ConvEngine.Optimizers.Adam(), new ConvEngine.Losses.BinaryCrossentropy(), [new ConvEngine.Metrics.BinaryAccuracy()]);
        var inputs = Enumerable.Range(0, 4 * 80).Select(i => (i % 9) / 9f).ToArray();
        var logs = model.TrainOnBatch(new ConvEngine.Training.Batch(inputs, [4, 8, 10, 1], [0, 1, 0, 1], [4, 1]));
        Assert.That(double.IsFinite(logs["loss"]), Is.True);
        Assert.That(model.Predict(inputs, 4), Has.Length.EqualTo(4));
    }
}
