using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Training;
using ConvEngine.Training;
using NUnit.Framework;
using Activation = ConvEngine.Layers.Activation;

namespace ConvEngine.Tests.Graph;

/// <summary>
/// Whole-model gradients through the graph layers against central finite differences of the training-mode loss
/// (BatchNormalization normalises with batch statistics, so the loss is re-evaluated with ComputeGradients, which
/// runs the training forward pass; TestOnBatch would use the moving statistics).
/// </summary>
public class GraphGradientTests
{
    private const float H = 1e-3f;

    /// <summary>Every trainable weight: backprop's gradient against (L(w + h) − L(w − h)) / 2h of the training loss.</summary>
    internal static void CheckTrainableWeights(Model model, Batch batch, double absolute = 2e-3, double relative = 0.03)
    {
        model.ComputeGradients(batch);
        var analytic = model.NamedParameters.Where(p => p.Parameter.Trainable)
            .Select(p => (p.Path, p.Parameter, Gradient: p.Parameter.Gradient!.ToArray())).ToList();
        Assert.That(analytic, Is.Not.Empty);
        foreach (var (path, parameter, gradient) in analytic)
        {
            float[] values = parameter.ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                float original = values[i];
                values[i] = original + H;
                parameter.Assign(values);
                double plus = model.ComputeGradients(batch);
                values[i] = original - H;
                parameter.Assign(values);
                double minus = model.ComputeGradients(batch);
                values[i] = original;
                parameter.Assign(values);
                double numeric = (plus - minus) / (2 * H);
                Assert.That(gradient[i], Is.EqualTo(numeric).Within(absolute + relative * Math.Abs(numeric)), $"{path}[{i}]");
            }
        }
    }

    /// <summary>Gives every BatchNormalization random gamma and beta, so the checks do not ride on γ = 1, β = 0.</summary>
    internal static void RandomizeBatchNorms(Model model, int seed)
    {
        model.Initialize();
        foreach (var bn in model.Layers.OfType<BatchNormalization>())
        {
            bn.Gamma?.Assign(GraphReference.Uniform(bn.Channels, seed++, 0.5f, 1.5f));
            bn.Beta?.Assign(GraphReference.Uniform(bn.Channels, seed++, -0.3f, 0.3f));
        }
    }

    /// <summary>
    /// A ResNet basic block: stem → Conv → BN → ReLU → Conv → BN → Add(stem) → ReLU → GAP → Dense(softmax).
    /// The stem's output feeds both the block and the skip.
    /// </summary>
    internal static Model ResidualBlock(IBackend backend, ulong seed)
    {
        var image = new InputLayer([5, 5, 2], "image");
        var stem = new Conv2D(3, 1, name: "stem").Apply(image);
        var a = new Conv2D(3, 3, padding: "same", name: "conv_a").Apply(stem);
        a = new BatchNormalization(name: "bn_a").Apply(a);
        a = new Activation("relu", name: "relu_a").Apply(a);
        var b = new Conv2D(3, 3, padding: "same", name: "conv_b").Apply(a);
        b = new BatchNormalization(name: "bn_b").Apply(b);
        var joined = new Add(name: "skip").Apply(b, stem);
        var activated = new Activation("relu", name: "relu_out").Apply(joined);
        var pooled = new GlobalAveragePooling2D(name: "gap").Apply(activated);
        return new Model(image, new Dense(2, activation: "softmax", name: "probs").Apply(pooled), "residual", backend, seed);
    }

    /// <summary>
    /// An inception module (TF-Slim's inception_v1 layout, keras-semantics D): 1×1; 1×1 → 3×3; 1×1 → 3×3;
    /// 3×3 max pool stride 1 → 1×1; concatenated on channels, then BN → ReLU → GAP → Dense.
    /// </summary>
    internal static Model InceptionModule(IBackend backend, ulong seed)
    {
        var image = new InputLayer([6, 6, 3], "image");
        var stem = new Conv2D(4, 1, name: "stem").Apply(image);
        var branch1 = new Conv2D(2, 1, name: "b1_1x1").Apply(stem);
        var branch2 = new Conv2D(2, 3, padding: "same", name: "b2_3x3").Apply(new Conv2D(2, 1, name: "b2_reduce").Apply(stem));
        var branch3 = new Conv2D(2, 3, padding: "same", name: "b3_3x3").Apply(new Conv2D(1, 1, name: "b3_reduce").Apply(stem));
        var branch4 = new Conv2D(2, 1, name: "b4_proj").Apply(new MaxPool2D(3, 1, padding: "same", name: "b4_pool").Apply(stem));
        var mixed = new Concatenate(name: "mixed").Apply(branch1, branch2, branch3, branch4);
        var normalized = new Activation("relu", name: "mixed_relu").Apply(new BatchNormalization(name: "mixed_bn").Apply(mixed));
        var pooled = new GlobalAveragePooling2D(name: "gap").Apply(normalized);
        return new Model(image, new Dense(3, activation: "softmax", name: "probs").Apply(pooled), "inception", backend, seed);
    }

    [Test]
    public void ResidualBlock_WithBatchNorm_MatchesFiniteDifferences()
    {
        using var model = ResidualBlock(TestBackend.Instance, 21);
        model.Compile("sgd", "sparse_categorical_crossentropy");
        RandomizeBatchNorms(model, 100);
        var batch = new Batch(GraphReference.Uniform(4 * 50, 31, -1f, 1f), [4, 5, 5, 2], [0f, 1f, 1f, 0f], [4]);
        CheckTrainableWeights(model, batch);
    }

    [Test]
    public void InceptionModule_FourBranchesConcatenated_MatchesFiniteDifferences()
    {
        using var model = InceptionModule(TestBackend.Instance, 22);
        model.Compile("sgd", "sparse_categorical_crossentropy");
        RandomizeBatchNorms(model, 200);
        var batch = new Batch(GraphReference.Uniform(3 * 108, 32, -1f, 1f), [3, 6, 6, 3], [0f, 2f, 1f], [3]);
        CheckTrainableWeights(model, batch);
    }

    // ZeroPadding2D, LRN and a Softmax layer inside the graph (not fused into the loss) back-propagate exactly.
    [Test]
    public void PaddingLrnAndInnerSoftmax_MatchFiniteDifferences()
    {
        var image = new InputLayer([4, 4, 3], "image");
        var padded = new ZeroPadding2D((1, 0), (0, 2), name: "pad").Apply(image);
        var conv = new Conv2D(5, 2, activation: "tanh", name: "conv").Apply(padded);
        var normalized = new LRN(3, alpha: 0.5f, beta: 0.75f, bias: 1f, name: "lrn").Apply(conv);
        var flat = new Flatten(name: "flat").Apply(normalized);
        var probabilities = new Softmax(name: "inner_softmax").Apply(new Dense(4, name: "scores").Apply(flat));
        using var model = new Model(image, new Dense(1, name: "out").Apply(probabilities), "padded", TestBackend.Instance, 23);
        model.Compile("sgd", "mse");
        var batch = new Batch(GraphReference.Uniform(2 * 48, 33, -1f, 1f), [2, 4, 4, 3], [0.5f, -0.3f], [2, 1]);
        CheckTrainableWeights(model, batch);
    }

    // A Softmax layer ending the model: the loss reads its logits, as with Activation("softmax").
    [Test]
    public void SoftmaxLayerOutput_WithCategoricalCrossentropy_MatchesFiniteDifferences()
    {
        var features = new InputLayer([3], "features");
        var scores = new Dense(4, name: "scores").Apply(features);
        using var model = new Model(features, new Softmax(name: "probs").Apply(scores), "classifier", TestBackend.Instance, 24);
        model.Compile("sgd", "categorical_crossentropy");
        var batch = new Batch(GraphReference.Uniform(3 * 3, 34, -2f, 2f), [3, 3], [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1], [3, 4]);
        CheckTrainableWeights(model, batch);
    }

    // A frozen BatchNormalization runs on its moving statistics: its backward pass is the fixed affine map's.
    [Test]
    public void FrozenBatchNorm_PassesTheInferenceGradient()
    {
        var image = new InputLayer([4, 4, 2], "image");
        var conv = new Conv2D(3, 3, padding: "same", name: "conv").Apply(image);
        var bn = new BatchNormalization(name: "frozen_bn") { Trainable = false };
        var flat = new Flatten(name: "flat").Apply(bn.Apply(conv));
        using var model = new Model(image, new Dense(1, name: "out").Apply(flat), "frozen", TestBackend.Instance, 25);
        model.Compile("sgd", "mse");
        bn.Gamma!.Assign(TestBackend.Instance, [1.5f, -0.7f, 0.9f]);
        bn.Beta!.Assign(TestBackend.Instance, [0.1f, 0.2f, -0.3f]);
        bn.MovingMean!.Assign(TestBackend.Instance, [0.3f, -0.2f, 0.05f]);
        bn.MovingVariance!.Assign(TestBackend.Instance, [0.5f, 2f, 1.2f]);
        var batch = new Batch(GraphReference.Uniform(2 * 32, 35, -1f, 1f), [2, 4, 4, 2], [0.4f, -0.1f], [2, 1]);
        CheckTrainableWeights(model, batch);
        Assert.That(model.NamedParameters.Where(p => p.Parameter.Trainable).Select(p => p.Path),
            Is.EqualTo(new[] { "conv/kernel", "conv/bias", "out/kernel", "out/bias" }));
    }

    // One tensor fed twice into the same Add receives the sum of both gradients: the model equals Rescaling(2).
    [Test]
    public void TensorAddedToItself_GetsTheSumOfBothGradients()
    {
        float[] GradientOfStem(Func<SymbolicTensor, SymbolicTensor> doubling)
        {
            var features = new InputLayer([3], "features");
            var stem = new Dense(4, activation: "tanh", name: "stem").Apply(features);
            using var model = new Model(features, new Dense(1, name: "out").Apply(doubling(stem)), "twice", TestBackend.Instance, 26);
            model.Compile("sgd", "mse");
            model.ComputeGradients(new Batch(GraphReference.Uniform(5 * 3, 36), [5, 3], GraphReference.Uniform(5, 37), [5, 1]));
            return ((Dense)model.GetLayer("stem")).Kernel!.Gradient!.ToArray();
        }

        float[] viaAdd = GradientOfStem(t => new Add(name: "self_sum").Apply(t, t));
        float[] viaScale = GradientOfStem(t => new Rescaling(2.0, name: "scale").Apply(t));
        Assert.That(viaAdd, Is.EqualTo(viaScale).Within(1e-6f));
        Assert.That(viaAdd.Any(g => Math.Abs(g) > 1e-3), "the gradient is not trivially zero");
    }

    // The same model and batch on cpu and on ILGPU's CPU accelerator: every gradient agrees.
    [Test]
    public void ResidualBlockGradients_CpuAndIlgpuCpu_Agree()
    {
        var batch = new Batch(GraphReference.Uniform(4 * 50, 38, -1f, 1f), [4, 5, 5, 2], [1f, 0f, 0f, 1f], [4]);
        Dictionary<string, float[]> Gradients(IBackend backend)
        {
            using var model = ResidualBlock(backend, 27);
            model.Compile("sgd", "sparse_categorical_crossentropy");
            RandomizeBatchNorms(model, 300);
            model.ComputeGradients(batch);
            return model.NamedParameters.Where(p => p.Parameter.Trainable).ToDictionary(p => p.Path, p => p.Parameter.Gradient!.ToArray());
        }

        using var cpuBackend = new CpuBackend();
        var cpu = Gradients(cpuBackend);
        using var ilgpu = Backends.Create("ilgpu-cpu");
        var other = Gradients(ilgpu);
        Assert.That(other.Keys, Is.EquivalentTo(cpu.Keys));
        foreach (var (path, expected) in cpu)
            for (int i = 0; i < expected.Length; i++)
                Assert.That(other[path][i], Is.EqualTo(expected[i]).Within(1e-5 + 1e-4 * Math.Abs(expected[i])), $"{path}[{i}]");
    }
}
