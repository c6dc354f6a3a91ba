using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

/// <summary>
/// The model's backward pass hands a pool the activation backward and bias gradient of the layer it pools (one fused
/// kernel) only when that layer's output feeds nothing else; these models take each path, and every trainable weight's
/// gradient is checked against central finite differences of the loss. (A nudge of h can move a max-pool window's
/// winner when two cells are within about h·|x| of each other; the seeds here leave every winner where it is.)
/// </summary>
public class FusedBackwardGraphTests
{
    private const float H = 1e-3f;

    private static void CheckTrainableWeights(Model model, Batch batch)
    {
        model.ComputeGradients(batch);
        var backend = model.Backend;
        int checkedWeights = 0;
        foreach (var (path, p) in model.NamedParameters)
        {
            if (!p.Trainable) continue;
            var analytic = p.Gradient!.ToArray();
            var values = p.ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                float original = values[i];
                values[i] = original + H;
                p.Assign(backend, values);
                double plus = model.TestOnBatch(batch)["loss"];
                values[i] = original - H;
                p.Assign(backend, values);
                double minus = model.TestOnBatch(batch)["loss"];
                values[i] = original;
                p.Assign(backend, values);
                double numeric = (plus - minus) / (2 * H);
                Assert.That(analytic[i], Is.EqualTo(numeric).Within(2e-3 + 0.03 * Math.Abs(numeric)), $"{path}[{i}]");
                checkedWeights++;
            }
        }
        Assert.That(checkedWeights, Is.GreaterThan(0));
    }

    // Two conv → relu → max-pool blocks (both fused) and a relu Dense (activation and bias gradient in one pass).
    [Test]
    public void TwoConvReluPoolBlocks_MatchFiniteDifferences()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 21)
        {
            new InputLayer([8, 7, 2], "img"),
            new Conv2D(3, 3, padding: "same", activation: "relu", name: "conv_a"),
            new MaxPool2D(padding: "same", name: "pool_a"),
            new Conv2D(4, 3, padding: "same", activation: "relu", name: "conv_b"),
            new MaxPool2D(name: "pool_b"),
            new Flatten(name: "flat"),
            new Dense(5, activation: "relu", name: "hidden"),
            new Dense(1, activation: "sigmoid", name: "out"),
        };
        model.Compile("sgd", "binary_crossentropy");
        var batch = new Batch(TestData.Uniform(3 * 112, 21), [3, 8, 7, 2], [1f, 0f, 1f], [3, 1]);
        CheckTrainableWeights(model, batch);
    }

    // The conv's output feeds a max pool and an average pool: the fused kernel must not run, the two gradients add.
    [Test]
    public void ConvFeedingTwoPools_IsNotFused_AndSumsBothGradients()
    {
        var input = new InputLayer([6, 6, 2], "img");
        var conv = new Conv2D(3, 3, padding: "same", activation: "relu", name: "conv").Apply(input);
        var joined = new SumOfTwo("join").Apply(new MaxPool2D(name: "max").Apply(conv), new AveragePooling2D(name: "avg").Apply(conv));
        var output = new Dense(2, name: "out").Apply(new Flatten(name: "flat").Apply(joined));
        using var model = new Model(input, output, backend: TestBackend.Instance, seed: 2);
        model.Compile("sgd", "mse");
        var batch = new Batch(TestData.Uniform(2 * 72, 2), [2, 6, 6, 2], TestData.Uniform(4, 11), [2, 2]);
        CheckTrainableWeights(model, batch);
    }

    // A frozen conv under a pool: the fused kernel gets no bias buffer, yet the gradient still flows to the conv below.
    [Test]
    public void FrozenConvUnderPool_PassesGradientDown()
    {
        var frozen = new Conv2D(3, 3, padding: "same", activation: "relu", name: "frozen") { Trainable = false };
        using var model = new Sequential(backend: TestBackend.Instance, seed: 23)
        {
            new InputLayer([6, 6, 1], "img"),
            new Conv2D(2, 3, padding: "same", activation: "tanh", name: "first"),
            frozen,
            new MaxPool2D(name: "pool"),
            new Flatten(name: "flat"),
            new Dense(1, name: "out"),
        };
        model.Compile("sgd", "mse");
        var batch = new Batch(TestData.Uniform(2 * 36, 24), [2, 6, 6, 1], [0.3f, -0.6f], [2, 1]);
        CheckTrainableWeights(model, batch);
        Assert.That(frozen.Kernel!.Gradient, Is.Null, "a frozen layer keeps no gradient");
    }
}
