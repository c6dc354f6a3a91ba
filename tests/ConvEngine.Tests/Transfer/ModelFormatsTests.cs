using System.Text.Json.Nodes;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using ConvEngine.Tests.Import;
using NUnit.Framework;

namespace ConvEngine.Tests.Transfer;

/// <summary>
/// Tiny models written in each format the engine runs — an engine folder and config.json, a Keras to_json() config with
/// .h5 or .safetensors weights, a Keras full-model .h5, an ONNX file — recognised by content and run; their outputs are
/// checked against softmax(x·W + b) computed here in double from the weights written.
/// </summary>
[NonParallelizable]
public class ModelFormatsTests
{
    /// <summary>The model of every format: 4 features → Dense "head" (3 units, softmax).</summary>
    internal static readonly float[] Kernel = KerasTestFiles.Uniform(12, 31, 1f);   // (4, 3), Keras's (in, units)
    internal static readonly float[] Bias = KerasTestFiles.Uniform(3, 32, 1f);

    private string _folder = null!;

    [OneTimeSetUp] public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("convengine-formats-").FullName;
    [OneTimeTearDown] public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    internal static double[] Reference(float[] x)
    {
        var z = new double[3];
        for (int j = 0; j < 3; j++)
        {
            z[j] = Bias[j];
            for (int i = 0; i < 4; i++) z[j] += (double)x[i] * Kernel[i * 3 + j];
        }
        double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
        return z.Select(v => Math.Exp(v - max) / sum).ToArray();
    }

    internal const string KerasJson = """
        {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "features"}},
          {"class_name": "Dense", "config": {"name": "head", "units": 3, "activation": "softmax"}}
        ]}}
        """;

    private static List<TestLayer> KerasLayers() =>
        [new("features"), new("head", new TestWeight("head/kernel:0", [4, 3], Kernel), new TestWeight("head/bias:0", [3], Bias))];

    private static readonly float[] X = [0.5f, -1.25f, 2f, 0.75f];

    private static void AssertMatchesReference(LoadedModel model)
    {
        var y = model.Predict(X, 1);
        var expected = Reference(X);
        Assert.That(y.Select(v => (double)v), Is.EqualTo(expected).Within(1e-6));
    }

    private string EngineFolder()
    {
        string folder = PathOf("engine-" + Guid.NewGuid().ToString("N"));
        var input = new InputLayer([4], "features");
        var head = new Dense(3, "softmax", name: "head");
        using var model = new Model(input, head.Apply(input), "tiny", seed: 1);
        model.Initialize();
        head.Kernel!.Assign(Kernel);
        head.Bias!.Assign(Bias);
        model.Save(folder);
        return folder;
    }

    [Test]
    public void EngineFolder_AndItsConfigJson_AreEngineModels_ThatRunWithTheirWeights()
    {
        string folder = EngineFolder();
        Assert.That(ModelFormats.Detect(folder), Is.EqualTo(ModelFormat.EngineModel));
        Assert.That(ModelFormats.Detect(Path.Combine(folder, "config.json")), Is.EqualTo(ModelFormat.EngineModel));
        using (var model = ModelFormats.Load(folder)) AssertMatchesReference(model);
        using (var model = ModelFormats.Load(Path.Combine(folder, "config.json"))) AssertMatchesReference(model);
    }

    [Test]
    public void KerasJson_WithH5WeightsOrSafetensorsWeights_RunsWithThem()
    {
        string json = PathOf("tiny.json");
        File.WriteAllText(json, KerasJson);
        string h5 = PathOf("tiny-weights.h5");
        KerasTestFiles.Write(h5, KerasLayers());
        string safetensors = PathOf("tiny.safetensors");
        SafeTensors.Write(safetensors, [("head/kernel", [4, 3], Kernel), ("head/bias", [3], Bias)]);

        Assert.That(ModelFormats.Detect(json), Is.EqualTo(ModelFormat.KerasJson));
        using (var model = ModelFormats.Load(json, h5)) AssertMatchesReference(model);
        using (var model = ModelFormats.Load(json, safetensors)) AssertMatchesReference(model);
        using (var random = ModelFormats.Load(json))
            Assert.That(random.WeightsNote, Does.Contain("random initialisation"));
    }

