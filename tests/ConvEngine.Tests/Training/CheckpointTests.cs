using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Serialization;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

public class CheckpointTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDir() => _dir = Path.Combine(Path.GetTempPath(), "convengine-ckpt-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void RemoveDir()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Dropout and Adam make the run depend on the RNG state and the optimizer state, both of which a resume must restore.</summary>
    private static Sequential Net() => new(backend: TestBackend.Instance, seed: 77)
    {
        new InputLayer([6, 6, 1], "img"),
        new Conv2D(3, 3, activation: "relu", name: "conv"),
        new Flatten(name: "flat"),
        new Dropout(0.3, name: "drop"),
        new Dense(1, activation: "sigmoid", name: "out"),
    };

    private static MemoryBatches Data(ulong seed) =>
        MemoryBatches.Split(TestData.Uniform(18 * 36, seed), [6, 6, 1], Enumerable.Range(0, 18).Select(i => (float)(i % 2)).ToArray(), [1], 6);

    [Test]
    public void KillAndResume_GivesTheSameEpochTwoAsAnUninterruptedRun()
    {
        History uninterrupted;
        float[] finalKernel;
        using (var model = Net())
        {
            model.Compile(new Adam(0.01), "binary_crossentropy", ["accuracy"]);
            uninterrupted = model.Fit(Data(1), Data(2), epochs: 2, checkpointDir: Path.Combine(_dir, "a"));
            finalKernel = model.GetLayer("out").Parameters[0].ToArray();
        }

        string resumeDir = Path.Combine(_dir, "b");
        var first = Net();
        first.Compile(new Adam(0.01), "binary_crossentropy", ["accuracy"]);
        first.Fit(Data(1), Data(2), epochs: 1, checkpointDir: resumeDir);
        first.Dispose();   // the "kill": nothing of the first run survives but its checkpoint

        using var resumed = Model.ResumeFit(resumeDir, Data(1), Data(2), epochs: 2, backend: TestBackend.Instance);
        var history = resumed.History!;
        Assert.That(history.Epochs, Is.EqualTo(new[] { 0, 1 }));
        foreach (var key in uninterrupted.Keys) Assert.That(history[key], Is.EqualTo(uninterrupted[key]), key);
        Assert.That(resumed.GetLayer("out").Parameters[0].ToArray(), Is.EqualTo(finalKernel));
        Assert.That(resumed.EpochsCompleted, Is.EqualTo(2));
        Assert.That(Checkpoint.FindLatest(resumeDir), Does.EndWith("epoch-0002"));
    }

    [Test]
    public void Checkpoint_HoldsModelOptimizerStateAndTrainingState()
    {
        using var model = Net();
        var adam = new Adam(0.01);
        model.Compile(adam, "binary_crossentropy");
        model.Fit(Data(1), epochs: 1, checkpointDir: _dir);
        string path = Checkpoint.FindLatest(_dir)!;
        Assert.That(Directory.GetFiles(path).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "config.json", "model.safetensors", "optimizer.safetensors", "training.json" }));
        using (var optimizerFile = SafeTensors.Open(Path.Combine(path, "optimizer.safetensors")))
        {
            Assert.That(optimizerFile.Metadata["iterations"], Is.EqualTo("3"));
            Assert.That(optimizerFile.Tensors.Select(t => t.Name), Does.Contain("m/conv/kernel").And.Contain("v/out/bias"));
            Assert.That(optimizerFile.Read("v/out/bias"), Is.EqualTo(adam.StateOf(model.GetLayer("out").Parameters[1])![1].ToArray()));
        }
        using var restored = Checkpoint.Load(path, TestBackend.Instance);
        Assert.That((restored.EpochsCompleted, restored.StepsTrained, restored.Seed, restored.Optimizer!.Iterations), Is.EqualTo((1, 3L, 77UL, 3L)));
        Assert.That(restored.History!.Loss, Is.EqualTo(model.History!.Loss));
    }

    [Test]
    public void OnlyTheNewestCheckpointsAreKept_AndTempFoldersNeverCount()
    {
        using var model = Net();
        model.Compile(new Adam(0.01), "binary_crossentropy");
        Directory.CreateDirectory(Path.Combine(_dir, ".epoch-0009.123.abc.tmp"));   // a crashed write
        model.Fit(Data(1), epochs: 4, checkpointDir: _dir, keepCheckpoints: 2);
        Assert.That(Directory.GetDirectories(_dir).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(),
            Is.EqualTo(new[] { "epoch-0003", "epoch-0004" }));
        Assert.That(Checkpoint.FindLatest(_dir), Does.EndWith("epoch-0004"));
    }

    [Test]
    public void Resume_WithoutCheckpoint_SaysWhereItLooked()
    {
        var error = Assert.Throws<FileNotFoundException>(() => Model.ResumeFit(_dir, Data(1), epochs: 2))!;
        Assert.That(error.Message, Does.Contain("No checkpoint").And.Contain(Path.GetFullPath(_dir)));
    }

    // JSON has no NaN: a diverged validation loss must still survive a checkpoint's history.
    [Test]
    public void History_RoundTripsThroughJson_IncludingNonFiniteValues()
    {
        var history = History.FromJson(System.Text.Json.Nodes.JsonNode.Parse(
            "{\"epoch\":[0,1],\"history\":{\"loss\":[0.5,0.25],\"val_loss\":[1.5,\"NaN\"]}}"));
        var again = History.FromJson(System.Text.Json.Nodes.JsonNode.Parse(history.ToJson().ToJsonString()));
        Assert.That(again.Keys, Is.EqualTo(new[] { "loss", "val_loss" }));
        Assert.That(again.Loss, Is.EqualTo(new[] { 0.5, 0.25 }));
        Assert.That(again["val_loss"][0], Is.EqualTo(1.5));
        Assert.That(double.IsNaN(again["val_loss"][1]));
    }
}
