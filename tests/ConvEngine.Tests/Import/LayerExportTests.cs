using ConvEngine.Cli.Commands;
using ConvEngine.Import.Keras;
using ConvEngine.Import.Onnx;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Cli;
using ConvEngine.Tests.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;
using Activation = ConvEngine.Layers.Activation;

namespace ConvEngine.Tests.Import;

/// <summary>
/// Export of the keras.applications layers (issue 9): each net is written as ONNX and run by ONNX Runtime 1.31.1, whose
/// outputs must be the engine's; written as .keras it must re-import to the same floats. What a format cannot hold is
/// refused naming the layer and its class, and `convengine export` then leaves nothing behind.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class LayerExportTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDir() => _dir = Directory.CreateTempSubdirectory("convengine-layer-export-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// MobileNet / EfficientNet / ShuffleNet ingredients in one image net: Normalization (constants and weights),
    /// per-channel Rescaling, asymmetric ZeroPadding2D, DepthwiseConv2D (stride 2, ×2), ReLU6, dilated SeparableConv2D,
    /// squeeze-excite (keepdims pooling, broadcast Multiply), Conv2DTranspose, asymmetric Cropping2D, LeakyReLU, a
    /// thresholded leaky capped ReLU, a channel shuffle (Reshape, Permute, Reshape), GlobalMaxPooling2D, softmax head.
    /// </summary>
    internal static Model ApplicationsNet(ulong seed = 7)
    {
        var image = new InputLayer([9, 8, 3], "image");
        var x = new Normalization(mean: [0.1, -0.2, 0.3], variance: [0.5, 2.0, 1.0], name: "norm_constants").Apply(image);
        x = new Normalization(name: "norm_weights").Apply(x);
        x = new Rescaling([0.5, 2.0, 1.5], [0.1, 0.0, -0.2], name: "per_channel").Apply(x);
        x = new ZeroPadding2D((0, 1), (1, 0), name: "pad").Apply(x);                                          // (10, 9, 3)
        x = new DepthwiseConv2D(3, strides: 2, padding: "same", depthMultiplier: 2, name: "dw").Apply(x);      // (5, 5, 6)
        x = new ReLU(6.0, name: "relu6").Apply(x);
        x = new SeparableConv2D(4, 3, padding: "same", dilationRate: 2, activation: "swish", name: "sep").Apply(x);   // (5, 5, 4)
        x = new BatchNormalization(name: "bn").Apply(x);
        var se = new GlobalAveragePooling2D("squeeze", keepDims: true).Apply(x);                               // (1, 1, 4)
        se = new Conv2D(4, 1, activation: "hard_sigmoid_keras3", name: "excite").Apply(se);
        x = new Multiply(name: "scale").Apply(x, se);
        x = new Conv2DTranspose(3, 3, strides: 2, padding: "same", name: "up").Apply(x);                     // (10, 10, 3)
        x = new Cropping2D((1, 0), (0, 2), name: "crop").Apply(x);                                           // (9, 8, 3)
        x = new LeakyReLU(0.1, name: "leaky").Apply(x);
        x = new Conv2D(6, 1, name: "mix").Apply(x);                                                           // (9, 8, 6)
        x = new ReLU(maxValue: 2.5, negativeSlope: 0.2, threshold: 0.3, name: "relu_t").Apply(x);
        x = new Reshape([72, 2, 3], name: "split").Apply(x);
        x = new Permute([1, 3, 2], name: "shuffle").Apply(x);
        x = new Reshape([9, 8, 6], name: "merge").Apply(x);
        x = new Conv2DTranspose(2, (2, 3), strides: (1, 2), padding: "valid", outputPadding: (0, 1), name: "up_valid").Apply(x);
        var pooled = new GlobalMaxPooling2D("gmp").Apply(x);
        return new Model(image, new Dense(3, activation: "softmax", name: "probs").Apply(pooled), "applications_net", seed: seed);
    }

    /// <summary>Every activation the engine names on one vector, each on its own branch, concatenated.</summary>
    private static Model ActivationsNet(IEnumerable<string> names)
    {
        var input = new InputLayer([10], "x");
        var fc = new Dense(12, name: "fc").Apply(input);
        var branches = names.Select(n => new Activation(n, name: $"act_{n}").Apply(fc)).ToList();
        branches.Add(new ReLU(negativeSlope: 0.1, name: "relu_leaky").Apply(fc));
        branches.Add(new ReLU(threshold: 0.4, name: "relu_threshold").Apply(fc));
        branches.Add(new ReLU(maxValue: 1.0, negativeSlope: 0.3, name: "relu_leaky_capped").Apply(fc));
        branches.Add(new LeakyReLU(name: "leaky_default").Apply(fc));
        return new Model(input, new Concatenate(name: "all").Apply([.. branches]), "activations", seed: 9);
    }

    /// <summary>The engine's activations Keras 3 has under some name (its hard_sigmoid is the engine's hard_sigmoid_keras3).</summary>
    private static readonly string[] KerasActivations =
        [.. ActivationFunction.Names.Where(n => n is not ("hard_sigmoid" or "gelu_approximate"))];

    /// <summary>Random statistics and BatchNormalization parameters, so no check rides on 0 and 1.</summary>
    private static void Randomize(Model model, int seed)
    {
        GraphGradientTests.RandomizeBatchNorms(model, seed);
        foreach (var norm in model.Layers.OfType<Normalization>().Where(n => n.Mean is not null))
        {
            int c = norm.Mean!.Shape[0];
            norm.Mean.Assign(GraphReference.Uniform(c, seed + 50, -0.5f, 0.5f));
            norm.Variance!.Assign(GraphReference.Uniform(c, seed + 51, 0.3f, 3f));
            norm.Count!.Assign([12f]);
        }
        foreach (var bn in model.Layers.OfType<BatchNormalization>())
        {
            bn.MovingMean?.Assign(GraphReference.Uniform(bn.Channels, seed + 60, -0.3f, 0.3f));
            bn.MovingVariance?.Assign(GraphReference.Uniform(bn.Channels, seed + 61, 0.5f, 2f));
        }
    }

    /// <summary>(N, d1, …, dk, C) → (N, C, d1, …, dk), the exported layout.</summary>
    private static float[] ChannelsFirst(float[] x, int batch, int[] shape)
    {
        if (shape.Length < 2) return x;
        int c = shape[^1], spatial = shape[..^1].Aggregate(1, (p, d) => p * d), n = c * spatial;
        var y = new float[x.Length];
        for (int b = 0; b < batch; b++)
            for (int p = 0; p < spatial; p++)
                for (int k = 0; k < c; k++)
                    y[b * n + k * spatial + p] = x[b * n + p * c + k];
        return y;
    }

    /// <summary>Exports, runs ONNX Runtime on the same input, compares with the engine within 1e-5 + 1e-4·|engine|.</summary>
    private void AssertOnnxRuntimeAgrees(Model model, float[] x, int batch)
    {
        float[] expected = ChannelsFirst(model.Predict(x, batch), batch, model.OutputShape);
        string path = Path.Combine(_dir, $"{model.Name}.onnx");
        OnnxExporter.Save(model, path);
        using var session = new InferenceSession(path);
        int[] dims = [batch, .. OnnxExporter.OnnxShape(model.InputShape)];
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(ChannelsFirst(x, batch, model.InputShape), dims))]);
        var output = results.Single().AsTensor<float>();
        Assert.That(output.Dimensions.ToArray(), Is.EqualTo(new[] { batch }.Concat(OnnxExporter.OnnxShape(model.OutputShape))));
        TfjsFixtures.AssertClose(output.ToArray(), expected, 1e-5, 1e-4, $"{model.Name}: ONNX Runtime vs engine");
    }

    private static float[] Inputs(Model model, int batch, int seed, float range) =>
        GraphReference.Uniform(batch * model.InputShape.Aggregate(1, (p, d) => p * d), seed, -range, range);

    [Test]
    public void ApplicationsNet_ExportedToOnnx_RunsInOnnxRuntime_AsTheEngine()
    {
        using var model = ApplicationsNet();
        Randomize(model, 100);
        AssertOnnxRuntimeAgrees(model, Inputs(model, 3, 11, 2f), 3);
    }

    [Test]
    public void EveryActivation_ExportedToOnnx_RunsInOnnxRuntime_AsTheEngine()
    {
        using var model = ActivationsNet(ActivationFunction.Names);
        model.Initialize();
        AssertOnnxRuntimeAgrees(model, Inputs(model, 4, 12, 2.5f), 4);
    }

    /// <summary>An image output through Reshape/Permute to a rank-3 (non-image) sample, and a softmax over an image's channels.</summary>
    [Test]
    public void ReshapePermuteAndChannelSoftmax_ExportedToOnnx_KeepTheEngineOrder()
    {
        var input = new InputLayer([4, 6, 3], "x");
        var x = new Conv2D(4, 3, padding: "same", name: "c").Apply(input);
        var softmax = new Activation("softmax", name: "channel_softmax").Apply(x);
        var permuted = new Permute([2, 3, 1], name: "p").Apply(new Reshape([6, 4, 4], name: "r").Apply(softmax));   // (4, 4, 6)
        using var model = new Model(input, new Concatenate(name: "cat").Apply(permuted, new Permute([2, 1, 3], name: "q").Apply(permuted)), "permutes", seed: 4);
        model.Initialize();
        AssertOnnxRuntimeAgrees(model, Inputs(model, 2, 13, 1f), 2);
    }

    /// <summary>Sequences, (N, C, L) in ONNX: causal dilated and strided SAME Conv1D, both 1-D pools (SAME, odd length), both global pools.</summary>
    [Test]
    public void OneDimensionalNet_ExportedToOnnx_RunsInOnnxRuntime_AsTheEngine()
    {
        var input = new InputLayer([13, 3], "seq");
        var x = new Conv1D(4, 3, padding: "causal", dilationRate: 2, activation: "relu", name: "causal").Apply(input);
        x = new MaxPooling1D(3, strides: 2, padding: "same", name: "max").Apply(x);                  // (7, 4)
        x = new Conv1D(5, 2, strides: 2, padding: "same", activation: "elu", name: "strided").Apply(x);   // (4, 5)
        x = new AveragePooling1D(3, strides: 1, padding: "same", name: "avg").Apply(x);
        var joined = new Concatenate(name: "pools").Apply(new GlobalAveragePooling1D("gap").Apply(x), new GlobalMaxPooling1D("gmp").Apply(x));
        using var model = new Model(input, new Dense(2, name: "out").Apply(joined), "sequence", seed: 8);
        model.Initialize();
        AssertOnnxRuntimeAgrees(model, Inputs(model, 3, 17, 2f), 3);
    }

    /// <summary>
    /// Both directions: a ShuffleNet unit in ONNX becomes engine layers (Reshape → Permute → Reshape) and is exported
    /// again; ONNX Runtime gives the same outputs on the original file and on the engine's.
    /// </summary>
    [Test]
    public void OnnxChannelShuffle_ImportedAsLayers_AndExportedAgain_RunsInOnnxRuntime_AsTheOriginal()
    {
        var m = new OnnxTestModel().InputWithBatch("X", 0, 6, 3, 5)
            .Random("W1", 21, 6, 3, 1, 1).Random("B1", 22, 6).Random("W2", 23, 4, 6, 3, 3)
            .Ints("to5", [0, 2, 3, 3, 5], 5).Ints("to4", [0, 6, 3, 5], 4)
            .Node("Conv", ["X", "W1", "B1"], ["c1"], ("group", 2L))
            .Node("Reshape", ["c1", "to5"], ["r5"])
            .Node("Transpose", ["r5"], ["t5"], ("perm", new long[] { 0, 2, 1, 3, 4 }))
            .Node("Reshape", ["t5", "to4"], ["shuffled"])
            .Node("Conv", ["shuffled", "W2"], ["Y"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Output("Y");
        string original = Path.Combine(_dir, "shuffle.onnx");
        File.Move(m.Save(), original);
        var x = OnnxTestModel.RandomValues(2 * 6 * 3 * 5, 9, -2f, 2f);
        float[] Run(string path, string input)
        {
            using var session = new InferenceSession(path);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(x, [2, 6, 3, 5]))]);
            return results.Single().AsTensor<float>().ToArray();
        }
        using (var model = OnnxToModel.Convert(original, seed: 1))
        {
            Assert.That(model.Layers.OfType<Permute>().Count(), Is.EqualTo(1));
            OnnxExporter.Save(model, Path.Combine(_dir, "again.onnx"));
        }
        TfjsFixtures.AssertClose(Run(Path.Combine(_dir, "again.onnx"), "input"), Run(original, "X"), 1e-5, 1e-4, "re-exported vs original");
    }

    [Test]
    public void ApplicationsNet_ExportedToKeras_ReimportsToTheSameOutputs()
    {
        using var model = ApplicationsNet();
        Randomize(model, 200);
        string path = Path.Combine(_dir, "m.keras");
        KerasFiles.Save(model, path);
        using var again = KerasFiles.Load(path);
        Assert.That(again.Layers.Select(l => l.ClassName), Is.EqualTo(model.Layers.Select(l => l.ClassName)));
        Assert.That(((Normalization)again.GetLayer("norm_weights")).Count!.ToArray(), Is.EqualTo(new[] { 12f }), "the int64 count");
        var x = Inputs(model, 2, 14, 2f);
        Assert.That(again.Predict(x, 2), Is.EqualTo(model.Predict(x, 2)), "same weights, same graph: the same floats");
    }

    [Test]
    public void KerasActivations_ExportedToKeras_ReimportToTheSameOutputs()
    {
        using var model = ActivationsNet(KerasActivations);
        model.Initialize();
        string path = Path.Combine(_dir, "a.keras");
        KerasFiles.Save(model, path);
        using var again = KerasFiles.Load(path);
        var x = Inputs(model, 3, 15, 2.5f);
        Assert.That(again.Predict(x, 3), Is.EqualTo(model.Predict(x, 3)));
        string config = new StreamReader(System.IO.Compression.ZipFile.OpenRead(path).GetEntry(KerasFiles.ConfigMember)!.Open()).ReadToEnd();
        Assert.That(config, Does.Not.Contain("\"activation\":\"hard_sigmoid_keras3\"").And.Contain("\"activation\":\"hard_sigmoid\""), "Keras 3 calls relu6(x + 3)/6 hard_sigmoid");
        Assert.That(config, Does.Contain("\"negative_slope\":0.3"), "LeakyReLU as Keras 3 spells it");
    }

    // Keras 2's hard_sigmoid and the tanh gelu have no Keras 3 name; an ONNX import's explicit pads no Keras padding.
    [TestCase("hard_sigmoid")]
    [TestCase("gelu_approximate")]
    public void Keras_RefusesAnActivationKeras3Lacks_NamingTheLayer_AndWritesNothing(string activation)
    {
        var input = new InputLayer([5], "x");
        using var model = new Model(input, new Dense(3, activation: activation, name: "head").Apply(input), seed: 1);
        string path = Path.Combine(_dir, "m.keras");
        var e = Assert.Throws<ModelExportException>(() => KerasFiles.Save(model, path))!;
        Assert.That(e.Message, Does.Contain("'head'").And.Contain("(Dense)").And.Contain(activation));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    [Test]
    public void Keras_RefusesExplicitPads_NamingTheLayer()
    {
        var input = new InputLayer([6, 6, 2], "x");
        using var model = new Model(input, new Conv2DTranspose(2, 3, strides: 2, ConvEngine.Kernels.Geometry.Padding.Explicit(1, 0, 1, 0), null, null, groups: 1, name: "deconv").Apply(input), seed: 1);
        var e = Assert.Throws<ModelExportException>(() => KerasFiles.Save(model, Path.Combine(_dir, "m.keras")))!;
        Assert.That(e.Message, Does.Contain("'deconv'").And.Contain("(Conv2DTranspose)").And.Contain("explicit pads"));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    /// <summary>
    /// `convengine export` of a model with a layer neither format has: exit 1, one line naming the layer and its class,
    /// and the folder holds what it held (no output, no temp file); a previous output file is left as it was.
    /// </summary>
    [TestCase("onnx", "ONNX")]
    [TestCase("keras", "Keras 3")]
    public void Cli_LayerTheTargetLacks_IsOneLineNamingLayerAndClass_AndNothingIsWritten(string to, string format)
    {
        var input = new InputLayer(8, 8, 3);
        string modelDir = Path.Combine(_dir, "lrn_model");
        using (var model = new Model(input, new LRN(3, name: "local_norm").Apply(new Conv2D(4, 3, name: "conv").Apply(input)), seed: 1))
        {
            model.Initialize();
            model.Save(modelDir);
        }
        string outDir = Directory.CreateDirectory(Path.Combine(_dir, "out")).FullName;
        string fresh = Path.Combine(outDir, "new." + to), kept = Path.Combine(outDir, "old." + to);
        File.WriteAllText(kept, "old");
        foreach (var output in new[] { fresh, kept })
        {
            var run = CliHarness.Run<ExportCommand>("--model", modelDir, "--to", to, "-o", output);
            Assert.That(run.ExitCode, Is.EqualTo(1), run.Out + run.Error);
            Assert.That(run.Error.Trim().Split('\n'), Has.Length.EqualTo(1), run.Error);
            Assert.That(run.Error, Does.Contain("'local_norm'").And.Contain("(LRN)").And.Contain(format));
        }
        Assert.That(Directory.GetFiles(outDir).Select(Path.GetFileName), Is.EqualTo(new[] { "old." + to }), "no output, no temp file");
        Assert.That(File.ReadAllText(kept), Is.EqualTo("old"));
    }

    /// <summary>The CLI path of the library calls above: an engine model folder with the new layers, to both formats.</summary>
    [Test]
    public void Cli_ExportsTheApplicationsNet_ToBothFormats()
    {
        string modelDir = Path.Combine(_dir, "net");
        float[] x;
        float[] expected;
        using (var model = ApplicationsNet())
        {
            Randomize(model, 300);
            model.Save(modelDir);
            x = Inputs(model, 2, 16, 2f);
            expected = model.Predict(x, 2);
        }
        string onnx = Path.Combine(_dir, "net.onnx"), keras = Path.Combine(_dir, "net.keras");
        var run = CliHarness.Run<ExportCommand>("--model", modelDir, "-o", onnx);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("input (N, 3, 9, 8)"));
        run = CliHarness.Run<ExportCommand>("--model", modelDir, "-o", keras);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        using var reloaded = KerasFiles.Load(keras);
        Assert.That(reloaded.Predict(x, 2), Is.EqualTo(expected));
        using var session = new InferenceSession(onnx);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(ChannelsFirst(x, 2, [9, 8, 3]), [2, 3, 9, 8]))]);
        TfjsFixtures.AssertClose(results.Single().AsTensor<float>().ToArray(), expected, 1e-5, 1e-4, "exported by the CLI");
    }
}
