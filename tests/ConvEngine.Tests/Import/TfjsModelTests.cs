using System.Text.Json.Nodes;
using ConvEngine.Import.Keras;
using ConvEngine.Import.TfJs;
using ConvEngine.Kernels.Cpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// TF.js Layers models written and run by TensorFlow.js 4.22 (tests/tfjs/models.mjs): ConvEngine loads each
/// model.json with its shards (unquantised, uint8, uint16, float16) and must predict what tfjs predicted on the
/// same inputs.
/// </summary>
[TestFixture]
public sealed class TfjsModelTests
{
    private static IEnumerable<string> Models => TfjsFixtures.ModelNames;

    [TestCaseSource(nameof(Models))]
    public void Predictions_MatchTensorFlowJs(string name)
    {
        var expected = TfjsFixtures.ExpectedOf(name);
        using var backend = new CpuBackend();
        // Every fixture's layers exist now (issue 9's keras.applications layers included): a load failure is a failure.
        var model = TfjsModels.Load(Path.Combine(TfjsFixtures.ModelDir(name), "model.json"), backend);
        using (model)
        {
            Assert.That(model.InputShape, Is.EqualTo(expected.InputShape[1..]), "input shape from the topology");
            Assert.That(model.OutputShape, Is.EqualTo(expected.OutputShape[1..]), "output shape");
            float[] output = model.Predict(expected.Input, batchSize: expected.InputShape[0]);
            // float32 on both sides, summed in different orders.
            TfjsFixtures.AssertClose(output, expected.Output, 2e-5, 2e-4, name);
        }
    }

    [Test]
    public void Fixtures_CoverQuantisationsShardsAndGroups()
    {
        var names = TfjsFixtures.ModelNames.ToList();
        Assert.That(names, Does.Contain("sequential_cnn").And.Contain("sequential_cnn-uint8").And.Contain("sequential_cnn-uint16")
            .And.Contain("sequential_cnn-float16").And.Contain("functional_branches"));
        var manifest = (JsonArray)TfjsFixtures.Json(Path.Combine(TfjsFixtures.ModelDir("sequential_cnn"), "model.json"))["weightsManifest"]!;
        Assert.That(manifest, Has.Count.EqualTo(2), "two manifest groups");
        Assert.That(manifest.Sum(g => ((JsonArray)g!["paths"]!).Count), Is.GreaterThan(4), "several shards per group");
    }

    /// <summary>Quantised weights are not the float32 ones: the uint8 model's outputs differ from the unquantised model's, and ours follow tfjs's.</summary>
    [Test]
    public void Uint8Model_DiffersFromFloat32_AndMatchesTfjsDequantisation()
    {
        var plain = TfjsFixtures.ExpectedOf("sequential_cnn");
        var quantized = TfjsFixtures.ExpectedOf("sequential_cnn-uint8");
        Assert.That(quantized.Input, Is.EqualTo(plain.Input));
        Assert.That(quantized.Output, Is.Not.EqualTo(plain.Output), "quantisation changes the outputs, so the fixture tests dequantisation");
        using var model = TfjsModels.Load(Path.Combine(TfjsFixtures.ModelDir("sequential_cnn-uint8"), "model.json"));
        TfjsFixtures.AssertClose(model.Predict(quantized.Input, 2), quantized.Output, 2e-5, 2e-4, "uint8");
    }

    /// <summary>Every dtype and quantisation of the TF.js weights format, decoded as tfjs.io.decodeWeights decoded them.</summary>
    [Test]
    public void WeightsManifest_EveryDtypeAndQuantisation_DecodesAsTfjs()
    {
        string dir = Path.Combine(TfjsFixtures.Root, "weights", "dtypes");
        var weights = TfjsWeightsManifest.Read(Path.Combine(dir, "weights.json")).ToDictionary(w => w.Name);
        var expected = (JsonObject)TfjsFixtures.Json(Path.Combine(dir, "expected.json"))["weights"]!;
        Assert.That(weights.Keys, Is.EquivalentTo(expected.Select(e => e.Key)));
        foreach (var (name, node) in expected)
        {
            var w = weights[name];
            Assert.That(w.Shape, Is.EqualTo(TfjsFixtures.Ints(node!["shape"])), name);
            Assert.That(w.Dtype, Is.EqualTo(node["dtype"]!.GetValue<string>()), name);
            // tfjs's values are float32 (or int32/bool) widened to double in JSON: exact after narrowing.
            Assert.That(w.Values, Is.EqualTo(TfjsFixtures.Floats(node["values"])), name);
        }
        Assert.That(weights["quantized_uint8"].Values, Is.Not.EqualTo(weights["float32"].Values), "uint8 loses precision");
        Assert.That(weights["int32"].Values, Is.EqualTo(new float[] { -7, 0, 3, 2147483647, -2147483648 }));
    }
}

/// <summary>`convengine predict` takes a TF.js model.json like any other model, recognised by its content.</summary>
[TestFixture, NonParallelizable]
public sealed class TfjsPredictCommandTests
{
    [Test]
    public void Predict_OnATfjsModelJson_SavesTfjssOutputs()
    {
        string name = "functional_branches";
        var expected = TfjsFixtures.ExpectedOf(name);
        string dir = Directory.CreateTempSubdirectory("convengine-tfjs-predict-").FullName;
        try
        {
            string model = Path.Combine(dir, "renamed.txt");
            foreach (string file in Directory.GetFiles(TfjsFixtures.ModelDir(name))) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
            File.Move(Path.Combine(dir, "model.json"), model);
            Assert.That(ConvEngine.Import.ModelFormats.ModelFormats.Detect(model), Is.EqualTo(ConvEngine.Import.ModelFormats.ModelFormat.TfjsLayers));
            string input = Path.Combine(dir, "batch.npy");
            ConvEngine.Import.ModelFormats.NpyFile.Write(input, expected.Input, expected.InputShape);
            var run = ConvEngine.Tests.Cli.CliHarness.Run<ConvEngine.Cli.Commands.PredictCommand>(
                "--model", model, input, "--save-outputs", Path.Combine(dir, "out"), "--format", "json");
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
            var saved = ConvEngine.Import.ModelFormats.NpyFile.Read(Path.Combine(dir, "out", "batch.npy"));
            Assert.That(saved.Shape, Is.EqualTo(expected.OutputShape));
            TfjsFixtures.AssertClose(saved.Data, expected.Output, 2e-5, 2e-4, "predict --save-outputs");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Predict_OnAModelWithALayerTheEngineLacks_IsOneLineNamingLayerClassAndFile()
    {
        string dir = TfjsFixtures.CopyToTemp("functional_branches");
        try
        {
            string model = Path.Combine(dir, "model.json");
            File.WriteAllText(model, File.ReadAllText(model).Replace("\"class_name\":\"Add\"", "\"class_name\":\"FancyMerge\""));
            string input = Path.Combine(dir, "x.npy");
            ConvEngine.Import.ModelFormats.NpyFile.Write(input, new float[8 * 8 * 2], [8, 8, 2]);
            var run = ConvEngine.Tests.Cli.CliHarness.Run<ConvEngine.Cli.Commands.PredictCommand>("--model", model, input);
            Assert.That(run.ExitCode, Is.EqualTo(1));
            Assert.That(run.Error.Trim().Split('\n'), Has.Length.EqualTo(1), run.Error);
            Assert.That(run.Error, Does.Contain("FancyMerge").And.Contain("add_Add1").And.Contain(model));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
