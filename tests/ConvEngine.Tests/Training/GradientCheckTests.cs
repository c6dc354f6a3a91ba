using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

/// <summary>
/// Whole-model gradients against central finite differences of the loss: every weight is nudged by ±h,
/// the loss re-evaluated in inference mode, and (L(w+h) − L(w−h)) / 2h compared with backprop's gradient.
/// h is small enough that a nudge rarely changes which cell wins a max-pool window.
/// </summary>
public class GradientCheckTests
{
    private const float H = 1e-3f;

    private static void CheckAllWeights(Model model, Batch batch)
    {
        model.ComputeGradients(batch);
        var backend = model.Backend;
        foreach (var (path, p) in model.NamedParameters)
        {
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
            }
        }
    }

    [Test]
    public void ConvPoolDense_WithSigmoidCrossEntropy_MatchesFiniteDifferences()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 11)
        {
            new InputLayer([6, 6, 2], "img"),
            new Conv2D(3, 3, padding: "same", activation: "tanh", name: "conv"),
            new MaxPool2D(name: "pool"),
            new Flatten(name: "flat"),
            new Dense(1, activation: "sigmoid", name: "out"),
        };
        model.Compile("sgd", "binary_crossentropy");
        var batch = new Batch(TestData.Uniform(3 * 72, 5), [3, 6, 6, 2], [1f, 0f, 1f], [3, 1]);
        CheckAllWeights(model, batch);
    }

    [Test]
    public void StridedConvAveragePoolSoftmax_MatchesFiniteDifferences()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 12)
        {
            new InputLayer([7, 7, 1], "img"),
            new Conv2D(2, 3, strides: 2, padding: "same", activation: "relu", name: "conv"),
            new AveragePooling2D(2, padding: "same", name: "avg"),
            new GlobalAveragePooling2D(name: "gap"),
            new Dense(3, activation: "softmax", name: "probs"),
        };
        model.Compile("sgd", "sparse_categorical_crossentropy");
        var batch = new Batch(TestData.Uniform(4 * 49, 6, 2f), [4, 7, 7, 1], [0f, 2f, 1f, 2f], [4]);
        CheckAllWeights(model, batch);
    }

    // A tensor that feeds two layers receives the sum of both gradients.
    [Test]
    public void TensorFeedingTwoLayers_SumsTheirGradients()
    {
        var input = new InputLayer([4], "x");
        var shared = new Dense(3, activation: "tanh", name: "shared").Apply(input);
        var left = new Dense(3, activation: "sigmoid", name: "left").Apply(shared);
        var right = new Dense(3, name: "right").Apply(shared);
        var joined = new SumOfTwo("join").Apply(shared, new SumOfTwo("join_lr").Apply(left, right));
        using var model = new Model(input, new Dense(2, name: "out").Apply(joined), backend: TestBackend.Instance, seed: 13);
        model.Compile("sgd", "mse");
        var batch = new Batch(TestData.Uniform(5 * 4, 7), [5, 4], TestData.Uniform(5 * 2, 8), [5, 2]);
        CheckAllWeights(model, batch);
    }

    // Conv1D runs on the 2-D kernels with a (N, 1, L, C) view; causal padding must stay causal in the backward pass too.
    [Test]
    public void CausalConv1D_Dense_MatchesFiniteDifferences()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 14)
        {
            new InputLayer([8, 2], "series"),
            new Conv1D(3, 3, padding: "causal", dilationRate: 2, activation: "tanh", name: "causal"),
            new Flatten(name: "flat"),
            new Dense(1, name: "out"),
        };
        model.Compile("sgd", "mse");
        var batch = new Batch(TestData.Uniform(2 * 16, 9), [2, 8, 2], [0.5f, -0.25f], [2, 1]);
        CheckAllWeights(model, batch);
    }

    // A model compiled on its own (its softmax fused into its loss) and then nested where it is not the output
    // must back-propagate through its softmax: the loss-from-logits choice belongs to one model's pass only.
    [Test]
    public void CompiledModel_NestedLater_BackpropagatesThroughItsSoftmax()
    {
        var innerInput = new InputLayer([3], "inner_in");
        using var inner = new Model(innerInput, new Dense(4, activation: "softmax", name: "inner_probs").Apply(innerInput), "inner", TestBackend.Instance, 15);
        inner.Compile("sgd", "categorical_crossentropy");
        using var outer = new Sequential(backend: TestBackend.Instance, seed: 16) { inner, new Dense(1, name: "after") };
        outer.Compile("sgd", "mse");
        var batch = new Batch(TestData.Uniform(4 * 3, 10, 2f), [4, 3], TestData.Uniform(4, 11), [4, 1]);
        CheckAllWeights(outer, batch);
    }
}
