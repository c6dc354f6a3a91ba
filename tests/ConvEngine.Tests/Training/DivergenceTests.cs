using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Serialization;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

/// <summary>
/// A loss, gradient or weight that turns NaN or infinite stops Fit at that step, naming the epoch, the step and the
/// layer, before the update is applied and before any checkpoint holds it: the last checkpoint stays finite and is the
/// resume point.
/// </summary>
public class DivergenceTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = Directory.CreateTempSubdirectory("convengine-divergence-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static MemoryBatches Images(int batches, ulong seed)
    {
        var list = new List<Batch>();
        for (int b = 0; b < batches; b++)
        {
            var x = TestData.Uniform(4 * 6 * 6, seed + (ulong)b).Select(v => v * 100f).ToArray();
            list.Add(new Batch(x, [4, 6, 6, 1], [0f, 1f, 1f, 0f], [4, 1]));
        }
        return new MemoryBatches(list);
    }

    [Test]
    public void DivergingLearningRate_StopsAtTheStep_NamesTheLayer_AndTheLastCheckpointStaysFinite()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 5)
        {
            new InputLayer(6, 6, 1), new Conv2D(3, 3, activation: "relu", name: "conv"), new Flatten(), new Dense(1, activation: "sigmoid", name: "head"),
        };
        var sgd = new Sgd(0.001);
        model.Compile(sgd, "binary_crossentropy");
        // A sane first epoch, then a rate that sends the weights to infinity within a few steps.
        var diverge = new LambdaCallback { EpochEnd = (epoch, _) => sgd.LearningRate = 1e35 };
        var error = Assert.Throws<TrainingDivergedException>(() => model.Fit(Images(6, 11), epochs: 4, callbacks: [diverge], checkpointDir: _dir))!;

        Assert.That(error.Epoch, Is.EqualTo(2), error.Message);
        Assert.That(error.Step, Is.InRange(1, 6));
        Assert.That(error.Layer, Is.AnyOf("conv", "head", "flatten"), error.Message);
        Assert.That(error.Message, Does.Contain($"epoch 2, step {error.Step} of 6").And.Contain($"layer '{error.Layer}'"));
        string latest = Checkpoint.FindLatest(_dir)!;
        Assert.That(error.LastCheckpoint, Is.EqualTo(latest).And.EndsWith(Checkpoint.FolderName(1)), "nothing was checkpointed after the divergence");
        using var restored = Checkpoint.Load(latest, TestBackend.Instance);
        foreach (var (name, parameter) in restored.NamedParameters)
            Assert.That(parameter.ToArray(), Has.All.Matches<float>(float.IsFinite), $"checkpointed weight {name}");
        // The resume point trains on with a sane rate.
        restored.Optimizer!.LearningRate = 0.001;
        Assert.DoesNotThrow(() => restored.Fit(Images(6, 11), epochs: 2, initialEpoch: restored.EpochsCompleted, checkpointDir: _dir));
    }

    [Test]
    public void InfiniteGradientUnderAFiniteLoss_IsRefusedBeforeTheUpdate_NamingTheWeight()
    {
        // x = 1e20 through w1 = 1e-30 and w2 = 1e25 into a sigmoid: the loss (softplus of 1e15) is finite, but
        // d(loss)/d(w1) = x · w2 · σ'(…) ≈ 1e45 overflows float32. Keras would apply it; the weights would become ±∞.
        var first = new Dense(1, useBias: false, name: "first");
        var second = new Dense(1, activation: "sigmoid", useBias: false, name: "second");
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(1), first, second };
        model.Compile(new Sgd(0.01), "binary_crossentropy");
        first.Kernel!.Assign(TestBackend.Instance, [1e-30f]);
        second.Kernel!.Assign(TestBackend.Instance, [1e25f]);
        var batch = new Batch([1e20f], [1, 1], [0f], [1, 1]);

        var error = Assert.Throws<TrainingDivergedException>(() => model.Fit(new MemoryBatches([batch]), epochs: 1))!;
        Assert.That((error.Epoch, error.Step, error.Layer), Is.EqualTo((1, 1, "first")));
        Assert.That(error.Message, Does.Contain("gradient of weight 'first/kernel'"));
        Assert.That(first.Kernel.ToArray(), Is.EqualTo(new[] { 1e-30f }), "the update was not applied");
        Assert.That(model.StepsTrained, Is.Zero);
    }

    [Test]
    public void NanInTheInputs_IsReportedAsTheInputBatch()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer([2], "pixels"), new Dense(1, activation: "sigmoid", name: "head") };
        model.Compile("adam", "binary_crossentropy");
        var batch = new Batch([0.5f, float.NaN], [1, 2], [1f], [1, 1]);
        var error = Assert.Throws<TrainingDivergedException>(() => model.Fit(new MemoryBatches([batch]), epochs: 1))!;
        Assert.That(error.Message, Does.Contain("input batch holds NaN"));
        Assert.That(error.Layer, Is.EqualTo("pixels"));
    }
}
