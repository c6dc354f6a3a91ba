using ConvEngine.Import.Keras;
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
/// Keras Permute (dims 1-based, batch excluded) forward against index arithmetic of its own, backward by finite
/// differences, on cpu and ILGPU's CPU accelerator, read from Keras configs; LeakyReLU read from Keras 2 / TF.js
/// ("alpha") and Keras 3 ("negative_slope") configs with the layer's default 0.3, apart from the "leaky_relu"
/// activation name, whose slope is 0.2 (tf.nn.leaky_relu, keras.activations.leaky_relu).
/// </summary>
public class PermuteAndLeakyReluTests
{
    private static IEnumerable<TestCaseData> BothFamilies() =>
    [
        new TestCaseData(BackendCase.Cpu(SimdSupport.Detected)).SetArgDisplayNames("cpu"),
        new TestCaseData(BackendCase.IlgpuCpu()).SetArgDisplayNames("ilgpu-cpu"),
    ];

    /// <summary>y[b, i1, …, ik] = x[b, j…] with j[dims[a] − 1] = i[a]: Keras's definition, by strides of its own.</summary>
    private static float[] PermuteReference(float[] x, int batch, int[] shape, int[] dims)
    {
        int rank = shape.Length, n = shape.Aggregate(1, (p, d) => p * d);
        int[] outShape = dims.Select(d => shape[d - 1]).ToArray();
        var inStride = new int[rank];
        for (int a = rank - 1, s = 1; a >= 0; s *= shape[a], a--) inStride[a] = s;
        var y = new float[x.Length];
        var index = new int[rank];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < n; o++)
            {
                for (int a = rank - 1, rest = o; a >= 0; a--) { index[a] = rest % outShape[a]; rest /= outShape[a]; }
                int source = 0;
                for (int a = 0; a < rank; a++) source += index[a] * inStride[dims[a] - 1];
                y[b * n + o] = x[b * n + source];
            }
        return y;
    }

    [TestCaseSource(nameof(BothFamilies))]
    public void Permute_EveryOrderOfRanks2And3_MatchesTheReference(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        int[][] orders = [[2, 1], [1, 2], [1, 3, 2], [2, 1, 3], [2, 3, 1], [3, 1, 2], [3, 2, 1], [1, 2, 3]];
        foreach (var dims in orders)
        {
            int[] shape = dims.Length == 2 ? [3, 5] : [3, 4, 5];
            var input = new InputLayer(shape, "x");
            using var model = new Model(input, new Permute(dims, name: "p").Apply(input), backend: backend, seed: 1);
            var x = GraphReference.Uniform(2 * shape.Aggregate(1, (p, d) => p * d), 40 + dims.Sum());
            Assert.That(model.OutputShape, Is.EqualTo(dims.Select(d => shape[d - 1])), string.Join(",", dims));
            Assert.That(model.Predict(x, 2), Is.EqualTo(PermuteReference(x, 2, shape, dims)), $"dims ({string.Join(", ", dims)})");
        }
    }

    /// <summary>Weights on both sides of a Permute (and of a channel shuffle), so every gradient crosses its backward.</summary>
    private static Model PermuteNet(IBackend backend, ulong seed)
    {
        var input = new InputLayer([4, 3, 2], "x");
        var x = new Conv2D(6, 1, activation: "tanh", name: "before").Apply(input);        // (4, 3, 6)
        x = new Permute([2, 1, 3], name: "swap").Apply(x);                                // (3, 4, 6)
        x = new Reshape([12, 2, 3], name: "split").Apply(x);
        x = new Permute([1, 3, 2], name: "shuffle").Apply(x);
        x = new Reshape([3, 4, 6], name: "merge").Apply(x);
        x = new Conv2D(3, 2, activation: "tanh", name: "after").Apply(x);                 // (2, 3, 3)
        x = new Flatten(name: "flat").Apply(x);
        return new Model(input, new Dense(3, activation: "softmax", name: "probs").Apply(x), "permute_net", backend, seed);
    }

    private static Batch TrainingBatch() => new(GraphReference.Uniform(3 * 24, 71, -1.5f, 1.5f), [3, 4, 3, 2], [0f, 2f, 1f], [3]);

    [Test]
    public void Permute_Backward_EveryWeightGradientMatchesFiniteDifferences()
    {
        using var model = PermuteNet(TestBackend.Instance, 5);
        model.Compile("sgd", "sparse_categorical_crossentropy");
        model.Initialize();
        GraphGradientTests.CheckTrainableWeights(model, TrainingBatch());
    }

    [Test]
    public void Permute_Gradients_CpuAndIlgpuCpu_Agree()
    {
        Dictionary<string, float[]> Gradients(IBackend backend)
        {
            using var model = PermuteNet(backend, 6);
            model.Compile("sgd", "sparse_categorical_crossentropy");
            model.ComputeGradients(TrainingBatch());
            return model.NamedParameters.ToDictionary(p => p.Path, p => p.Parameter.Gradient!.ToArray());
        }

        var cpu = Gradients(new CpuBackend());
        var ilgpu = Gradients(BackendCase.IlgpuCpu().Acquire());
        Assert.That(ilgpu.Keys, Is.EqualTo(cpu.Keys));
        foreach (var (path, gradient) in cpu)
            Approx.AssertClose(Array.ConvertAll(gradient, v => (double)v), ilgpu[path], 64, path);
    }

    [Test]
    public void Permute_FromAKerasConfig_AndTheEngineConfigRoundTrip()
    {
        const string keras = """
            {"class_name": "Sequential", "config": {"name": "s", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 5], "dtype": "float32", "name": "in"}},
              {"class_name": "Permute", "config": {"name": "perm", "trainable": true, "dtype": "float32", "dims": [2, 1]}}]}}
            """;
        using var model = KerasModels.FromJson(keras, TestBackend.Instance);
        var permute = model.Layers.OfType<Permute>().Single();
        Assert.That(permute.Dims, Is.EqualTo(new[] { 2, 1 }));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 5, 3 }));
        var x = GraphReference.Uniform(2 * 15, 3);
        Assert.That(model.Predict(x, 2), Is.EqualTo(PermuteReference(x, 2, [3, 5], [2, 1])));

        using var rebuilt = ModelConfig.FromJson(ModelConfig.ToJson(model), TestBackend.Instance);
        Assert.That(rebuilt.Layers.OfType<Permute>().Single().Dims, Is.EqualTo(new[] { 2, 1 }));
    }

    [TestCase(new[] { 1, 1 })]
    [TestCase(new[] { 0, 1 })]
    [TestCase(new[] { 1, 3 })]
    public void Permute_BadDims_AreRefusedNamingTheLayer(int[] dims)
    {
        var e = Assert.Throws<ArgumentException>(() => new Permute(dims, name: "perm"))!;
        Assert.That(e.Message, Does.Contain("'perm'").And.Contain($"({string.Join(", ", dims)})"));
        var input = new InputLayer([3, 5], "x");
        var rankMismatch = Assert.Catch<ArgumentException>(() => new Permute([1, 3, 2], name: "deep").Apply(input))!;
        Assert.That(rankMismatch.Message, Does.Contain("deep"));
    }

    /// <summary>One LeakyReLU layer from a config; its output on the Keras docstrings' inputs.</summary>
    private static float[] LeakyOf(string config, float[] x)
    {
        using var model = KerasModels.FromJson(config, TestBackend.Instance);
        return model.Predict(x, 1);
    }

    private static string Keras2(string layerConfig) => $$$"""
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5], "dtype": "float32", "name": "in"}},
          {"class_name": "LeakyReLU", "config": {"name": "lr", "trainable": true, "dtype": "float32"{{{layerConfig}}}}}]}}
        """;

    private static string Keras3(string layerConfig) => $$$"""
        {"module": "keras", "class_name": "Sequential", "registered_name": null, "config": {"name": "s", "trainable": true, "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "config": {"batch_shape": [null, 5], "dtype": "float32", "name": "in"}},
          {"module": "keras.layers", "class_name": "LeakyReLU", "registered_name": null, "config": {"name": "lr", "trainable": true, "dtype": "float32"{{{layerConfig}}}}}]}}
        """;

    // Outside numbers: tf.keras's LeakyReLU docstring, [-3, -1, 0, 2] → [-0.9, -0.3, 0, 2] (default) and alpha 0.1 →
    // [-0.3, -0.1, 0, 2]; Keras 3's, negative_slope 0.5 on [-10, -5, 0, 5, 10] → [-5, -2.5, 0, 5, 10].
    [Test]
    public void LeakyReLU_ReadsAlphaAndNegativeSlope_WithTheLayerDefault03()
    {
        float[] doc2 = [-3f, -1f, 0f, 2f, 5f];
        Assert.That(LeakyOf(Keras2(""), doc2), Is.EqualTo(new[] { -0.9f, -0.3f, 0f, 2f, 5f }).Within(1e-6f), "Keras 2, no alpha");
        Assert.That(LeakyOf(Keras2(", \"alpha\": 0.1"), doc2), Is.EqualTo(new[] { -0.3f, -0.1f, 0f, 2f, 5f }).Within(1e-6f), "Keras 2 alpha");
        float[] doc3 = [-10f, -5f, 0f, 5f, 10f];
        Assert.That(LeakyOf(Keras3(", \"negative_slope\": 0.5"), doc3), Is.EqualTo(new[] { -5f, -2.5f, 0f, 5f, 10f }).Within(1e-6f), "Keras 3 negative_slope");
        Assert.That(LeakyOf(Keras3(""), doc3), Is.EqualTo(new[] { -3f, -1.5f, 0f, 5f, 10f }).Within(1e-6f), "Keras 3, no negative_slope: 0.3");
        // Keras 3 still takes alpha (with a deprecation warning).
        Assert.That(LeakyOf(Keras3(", \"alpha\": 0.5"), doc3), Is.EqualTo(new[] { -5f, -2.5f, 0f, 5f, 10f }).Within(1e-6f), "Keras 3 alpha");
    }

    [Test]
    public void LeakyReluActivationName_HasSlope02_AndTheLayerKeepsItsOwnSlopeThroughConfigs()
    {
        var input = new InputLayer([4], "x");
        var named = new Activation("leaky_relu", name: "named").Apply(input);
        var layer = new LeakyReLU(0.05, name: "layer").Apply(input);
        using var model = new Model(input, new Concatenate(name: "both").Apply(named, layer), seed: 1);
        float[] x = [-2f, -0.5f, 0f, 3f];
        float[] expected = [-0.4f, -0.1f, 0f, 3f, -0.1f, -0.025f, 0f, 3f];
        Assert.That(model.Predict(x, 1), Is.EqualTo(expected).Within(1e-6f));
        using var rebuilt = ModelConfig.FromJson(ModelConfig.ToJson(model), TestBackend.Instance);
        Assert.That(rebuilt.Predict(x, 1), Is.EqualTo(expected).Within(1e-6f));
        Assert.That(ModelConfig.ToJson(model).ToJsonString(), Does.Contain("\"negative_slope\":0.05"));
    }

    [Test]
    public void LeakyReLU_NegativeOrInfiniteSlope_IsRefusedNamingTheLayer()
    {
        var e = Assert.Throws<ArgumentException>(() => new LeakyReLU(-0.1, "lr"))!;
        Assert.That(e.Message, Does.Contain("LeakyReLU 'lr'").And.Contain("-0.1"));
        Assert.Throws<ArgumentException>(() => new LeakyReLU(double.PositiveInfinity, "lr"));
    }
}
