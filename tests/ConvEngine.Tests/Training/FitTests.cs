using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

public class FitTests
{
    private static MemoryBatches SeparableBatches(int count, ulong seed, int batchSize)
    {
        var (x, y) = TestData.SeparablePoints(count, seed);
        return MemoryBatches.Split(x, [2], y, [1], batchSize);
    }

    /// <summary>6×6 images with a bright vertical bar: in the left half for class 1, the right half for class 0.</summary>
    private static MemoryBatches BarImages(int count, ulong seed, int batchSize)
    {
        var noise = TestData.Uniform(count * 36, seed, 0.1f);
        var labels = new float[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            int column = (i % 2 == 1 ? 0 : 3) + (int)(CounterRng(seed, i) * 3);
            for (int row = 0; row < 6; row++) noise[i * 36 + row * 6 + column] += 1f;
        }
        return MemoryBatches.Split(noise, [6, 6, 1], labels, [1], batchSize);
    }

    private static float CounterRng(ulong seed, int i) => ConvEngine.Kernels.CounterRng.Uniform(seed + 99, (ulong)i);

    [Test]
    public void LogisticRegression_OnSeparablePoints_LossFallsAndAccuracyRises()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 2) { new InputLayer(2), new Dense(1, activation: "sigmoid") };
        model.Compile(new Adam(0.1), "binary_crossentropy", ["accuracy"]);
        var history = model.Fit(SeparableBatches(64, 3, 16), epochs: 15);
        Assert.That(history.Keys, Is.EqualTo(new[] { "loss", "accuracy" }));
        Assert.That(history.Epochs, Is.EqualTo(Enumerable.Range(0, 15)));
        Assert.That(history.Loss[^1], Is.LessThan(0.5 * history.Loss[0]));
        Assert.That(history["accuracy"][^1], Is.GreaterThanOrEqualTo(0.95));
        Assert.That(model.Metrics.Single(), Is.InstanceOf<Metrics.BinaryAccuracy>());
    }

    [Test]
    public void SmallConvnet_OnBarImages_LearnsWithValidation()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 4)
        {
            new InputLayer(6, 6, 1),
            new Conv2D(4, 3, padding: "same", activation: "relu"),
            new MaxPool2D(),
            new Flatten(),
            new Dense(1, activation: "sigmoid"),
        };
        model.Compile(new Adam(0.02), "binary_crossentropy", ["binary_accuracy"]);
        var history = model.Fit(BarImages(48, 1, 12), BarImages(16, 2, 8), epochs: 12);
        Assert.That(history.Keys, Is.EqualTo(new[] { "loss", "binary_accuracy", "val_loss", "val_binary_accuracy" }));
        Assert.That(history.Loss[^1], Is.LessThan(0.5 * history.Loss[0]));
        Assert.That(history["val_binary_accuracy"][^1], Is.EqualTo(1.0));
        var evaluation = model.Evaluate(BarImages(16, 2, 8));
        Assert.That(evaluation["loss"], Is.EqualTo(history["val_loss"][^1]).Within(1e-12));
    }

    // Keras averages batch losses weighted by batch size: batches of 3 and 1 samples with losses a and b give (3a + b)/4.
    [Test]
    public void EpochLoss_IsBatchLossesWeightedBySize()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(2), new Dense(1, name: "lin") };
        model.Compile(new Sgd(1e-9), "mse");
        var data = SeparableBatches(4, 5, 3);
        var perBatch = data.GetBatches(0).Select(b => (b.Count, Loss: model.TestOnBatch(b)["loss"])).ToList();
        var history = model.Fit(data, epochs: 1);
        Assert.That(perBatch.Select(b => b.Count), Is.EqualTo(new[] { 3, 1 }));
        Assert.That(history.Loss[0], Is.EqualTo((3 * perBatch[0].Loss + perBatch[1].Loss) / 4).Within(1e-6));
    }

    private static Sequential DropoutNet(ulong seed) => new(backend: TestBackend.Instance, seed: seed)
    {
        new InputLayer(6, 6, 1),
        new Conv2D(3, 3, activation: "relu"),
        new Flatten(),
        new Dropout(0.3),
        new Dense(4, activation: "tanh"),
        new Dense(1, activation: "sigmoid"),
    };

    [Test]
    public void SameSeed_GivesIdenticalHistory_OtherSeedDoesNot()
    {
        History Run(ulong seed)
        {
            using var model = DropoutNet(seed);
            model.Compile(new Adam(0.01), "binary_crossentropy", ["accuracy"]);
            return model.Fit(BarImages(24, 1, 8), BarImages(8, 2, 8), epochs: 3);
        }
        var a = Run(21);
        var b = Run(21);
        var c = Run(22);
        foreach (var key in a.Keys) Assert.That(b[key], Is.EqualTo(a[key]), key);
        Assert.That(c.Loss, Is.Not.EqualTo(a.Loss));
    }

    [Test]
    public void FrozenLayer_GetsNoUpdate_NoGradient_NoOptimizerState()
    {
        var frozen = new Dense(4, activation: "tanh", name: "frozen");
        using var model = new Sequential(backend: TestBackend.Instance, seed: 3) { new InputLayer(2), frozen, new Dense(1, activation: "sigmoid", name: "head") };
        frozen.Trainable = false;
        var adam = new Adam(0.05);
        model.Compile(adam, "binary_crossentropy");
        var before = frozen.Parameters.Select(p => p.ToArray()).ToList();
        var headBefore = model.GetLayer("head").Parameters[0].ToArray();
        model.Fit(SeparableBatches(32, 4, 8), epochs: 2);

        for (int i = 0; i < before.Count; i++) Assert.That(frozen.Parameters[i].ToArray(), Is.EqualTo(before[i]));
        Assert.That(frozen.Parameters.Select(adam.HasState), Is.All.False);
        Assert.That(frozen.Parameters.Select(p => p.Gradient), Is.All.Null);
        Assert.That(model.GetLayer("head").Parameters.Select(adam.HasState), Is.All.True);
        Assert.That(model.GetLayer("head").Parameters[0].ToArray(), Is.Not.EqualTo(headBefore));
        Assert.That(adam.Iterations, Is.EqualTo(8));
    }

    [Test]
    public void NonFiniteLoss_StopsTraining_NamingEpochAndStep()
    {
        // x = 1, t = 0, w = 1: step 1 has loss 1 and gradient 2, so SGD with lr 1e30 sets w ≈ −2e30,
        // and step 2's squared error overflows float32 to +∞.
        var dense = new Dense(1, name: "lin");
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(1), dense };
        model.Compile(new Sgd(1e30), "mse");
        dense.Kernel!.Assign(TestBackend.Instance, [1f]);
        var batch = new Batch([1f], [1, 1], [0f], [1, 1]);
        var error = Assert.Throws<TrainingDivergedException>(() => model.Fit(new MemoryBatches([batch, batch, batch]), epochs: 3))!;
        Assert.That((error.Epoch, error.Step), Is.EqualTo((1, 2)));
        Assert.That(error.Message, Does.Contain("epoch 1, step 2 of 3"));
        Assert.That(error.LastCheckpoint, Is.Null);
    }

    [Test]
    public void NonFiniteLoss_AfterACheckpoint_NamesTheLastCheckpoint()
    {
        string dir = Path.Combine(Path.GetTempPath(), "convengine-nan-" + Guid.NewGuid().ToString("N"));
        try
        {
            var dense = new Dense(1, name: "lin");
            using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(1), dense };
            var sgd = new Sgd(0.01);
            model.Compile(sgd, "mse");
            dense.Kernel!.Assign(TestBackend.Instance, [1f]);
            var batch = new Batch([1f], [1, 1], [0f], [1, 1]);
            var raiseRate = new LambdaCallback { EpochEnd = (_, _) => sgd.LearningRate = 1e30 };
            var error = Assert.Throws<TrainingDivergedException>(() =>
                model.Fit(new MemoryBatches([batch, batch]), epochs: 3, callbacks: [raiseRate], checkpointDir: dir))!;
            Assert.That((error.Epoch, error.Step), Is.EqualTo((2, 2)));
            Assert.That(error.LastCheckpoint, Is.EqualTo(Path.Combine(Path.GetFullPath(dir), "epoch-0001")));
            Assert.That(error.Message, Does.Contain(error.LastCheckpoint));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void BinaryCrossentropy_WithTenUnits_AndOneLabelPerSample_IsAClearError()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(2), new Dense(10, activation: "sigmoid", name: "wide") };
        model.Compile("adam", "binary_crossentropy");
        var error = Assert.Throws<ShapeException>(() => model.Fit(SeparableBatches(8, 1, 4)))!;
        Assert.That(error.Message, Does.Contain("binary_crossentropy").And.Contain("'wide' outputs (None, 10)").And.Contain("(4, 1)"));
    }

    [Test]
    public void DataOfAnotherSampleShape_FailsBeforeTraining_NamingBothShapes()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer([3], "three"), new Dense(1, activation: "sigmoid") };
        model.Compile("adam", "binary_crossentropy");
        var error = Assert.Throws<ShapeException>(() => model.Fit(SeparableBatches(8, 1, 4)))!;
        Assert.That(error.Message, Does.Contain("samples have shape (2)").And.Contain("expects (None, 3)").And.Contain("'three'"));
        Assert.That(model.StepsTrained, Is.EqualTo(0));
    }

    [Test]
    public void CategoricalLoss_OnOneUnit_FailsAtCompile()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(2), new Dense(1, activation: "sigmoid", name: "one") };
        var error = Assert.Throws<ShapeException>(() => model.Compile("adam", "sparse_categorical_crossentropy"))!;
        Assert.That(error.Message, Does.Contain("'one' outputs (None, 1)").And.Contain("binary_crossentropy"));
    }

    // keras-semantics.md A: with a sigmoid output Keras computes BCE from the logits z, max(z,0) − z·t + log(1 + e^−|z|), unclipped.
    [Test]
    public void SigmoidOutput_BinaryCrossentropy_IsComputedFromLogits()
    {
        var dense = new Dense(1, activation: "sigmoid", name: "out");
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(1), dense };
        model.Compile("sgd", "binary_crossentropy");
        dense.Kernel!.Assign(TestBackend.Instance, [1f]);
        // z = 30: sigmoid(z) rounds to 1 in float32, so the clipped form would give −log(1e−7) ≈ 16.1 for t = 0; the logit form gives ≈ 30.
        var loss = model.TestOnBatch(new Batch([30f], [1, 1], [0f], [1, 1]))["loss"];
        Assert.That(loss, Is.EqualTo(30 + Math.Log(1 + Math.Exp(-30))).Within(1e-4));
    }

    [Test]
    public void LinearOutput_BinaryCrossentropy_ClipsProbabilities()
    {
        var dense = new Dense(1, name: "out");
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(1), dense };
        model.Compile("sgd", "binary_crossentropy");
        dense.Kernel!.Assign(TestBackend.Instance, [1f]);
        // Keras (backend.binary_crossentropy) clips p = 2 in float32 to 1 − 1e−7, which rounds to 0.99999988, then adds
        // ε again inside the log: t = 0 costs −log(1 − 0.99999988 + 1e−7) = −log(2.19e−7) ≈ 15.33.
        var loss = model.TestOnBatch(new Batch([2f], [1, 1], [0f], [1, 1]))["loss"];
        double clipped = (float)(1 - 1e-7);
        Assert.That(loss, Is.EqualTo(-Math.Log(1 - clipped + 1e-7)).Within(1e-3));
    }

    // keras-semantics.md A: binary_accuracy counts y_pred > 0.5 strictly.
    [Test]
    public void BinaryAccuracy_IsStrictlyAboveHalf()
    {
        var metric = new Metrics.BinaryAccuracy();
        Assert.That(metric.SumOverRows([0.5f, 0.5000001f, 0.2f, 0.9f], [1f, 1f, 0f, 0f], 4, 1), Is.EqualTo(2));
        Assert.That(new Metrics.SparseCategoricalAccuracy().SumOverRows([0.2f, 0.2f, 0.6f, 0.5f, 0.5f, 0f], [2f, 0f], 2, 3), Is.EqualTo(2),
            "arg-max ties go to the first index");
    }

    [Test]
    public void Callbacks_SeeParamsBatchesAndEpochLogs_AndCanStopTraining()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(2), new Dense(1, activation: "sigmoid") };
        model.Compile("adam", "binary_crossentropy", ["accuracy"]);
        var events = new List<string>();
        TrainingParams? seen = null;
        var callback = new LambdaCallback
        {
            TrainBegin = p => seen = p,
            EpochBegin = e => events.Add($"begin {e}"),
            TrainBatchEnd = (b, logs) => events.Add($"batch {b} {string.Join(",", logs.Keys)}"),
            EpochEnd = (e, logs) =>
            {
                events.Add($"end {e} {string.Join(",", logs.Keys)}");
                if (e == 1) model.StopTraining = true;
            },
        };
        var history = model.Fit(SeparableBatches(8, 1, 4), SeparableBatches(4, 2, 4), epochs: 5, callbacks: [callback]);
        Assert.That(seen, Is.EqualTo(new TrainingParams(5, 0, 2, 8, true)));
        Assert.That(events, Is.EqualTo(new[]
        {
            "begin 0", "batch 0 loss,accuracy", "batch 1 loss,accuracy", "end 0 loss,accuracy,val_loss,val_accuracy",
            "begin 1", "batch 0 loss,accuracy", "batch 1 loss,accuracy", "end 1 loss,accuracy,val_loss,val_accuracy",
        }));
        Assert.That(history.Count, Is.EqualTo(2));
    }

    [Test]
    public void Predict_ReturnsProbabilities_ForEverySample()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 1) { new InputLayer(2), new Dense(3, activation: "softmax") };
        model.Compile("adam", "categorical_crossentropy");
        var y = model.Predict(TestData.Uniform(5 * 2, 1), batchSize: 2);
        Assert.That(y.Length, Is.EqualTo(15));
        for (int i = 0; i < 5; i++) Assert.That(y.Skip(3 * i).Take(3).Sum(), Is.EqualTo(1f).Within(1e-5));
    }

    // keras-semantics.md A: Dropout is inverted (kept units × 1/(1−rate)) and active only in training.
    [Test]
    public void Dropout_ScalesKeptUnitsInTraining_PassesThroughAtInference()
    {
        var input = new InputLayer([1000], "x");
        var dropout = new Dropout(0.25, name: "drop");
        using var model = new Model(input, dropout.Apply(input), backend: TestBackend.Instance, seed: 5);
        model.Compile("sgd", "mse");
        var ones = Enumerable.Repeat(1f, 1000).ToArray();
        Assert.That(model.Predict(ones), Is.All.EqualTo(1f));
        // In training the loss against a target of ones is mean((mask − 1)²): kept units give (1/0.75 − 1)², dropped ones 1.
        double loss = model.ComputeGradients(new Batch(ones, [1, 1000], ones, [1, 1000]));
        double keptFraction = (1 - loss) / (1 - Math.Pow(1 / 0.75 - 1, 2));
        Assert.That(keptFraction, Is.EqualTo(0.75).Within(0.05));
    }
}
