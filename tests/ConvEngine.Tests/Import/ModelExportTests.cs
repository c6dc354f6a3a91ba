using ConvEngine.Cli.Commands;
using ConvEngine.Import.Keras;
using ConvEngine.Import.Onnx;
using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Import.TfJs;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Cli;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// Export: engine models written as ONNX run in ONNX Runtime 1.31.1 (an independent implementation of every op) and
/// must give the engine's outputs; written as .keras they re-import to the same outputs. `convengine export` writes
/// atomically and refuses, naming the layer, what a format cannot hold.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class ModelExportTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDir() => _dir = Directory.CreateTempSubdirectory("convengine-export-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    /// <summary>The course's kind of net on an odd size: SAME and VALID convs, strides, dilation, both pools, BN, dense head.</summary>
    private static Model SequentialNet() => new Sequential(seed: 3)
    {
        new InputLayer(11, 9, 3),
        new Rescaling(1 / 255.0, offset: -0.5),
        new Conv2D(6, 3, strides: 2, padding: "same", activation: "relu"),
        new MaxPool2D(3, strides: 2, padding: "same"),
        new Conv2D(5, (2, 3), padding: "valid", dilationRate: (1, 1), activation: "tanh"),
        new BatchNormalization(epsilon: 1e-3),
        new AveragePooling2D(2, strides: 1, padding: "same"),
        new Flatten(),
        new Dropout(0.3),
        new Dense(7, activation: "relu"),
        new Dense(4, activation: "softmax"),
    };

    /// <summary>Branches (Add, Concatenate), asymmetric zero padding, a nested Sequential, global pooling, a sigmoid head.</summary>
    private static Model FunctionalNet()
    {
        var input = new InputLayer(8, 7, 2);
        var a = new Conv2D(4, 3, padding: "same", activation: "relu").Apply(input);
        var b = new Conv2D(4, 1, dilationRate: 1).Apply(input);
        var sum = new Add().Apply(a, b);
        var inner = new Sequential(name: "inner") { new InputLayer(8, 7, 4), new ZeroPadding2D((1, 2), (0, 1)), new Conv2D(3, 3, strides: 2), new BatchNormalization() };
        var c = inner.Apply(sum);
        var d = new Conv2D(3, (4, 3), strides: (1, 2), activation: "sigmoid").Apply(input);
        var joined = new Concatenate().Apply(c, d);
        var pooled = new GlobalAveragePooling2D().Apply(joined);
        var output = new Dense(2, activation: "sigmoid").Apply(pooled);
        return new Model(input, output, "branches", seed: 4);
    }

    /// <summary>A model whose output is an image, to check the NCHW output order too.</summary>
    private static Model ImageOutputNet()
    {
        var input = new InputLayer(6, 6, 2);
        var x = new Conv2D(3, 3, padding: "same", activation: "leaky_relu").Apply(input);
        var y = new Activation("sigmoid").Apply(new Conv2D(2, 1).Apply(x));
        return new Model(input, y, "image_out", seed: 5);
    }

    private static IEnumerable<TestCaseData> Nets()
    {
        yield return new TestCaseData((Func<Model>)SequentialNet).SetName("Onnx_Sequential");
        yield return new TestCaseData((Func<Model>)FunctionalNet).SetName("Onnx_Functional");
        yield return new TestCaseData((Func<Model>)ImageOutputNet).SetName("Onnx_ImageOutput");
    }

    private static float[] RandomInputs(Model model, int batch) =>
        KerasTestFiles.Uniform(batch * model.InputShape.Aggregate(1, (p, d) => p * d), 77, 1f).Select(v => v * 255f).ToArray();

    private static float[] ToNchw(float[] nhwc, int batch, int[] shape)
    {
        if (shape.Length != 3) return nhwc;
        int h = shape[0], w = shape[1], c = shape[2], n = h * w * c;
        var nchw = new float[nhwc.Length];
        for (int b = 0; b < batch; b++)
            for (int p = 0; p < h * w; p++)
                for (int k = 0; k < c; k++)
                    nchw[b * n + k * h * w + p] = nhwc[b * n + p * c + k];
        return nchw;
    }

    [TestCaseSource(nameof(Nets))]
    public void ExportedOnnx_RunsInOnnxRuntime_AsTheEngine(Func<Model> build)
    {
        using var model = build();
        model.Initialize();
        const int batch = 3;
        float[] x = RandomInputs(model, batch);
        float[] expected = ToNchw(model.Predict(x, batch), batch, model.OutputShape);

        string path = Path.Combine(_dir, "m.onnx");
        OnnxExporter.Save(model, path);
        using var session = new InferenceSession(path);
        Assert.That(session.ModelMetadata.ProducerName, Is.EqualTo("ConvEngine"));
        int[] inputDims = model.InputShape.Length == 3 ? [batch, model.InputShape[2], model.InputShape[0], model.InputShape[1]] : [batch, .. model.InputShape];
        var feeds = new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(ToNchw(x, batch, model.InputShape), inputDims)) };
        using var results = session.Run(feeds);
        var output = results.Single().AsTensor<float>();
        int[] outputDims = model.OutputShape.Length == 3 ? [batch, model.OutputShape[2], model.OutputShape[0], model.OutputShape[1]] : [batch, .. model.OutputShape];
        Assert.That(output.Dimensions.ToArray(), Is.EqualTo(outputDims));
        TfjsFixtures.AssertClose(output.ToArray(), expected, 1e-5, 1e-4, "ONNX Runtime vs engine");
    }

    [Test]
    public void ExportedOnnx_DeclaresOpset13AndASymbolicBatch()
    {
        using var model = SequentialNet();
        var proto = OnnxExporter.ToProto(model);
        Assert.That(proto.OpsetImport.Single().Version, Is.EqualTo(13));
        var dims = proto.Graph.Input.Single().Type.TensorType.Shape.Dim;
        Assert.That(dims[0].DimParam, Is.EqualTo("N"));
        Assert.That(dims.Skip(1).Select(d => d.DimValue), Is.EqualTo(new long[] { 3, 11, 9 }), "(C, H, W)");
    }

    /// <summary>tfjs's model, read from its TF.js files, exported to ONNX: ONNX Runtime then gives tfjs's predictions.</summary>
    [TestCase("sequential_cnn")]
    [TestCase("functional_branches")]
    public void TfjsModel_ExportedToOnnx_PredictsAsTfjs(string name)
    {
        using var model = TfjsModels.Load(Path.Combine(TfjsFixtures.ModelDir(name), "model.json"));
        var expected = TfjsFixtures.ExpectedOf(name);
        string path = Path.Combine(_dir, "m.onnx");
        OnnxExporter.Save(model, path);
        using var session = new InferenceSession(path);
        int batch = expected.InputShape[0];
        int[] s = expected.InputShape[1..];
        var feeds = new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(ToNchw(expected.Input, batch, s), [batch, s[2], s[0], s[1]])) };
        using var results = session.Run(feeds);
        TfjsFixtures.AssertClose(results.Single().AsTensor<float>().ToArray(), expected.Output, 2e-5, 2e-4, "ONNX Runtime vs tfjs");
    }

    [Test]
    public void ExportedKeras_ReimportsToTheSameOutputs()
    {
        using var model = FunctionalNet();
        model.Initialize();
        float[] x = RandomInputs(model, 2);
        string path = Path.Combine(_dir, "m.keras");
        KerasFiles.Save(model, path);
        using var again = KerasFiles.Load(path);
        Assert.That(again.Predict(x, 2), Is.EqualTo(model.Predict(x, 2)), "same weights, same graph: the same floats");
    }

    [Test]
    public void Onnx_RefusesALayerItCannotExpress_AndWritesNothing()
    {
        var input = new InputLayer(8, 8, 3);
        using var model = new Model(input, new LRN(3, name: "norm").Apply(new Conv2D(4, 3).Apply(input)), seed: 1);
        string path = Path.Combine(_dir, "m.onnx");
        var e = Assert.Throws<ModelExportException>(() => OnnxExporter.Save(model, path))!;
        Assert.That(e.Message, Does.Contain("'norm'").And.Contain("LRN"));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    [Test]
    public void Cli_ExportsOnnxAndKeras_FromATfjsModel()
    {
        string model = Path.Combine(TfjsFixtures.ModelDir("functional_branches"), "model.json");
        string onnx = Path.Combine(_dir, "out.onnx"), keras = Path.Combine(_dir, "out.keras");
        var run = CliHarness.Run<ExportCommand>("--model", model, "-o", onnx);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("opset 13"));
        Assert.That(ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx)).Graph.Node, Is.Not.Empty);
        run = CliHarness.Run<ExportCommand>("--model", model, "--to", "keras", "-o", keras);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        using var reloaded = KerasFiles.Load(keras);
        var expected = TfjsFixtures.ExpectedOf("functional_branches");
        TfjsFixtures.AssertClose(reloaded.Predict(expected.Input, 2), expected.Output, 2e-5, 2e-4, "exported .keras");
    }

    [Test]
    public void Cli_Failure_IsOneLineExit1_AndLeavesTheOldFile()
    {
        string model = Path.Combine(_dir, "lrn.keras");
        string output = Path.Combine(_dir, "out.onnx");
        File.WriteAllText(output, "old");
        var bad = Path.Combine(_dir, "not-a-model.zip");
        File.WriteAllBytes(bad, [(byte)'P', (byte)'K', 3, 4, 0, 0]);
        var run = CliHarness.Run<ExportCommand>("--model", bad, "-o", output);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error.Trim().Split('\n'), Has.Length.EqualTo(1), run.Error);
        Assert.That(run.Error, Does.Contain(bad));
        Assert.That(File.ReadAllText(output), Is.EqualTo("old"));
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "out.onnx", "not-a-model.zip" }), "no temp file left");
    }

    [Test]
    public void Cli_UnknownTarget_IsRefused()
    {
        var run = CliHarness.Run<ExportCommand>("--model", "x", "-o", Path.Combine(_dir, "m.bin"));
        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Out + run.Error, Does.Contain("--to onnx or --to keras"));
    }
}
