using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Training;
using ConvEngine.Training;
using NUnit.Framework;
using Activation = ConvEngine.Layers.Activation;

namespace ConvEngine.Tests.Graph;

/// <summary>BatchNormalization over training steps: moving statistics, freezing (Keras ≥ 2.1), and folding into a conv.</summary>
public class BatchNormTrainingTests
{
    private static Batch RandomBatch(int[] shape, int seed, float low, float high) =>
        new(GraphReference.Uniform(shape.Aggregate(1, (a, d) => a * d), seed, low, high), shape, GraphReference.Uniform(shape[0], seed + 1000), [shape[0], 1]);

    /// <summary>
    /// Keras: moving = momentum·moving + (1 − momentum)·batch, starting from mean 0, variance 1. For a 4-D input
    /// the batch variance is TensorFlow's fused one, n/(n − 1) times the biased variance (n = N·H·W).
    /// </summary>
    private static (double[] Mean, double[] Variance) ExpectedMovingStatistics(IEnumerable<Batch> batches, int channels, double momentum, bool bessel)
    {
        var mean = new double[channels];
        var variance = Enumerable.Repeat(1.0, channels).ToArray();
        foreach (var batch in batches)
        {
            var (batchMean, batchVariance) = GraphReference.Moments(batch.Inputs, channels);
            int n = batch.Inputs.Length / channels;
            double correction = bessel ? n / (n - 1.0) : 1.0;
            for (int c = 0; c < channels; c++)
            {
                mean[c] = momentum * mean[c] + (1 - momentum) * batchMean[c];
                variance[c] = momentum * variance[c] + (1 - momentum) * batchVariance[c] * correction;
            }
        }
        return (mean, variance);
    }

    [Test]
    public void MovingStatistics_AfterTrainingSteps_MatchDoublePrecision_Images()
    {
        var image = new InputLayer([3, 3, 2], "image");
        var bn = new BatchNormalization(momentum: 0.9, name: "bn");
        var flat = new Flatten(name: "flat").Apply(bn.Apply(image));
        using var model = new Model(image, new Dense(1, name: "out").Apply(flat), backend: TestBackend.Instance, seed: 1);
        model.Compile("adam", "mse");
        // Offsets well away from the initial moving mean 0 / variance 1, so each step moves them visibly.
        var batches = Enumerable.Range(0, 4).Select(i => RandomBatch([4, 3, 3, 2], 10 + i, -1f + i, 3f + 2 * i)).ToList();
        foreach (var batch in batches) model.TrainOnBatch(batch);

        var (mean, variance) = ExpectedMovingStatistics(batches, 2, 0.9, bessel: true);
        Assert.That(bn.MovingMean!.ToArray(), Is.EqualTo(mean).Within(1e-5), "moving_mean");
        Assert.That(bn.MovingVariance!.ToArray(), Is.EqualTo(variance).Within(1e-5), "moving_variance");
    }

    // For a 2-D input Keras does not use the fused kernel: tf.nn.moments' biased variance feeds the moving average.
    [Test]
    public void MovingStatistics_AfterTrainingSteps_MatchDoublePrecision_Features()
    {
        var features = new InputLayer([3], "features");
        var bn = new BatchNormalization(name: "bn");
        using var model = new Model(features, new Dense(1, name: "out").Apply(bn.Apply(features)), backend: TestBackend.Instance, seed: 2);
        model.Compile("sgd", "mse");
        var batches = Enumerable.Range(0, 3).Select(i => RandomBatch([5, 3], 20 + i, 2f, 6f)).ToList();
        foreach (var batch in batches) model.TrainOnBatch(batch);

        var (mean, variance) = ExpectedMovingStatistics(batches, 3, 0.99, bessel: false);
        Assert.That(bn.MovingMean!.ToArray(), Is.EqualTo(mean).Within(1e-6), "moving_mean");
        Assert.That(bn.MovingVariance!.ToArray(), Is.EqualTo(variance).Within(1e-6), "moving_variance");
    }

