using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using ConvEngine.Tests.Graph;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Training;
using ConvEngine.Training;
using NUnit.Framework;
using Activation = ConvEngine.Layers.Activation;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// The keras.applications layers trained: a block made of all of them (MobileNet's asymmetric pad, ReLU6 and
/// depthwise conv, EfficientNet's Normalization, per-channel Rescaling, swish and squeeze-and-excite, Xception's separable conv, InceptionV3's
/// BatchNormalization without scale, cropping, reshape, global max pooling) back-propagates to every weight as
/// finite differences of the training loss say, the same on cpu and on ILGPU's CPU accelerator, and its engine
/// config rebuilds the same model.
/// </summary>
public class ApplicationGradientTests
{
    /// <param name="maxPool">GlobalMaxPooling2D at the end, else GlobalAveragePooling2D: the finite-difference check uses
    /// the average, since a max whose two best positions are within a step of each other has no derivative there.</param>
    internal static Model ApplicationsBlock(IBackend backend, ulong seed, bool maxPool = true)
    {
        var image = new InputLayer([6, 6, 2], "image");
        var x = new ZeroPadding2D((1, 0), (0, 1), name: "pad").Apply(image);                       // (7, 7, 2)
        x = new Conv2D(4, 3, useBias: false, name: "stem").Apply(x);                                // (5, 5, 4)
        x = new Normalization(name: "norm").Apply(x);                                                // EfficientNet's input layers,
        x = new Rescaling([0.5, 2.0, 1.5, -1.0], [0.1, 0.0, 0.0, 0.2], name: "per_channel").Apply(x);  // here after a weight
        x = new BatchNormalization(scale: false, name: "stem_bn").Apply(x);
        x = new ReLU(6.0, name: "stem_relu6").Apply(x);
        x = new DepthwiseConv2D(3, strides: 2, padding: "same", depthMultiplier: 2, name: "dw").Apply(x);   // (3, 3, 8)
        x = new BatchNormalization(center: false, name: "dw_bn").Apply(x);
        x = new Activation("swish", name: "dw_swish").Apply(x);
        var se = new GlobalAveragePooling2D("se_squeeze").Apply(x);
        se = new Reshape([1, 1, 8], name: "se_reshape").Apply(se);
        se = new Conv2D(2, 1, activation: "swish", name: "se_reduce").Apply(se);
        se = new Conv2D(8, 1, activation: "hard_sigmoid", name: "se_expand").Apply(se);
        x = new Multiply(name: "se_excite").Apply(x, se);
        x = new SeparableConv2D(5, 3, padding: "same", depthMultiplier: 2, activation: "gelu", name: "sep").Apply(x);   // (3, 3, 5)
        var skip = new DepthwiseConv2D(1, activation: "elu", name: "skip").Apply(x);
        x = new Multiply(name: "product").Apply(x, skip);
        x = new Cropping2D((1, 0), (0, 1), name: "crop").Apply(x);                                 // (2, 2, 5)
        x = new Reshape([1, 4, 5], name: "row").Apply(x);
        var pooled = maxPool ? new GlobalMaxPooling2D("gmp").Apply(x) : new GlobalAveragePooling2D("gap").Apply(x);   // (5)
        // Smooth (or C¹: softsign) activations here: fc's zero bias puts its pre-activations near 0, where a kink
        // (selu's, relu's) would spoil the bias's central difference. The kinked ones are checked in ActivationKernelTests.
        var features = new Activation("softplus", name: "soft").Apply(new Dense(4, activation: "softsign", name: "fc").Apply(pooled));
        return new Model(image, new Dense(3, activation: "softmax", name: "probs").Apply(features), "applications_block", backend, seed);
    }

    /// <summary>Random BatchNormalization gammas and betas, and Normalization statistics other than 0 and 1.</summary>
    private static void Randomize(Model model, int seed)
    {
        GraphGradientTests.RandomizeBatchNorms(model, seed);
        var norm = (Normalization)model.GetLayer("norm");
        norm.Mean!.Assign(GraphReference.Uniform(4, seed + 50, -0.5f, 0.5f));
        norm.Variance!.Assign(GraphReference.Uniform(4, seed + 51, 0.3f, 3f));
    }

    private static Batch TrainingBatch() =>
        new(GraphReference.Uniform(3 * 72, 61, -1.5f, 1.5f), [3, 6, 6, 2], [0f, 2f, 1f], [3]);

    [Test]
    public void ApplicationsBlock_EveryWeightGradient_MatchesFiniteDifferences()
    {
        using var model = ApplicationsBlock(TestBackend.Instance, 31, maxPool: false);
        model.Compile("sgd", "sparse_categorical_crossentropy");
        Randomize(model, 400);
        GraphGradientTests.CheckTrainableWeights(model, TrainingBatch());
    }

    [Test]
    public void ApplicationsBlockGradients_CpuAndIlgpuCpu_Agree()
    {
        Dictionary<string, float[]> Gradients(IBackend backend)
        {
            using var model = ApplicationsBlock(backend, 32);
            model.Compile("sgd", "sparse_categorical_crossentropy");
            Randomize(model, 500);
            model.ComputeGradients(TrainingBatch());
            return model.NamedParameters.Where(p => p.Parameter.Trainable).ToDictionary(p => p.Path, p => p.Parameter.Gradient!.ToArray());
        }

        var cpu = Gradients(new CpuBackend());
        var ilgpu = Gradients(BackendCase.IlgpuCpu().Acquire());
        Assert.That(ilgpu.Keys, Is.EqualTo(cpu.Keys));
        Assert.That(cpu.Keys, Does.Contain("dw/depthwise_kernel").And.Contain("sep/pointwise_kernel").And.Contain("stem_bn/beta").And.Contain("dw_bn/gamma"));
        foreach (var (path, gradient) in cpu)
            Approx.AssertClose(gradient, ilgpu[path], 64, path);
    }

    // model.to_json() round trip: every new layer writes a config its factory reads back, and the rebuilt model computes the same.
    [Test]
    public void ApplicationsBlock_EngineConfig_RebuildsTheSameModel()
    {
        using var model = ApplicationsBlock(TestBackend.Instance, 33);
        model.Initialize();
        Randomize(model, 600);
        var json = ModelConfig.ToJson(model);
        using var rebuilt = ModelConfig.FromJson(json, TestBackend.Instance, seed: 34);
        rebuilt.Initialize();
        foreach (var ((path, source), (otherPath, target)) in model.NamedParameters.Zip(rebuilt.NamedParameters))
        {
            Assert.That(otherPath, Is.EqualTo(path));
            target.Assign(source.ToArray());
        }
        Assert.That(ModelConfig.ToJson(rebuilt).ToJsonString(), Is.EqualTo(json.ToJsonString()));
        var x = GraphReference.Uniform(2 * 72, 62);
        Assert.That(rebuilt.Predict(x, 2), Is.EqualTo(model.Predict(x, 2)));
    }
}