    [Test]
    public void KerasFullModelH5_IsRecognisedBySignature_EvenWithoutItsExtension()
    {
        string path = PathOf("full-model.bin");
        KerasTestFiles.Write(path, KerasLayers(), modelConfig: KerasJson, kerasVersion: "2.15.0");
        Assert.That(ModelFormats.Detect(path), Is.EqualTo(ModelFormat.KerasH5));
        using var model = ModelFormats.Load(path);
        AssertMatchesReference(model);
    }

    /// <summary>The same classifier as ONNX: Gemm(x, Wᵀ stored (3, 4), transB) then Softmax.</summary>
    internal static OnnxTestModel OnnxClassifier()
    {
        var transposed = new float[12];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) transposed[j * 4 + i] = Kernel[i * 3 + j];
        return new OnnxTestModel().InputWithBatch("X", 0, 4).Floats("W", transposed, 3, 4).Floats("B", Bias, 3)
            .Node("Gemm", ["X", "W", "B"], ["z"], ("transB", 1L)).Node("Softmax", ["z"], ["Y"], ("axis", 1L)).Output("Y");
    }

    [Test]
    public void Onnx_ByExtensionOrByContent_RunsThroughTheImporter()
    {
        string path = PathOf("tiny.onnx");
        File.WriteAllBytes(path, OnnxClassifier().Bytes());
        string unnamed = PathOf("tiny-model.pb2");
        File.Copy(path, unnamed);
        Assert.That(ModelFormats.Detect(path), Is.EqualTo(ModelFormat.Onnx));
        Assert.That(ModelFormats.Detect(unnamed), Is.EqualTo(ModelFormat.Onnx));
        using var model = ModelFormats.Load(path);
        Assert.That(model.InputShape, Is.EqualTo(new[] { 4 }));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 3 }));
        AssertMatchesReference(model);
        Assert.That(() => ModelFormats.Load(path, weights: path), Throws.ArgumentException.With.Message.Contains("carries its own weights"));
    }

    [Test]
    public void WeightsOrOtherFiles_AsAModel_AreRefusedSayingWhatTheyAre()
    {
        string safetensors = PathOf("weights-only.safetensors");
        SafeTensors.Write(safetensors, [("head/kernel", [4, 3], Kernel)]);
        Assert.That(() => ModelFormats.Detect(safetensors), Throws.TypeOf<FormatException>().With.Message.Contains("weights file").And.Message.Contains($"weights: \"{safetensors}\"").And.Message.Not.Contains("--"));

        string text = PathOf("notes.txt");
        File.WriteAllText(text, "not a model");
        Assert.That(() => ModelFormats.Detect(text), Throws.TypeOf<FormatException>().With.Message.Contains("Keras .h5").And.Message.Contains(".onnx"));

        string empty = PathOf("empty-folder");
        Directory.CreateDirectory(empty);
        Assert.That(() => ModelFormats.Detect(empty), Throws.TypeOf<FileNotFoundException>().With.Message.Contains("config.json"));
    }

    [Test]
    public void ModelInputs_NpyOfOneSampleOrABatch_AreAccepted_AndOtherShapesRefusedNamingTheExpectedOne()
    {
        string folder = EngineFolder();
        using var model = ModelFormats.Load(folder);
        string one = PathOf("one.npy"), batch = PathOf("batch.npy"), wrong = PathOf("wrong.npy");
        NpyFile.Write(one, X, [4]);
        NpyFile.Write(batch, [.. X, .. X], [2, 4]);
        NpyFile.Write(wrong, new float[6], [2, 3]);

        Assert.That(ModelInputs.Load(one, model).Count, Is.EqualTo(1));
        Assert.That(ModelInputs.Load(batch, model).Count, Is.EqualTo(2));
        Assert.That(() => ModelInputs.Load(wrong, model), Throws.Exception.With.Message.Contains("(2, 3)").And.Message.Contains("(4)").And.Message.Contains("(N, 4)"));
        Assert.That(() => ModelInputs.LoadImage(PathOf("any.png"), model), Throws.Exception.With.Message.Contains("not images"));
    }
}