    // Evaluation and prediction run in inference mode: they never touch the moving statistics.
    [Test]
    public void Inference_LeavesTheMovingStatisticsAlone()
    {
        var features = new InputLayer([2], "features");
        var bn = new BatchNormalization(name: "bn");
        using var model = new Model(features, bn.Apply(features), backend: TestBackend.Instance, seed: 3);
        model.Compile("sgd", "mse");
        var batch = RandomBatch([4, 2], 30, 5f, 9f) with { Targets = new float[8], TargetShape = [4, 2] };
        model.TestOnBatch(batch);
        model.Predict(batch.Inputs);
        Assert.That(bn.MovingMean!.ToArray(), Is.EqualTo(new[] { 0f, 0f }));
        Assert.That(bn.MovingVariance!.ToArray(), Is.EqualTo(new[] { 1f, 1f }));
    }

    // Keras ≥ 2.1: trainable = False on a BatchNormalization freezes gamma and beta and makes it run in inference
    // mode, so training neither uses batch statistics nor updates the moving ones.
    [Test]
    public void FrozenLayer_RunsInInferenceMode_AndUpdatesNothing()
    {
        var image = new InputLayer([2, 2, 3], "image");
        var bn = new BatchNormalization(name: "bn");
        var flat = new Flatten(name: "flat").Apply(bn.Apply(image));
        using var model = new Model(image, new Dense(1, name: "out").Apply(flat), backend: TestBackend.Instance, seed: 4);
        model.Compile("adam", "mse");
        bn.Gamma!.Assign([1.5f, 0.5f, -1f]);
        bn.Beta!.Assign([0.2f, 0f, -0.1f]);
        bn.MovingMean!.Assign([1f, 2f, 3f]);
        bn.MovingVariance!.Assign([0.5f, 4f, 2f]);
        bn.Trainable = false;
        Assert.That(model.NonTrainableParameterCount, Is.EqualTo(12));

        var batch = RandomBatch([3, 2, 2, 3], 40, 0f, 5f);
        var before = bn.Parameters.ToDictionary(p => p.Name, p => p.ToArray());
        double inferenceLoss = model.TestOnBatch(batch)["loss"];
        double trainingLoss = model.TrainOnBatch(batch)["loss"];
        model.TrainOnBatch(batch);

        Assert.That(trainingLoss, Is.EqualTo(inferenceLoss).Within(1e-6 * inferenceLoss), "the training pass used the moving statistics");
        foreach (var p in bn.Parameters) Assert.That(p.ToArray(), Is.EqualTo(before[p.Name]), p.Name);
        Assert.That(bn.Gamma.Gradient, Is.Null);
    }

    // model.trainable = False freezes every weight of every layer inside, BatchNormalization's moving statistics included.
    [Test]
    public void FrozenSubModel_KeepsAllItsWeights_WhileTheHeadTrains()
    {
        var baseInput = new InputLayer([4, 4, 2], "base_input");
        var x = new Conv2D(3, 3, padding: "same", name: "base_conv").Apply(baseInput);
        x = new BatchNormalization(name: "base_bn").Apply(x);
        x = new Activation("relu", name: "base_relu").Apply(x);
        var baseModel = new Model(baseInput, x, "base", TestBackend.Instance, 5);
        using var model = new Sequential(backend: TestBackend.Instance, seed: 6) { baseModel, new GlobalAveragePooling2D(name: "gap"), new Dense(1, name: "head") };
        baseModel.Trainable = false;
        model.Compile("adam", "mse");
        Assert.That(model.NonTrainableParameterCount, Is.EqualTo((3 * 3 * 2 + 1) * 3 + 4 * 3));

        var baseBefore = baseModel.NamedParameters.ToDictionary(p => p.Path, p => p.Parameter.ToArray());
        float[] headBefore = ((Dense)model.GetLayer("head")).Kernel!.ToArray();
        for (int step = 0; step < 3; step++) model.TrainOnBatch(RandomBatch([2, 4, 4, 2], 50 + step, 1f, 4f));

        foreach (var (path, p) in baseModel.NamedParameters) Assert.That(p.ToArray(), Is.EqualTo(baseBefore[path]), path);
        Assert.That(((Dense)model.GetLayer("head")).Kernel!.ToArray(), Is.Not.EqualTo(headBefore), "the head trains");
    }

    // BatchNormalization after a conv folds into it for inference: kernel·s and β + (bias − mean)·s, s = γ/√(var+ε).
    [Test]
    public void FoldedIntoConv_PredictsTheSame()
    {
        var image = new InputLayer([5, 5, 2], "image");
        var conv = new Conv2D(3, 3, padding: "same", name: "conv");
        var bn = new BatchNormalization(epsilon: 0.01, name: "bn");
        using var model = new Model(image, bn.Apply(conv.Apply(image)), backend: TestBackend.Instance, seed: 7);
        model.Initialize();
        conv.Bias!.Assign([0.3f, -0.2f, 0.1f]);
        bn.Gamma!.Assign([1.2f, -0.8f, 0.5f]);
        bn.Beta!.Assign([0.05f, 0.4f, -0.6f]);
        bn.MovingMean!.Assign([0.2f, -0.1f, 0.7f]);
        bn.MovingVariance!.Assign([0.3f, 1.7f, 0.9f]);

        var (kernel, bias) = bn.FoldedConvolutionWeights(conv);
        var image2 = new InputLayer([5, 5, 2], "image2");
        var folded = new Conv2D(3, 3, padding: "same", name: "folded");
        using var foldedModel = new Model(image2, folded.Apply(image2), backend: TestBackend.Instance, seed: 8);
        foldedModel.Initialize();
        folded.Kernel!.Assign(kernel);
        folded.Bias!.Assign(bias);

        float[] x = GraphReference.Uniform(2 * 50, 60, -2f, 2f);
        Assert.That(foldedModel.Predict(x), Is.EqualTo(model.Predict(x)).Within(1e-5f));
    }

    // keras-semantics.md D (TF-Slim inception_v1: conv without bias, BN without gamma): w' = w/√(var+ε), b' = β − mean/√(var+ε).
    [Test]
    public void FoldedIntoConv_NoGammaNoBias_IsTheInceptionForm()
    {
        var image = new InputLayer([1, 1, 1], "image");
        var conv = new Conv2D(2, 1, useBias: false, name: "conv");
        var bn = new BatchNormalization(scale: false, name: "bn");
        using var model = new Model(image, bn.Apply(conv.Apply(image)), backend: TestBackend.Instance, seed: 9);
        model.Initialize();
        conv.Kernel!.Assign([2f, -1f]);
        bn.Beta!.Assign([0.1f, 0.2f]);
        bn.MovingMean!.Assign([0.5f, -1f]);
        bn.MovingVariance!.Assign([3f, 0.999f]);
        var (kernel, bias) = bn.FoldedConvolutionWeights(conv);
        // √(3 + 0.001) = 1.732339…, √(0.999 + 0.001) = 1.
        Assert.That(kernel, Is.EqualTo(new[] { 2 / Math.Sqrt(3.001), -1.0 }).Within(1e-6));
        Assert.That(bias, Is.EqualTo(new[] { 0.1 - 0.5 / Math.Sqrt(3.001), 0.2 + 1.0 }).Within(1e-6));
    }

    [Test]
    public void FoldingIntoAConvWithActivation_IsRefused()
    {
        var image = new InputLayer([3, 3, 1], "image");
        var conv = new Conv2D(2, 1, activation: "relu", name: "conv_relu");
        var bn = new BatchNormalization(name: "bn");
        using var model = new Model(image, bn.Apply(conv.Apply(image)), backend: TestBackend.Instance, seed: 10);
        model.Initialize();
        var e = Assert.Throws<InvalidOperationException>(() => bn.FoldedConvolutionWeights(conv));
        Assert.That(e!.Message, Does.Contain("'bn'").And.Contain("'conv_relu'").And.Contain("relu"));
    }
}
