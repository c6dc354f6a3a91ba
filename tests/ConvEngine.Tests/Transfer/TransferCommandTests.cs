using System.Globalization;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Data.Images;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Serialization;
using ConvEngine.Tests.Cli;
using NUnit.Framework;

namespace ConvEngine.Tests.Transfer;

/// <summary>
/// `convengine predict` on models of every format and on .npy inputs, and `convengine train --base` end to end on
/// synthetic 12×12 greyscale images (VGG16 at 32×32, randomly initialised: fast, and the mechanics are the same).
/// </summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class TransferCommandTests
{
    private SyntheticImages _images = null!;
    private string _imageModelJson = null!, _imageModelWeights = null!, _data = null!;
    private float[] _kernel = null!, _bias = null!;

    /// <summary>A Keras JSON model on 6×6 grey images: Flatten, Dense(2, softmax); weights in engine safetensors.</summary>
    [OneTimeSetUp]
    public void WriteModels()
    {
        _images = new SyntheticImages();
        _data = _images.TrainValid(["bright", "dark"]);
        _kernel = Import.KerasTestFiles.Uniform(36 * 2, 41, 0.02f);
        _bias = [0.1f, -0.1f];
        var json = new JsonObject
        {
            ["class_name"] = "Sequential",
            ["config"] = new JsonObject
            {
                ["name"] = "grey6",
                ["layers"] = new JsonArray
                {
                    new JsonObject { ["class_name"] = "InputLayer", ["config"] = new JsonObject { ["batch_input_shape"] = new JsonArray(null, 6, 6, 1), ["name"] = "pixels" } },
                    new JsonObject { ["class_name"] = "Flatten", ["config"] = new JsonObject { ["name"] = "flat" } },
                    new JsonObject { ["class_name"] = "Dense", ["config"] = new JsonObject { ["name"] = "head", ["units"] = 2, ["activation"] = "softmax" } },
                },
            },
        };
        _imageModelJson = _images.PathOf("grey6.json");
        File.WriteAllText(_imageModelJson, json.ToJsonString());
        _imageModelWeights = _images.PathOf("grey6.safetensors");
        SafeTensors.Write(_imageModelWeights, [("head/kernel", [36, 2], _kernel), ("head/bias", [2], _bias)]);
    }

    [OneTimeTearDown] public void Cleanup() => _images.Dispose();

    /// <summary>softmax(pixels · W + b) in double, from the definition.</summary>
    private double[] Reference(float[] pixels)
    {
        var z = new double[2];
        for (int j = 0; j < 2; j++)
        {
            z[j] = _bias[j];
            for (int i = 0; i < 36; i++) z[j] += (double)pixels[i] * _kernel[i * 2 + j];
        }
        double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
        return z.Select(v => Math.Exp(v - max) / sum).ToArray();
    }

    [Test]
    public void Predict_KerasJsonWithWeights_OnImages_WritesCsvOfClassAndProbabilities()
    {
        string a = _images.Write("six/a.png", 0, 2, 1, size: 6), b = _images.Write("six/b.png", 1, 2, 2, size: 6);
        var run = CliHarness.Run<PredictCommand>("--model", _imageModelJson, "--weights", _imageModelWeights, "--format", "csv", a, b);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Error, Does.Contain("KerasJson model 'grey6'").And.Contain("weights from"));
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("file,sample,class,0,1"));
        foreach (var (line, file) in lines.Skip(1).Zip(new[] { a, b }))
        {
            var fields = line.Split(',');
            Assert.That(fields[0], Is.EqualTo(file));
            var expected = Reference(ImageIO.Load(file, ColorMode.Grayscale).Pixels);
            double p0 = double.Parse(fields[3], CultureInfo.InvariantCulture), p1 = double.Parse(fields[4], CultureInfo.InvariantCulture);
            Assert.That(new[] { p0, p1 }, Is.EqualTo(expected).Within(1e-5));
            Assert.That(fields[2], Is.EqualTo(expected[1] > expected[0] ? "1" : "0"));
        }
    }

    [Test]
    public void Predict_AnImageOfAnotherSize_IsResized_OrRefusedWithBothSizesUnderNoResize()
    {
        string big = _images.Write("twelve/big.png", 1, 2, 3);   // 12×12
        var refused = CliHarness.Run<PredictCommand>("--model", _imageModelJson, "--weights", _imageModelWeights, "--no-resize", big);
        Assert.That(refused.ExitCode, Is.EqualTo(1));
        Assert.That(refused.Error, Does.Contain("12x12").And.Contain("6x6").And.Contain(big));

        var resized = CliHarness.Run<PredictCommand>("--model", _imageModelJson, "--weights", _imageModelWeights, "--format", "json", big);
        Assert.That(resized.ExitCode, Is.EqualTo(0), resized.Error);
        var expected = Reference(Resize.Apply(ImageIO.Load(big, ColorMode.Grayscale), 6, 6, Interpolation.Bilinear).Pixels);
        var p = JsonNode.Parse(resized.Out)!["predictions"]![0]!["probabilities"]!;
        Assert.That(new[] { p["0"]!.GetValue<double>(), p["1"]!.GetValue<double>() }, Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void Predict_NpyBatch_WithSaveOutputs_WritesTheRawOutputsAsNpy()
    {
        var samples = Enumerable.Range(0, 3 * 36).Select(i => (float)(i * 37 % 255)).ToArray();
        string input = _images.PathOf("batch.npy");
        NpyFile.Write(input, samples, [3, 6, 6, 1]);
        string outputs = _images.PathOf("outputs-" + Guid.NewGuid().ToString("N"));

        var run = CliHarness.Run<PredictCommand>("--model", _imageModelJson, "--weights", _imageModelWeights, "--format", "json", "--save-outputs", outputs, input);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var saved = NpyFile.Read(Path.Combine(outputs, "batch.npy"));
        Assert.That(saved.Shape, Is.EqualTo(new[] { 3, 2 }));
        for (int s = 0; s < 3; s++)
            Assert.That(saved.Data.Skip(2 * s).Take(2).Select(v => (double)v), Is.EqualTo(Reference(samples[(36 * s)..(36 * s + 36)])).Within(1e-5));
        var predictions = JsonNode.Parse(run.Out)!["predictions"]!.AsArray();
        Assert.That(predictions.Select(p => p!["sample"]!.GetValue<int>()), Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(predictions.All(p => p!["probabilities_from"]!.GetValue<string>() == "outputs"), Is.True, "a softmax head gives probabilities");
    }

    [Test]
    public void Predict_NpyOfTheWrongShape_IsRefusedNamingTheModelsSampleShape()
    {
        string input = _images.PathOf("wrong.npy");
        NpyFile.Write(input, new float[25], [5, 5]);
        var run = CliHarness.Run<PredictCommand>("--model", _imageModelJson, "--weights", _imageModelWeights, input);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("(5, 5)").And.Contain("(6, 6, 1)"));
    }

    // An ONNX model without a softmax gives scores, not probabilities: predict says so and shows their softmax.
    [Test]
    public void Predict_OnnxModelOfRawScores_ShowsTheirSoftmax_AndSaysSo()
    {
        string path = _images.PathOf("scores.onnx");
        File.WriteAllBytes(path, new Import.OnnxTestModel().InputWithBatch("X", 0, 4).Random("W", 3, 4, 3)
            .Node("MatMul", ["X", "W"], ["Y"]).Output("Y").Bytes());
        string input = _images.PathOf("features.npy");
        NpyFile.Write(input, [1f, 2f, 3f, 4f], [4]);

        var run = CliHarness.Run<PredictCommand>("--model", path, "--format", "json", input);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Error, Does.Contain("not probabilities"));
        var probabilities = JsonNode.Parse(run.Out)!["predictions"]![0]!["probabilities"]!.AsObject().Select(kv => kv.Value!.GetValue<double>()).ToArray();
        Assert.That(probabilities.Sum(), Is.EqualTo(1).Within(1e-5));
    }

    [TestCase(new[] { 0.2f, 0.7f, 0.1f }, 1, ProbabilitySource.Outputs)]
    [TestCase(new[] { 0.8f }, 1, ProbabilitySource.Sigmoid)]
    [TestCase(new[] { 0.3f }, 0, ProbabilitySource.Sigmoid)]
    [TestCase(new[] { 2f, -1f, 5f }, 2, ProbabilitySource.SoftmaxOfOutputs)]
    // `object`: ProbabilitySource is internal to the tool, and a public test method cannot name it in its signature.
    public void Interpret_ReadsSoftmaxSigmoidOrRawScores(float[] outputs, int best, object source)
    {
        var (index, probabilities, how) = TransferPrediction.Interpret(outputs, [outputs.Length]);
        Assert.That((index, how), Is.EqualTo(((int?)best, (ProbabilitySource)source)));
        Assert.That(probabilities!.Sum(), Is.EqualTo(1).Within(1e-6));
    }

    [Test]
    public void Interpret_AFeatureMap_HasNoClass() =>
        Assert.That(TransferPrediction.Interpret(new float[12], [2, 2, 3]).Source, Is.EqualTo(ProbabilitySource.None));

    // The whole recipe from the command line: base frozen, features cached on disk, head trained, then the top block
    // fine-tuned; the saved classifier (preprocessing and base inside) predicts on the original 12×12 grey images.
    [Test]
    public void TrainBase_FrozenWithCachedFeatures_ThenFineTuned_SavesAClassifierThatPredicts()
    {
        string outDir = _images.PathOf("transfer-out"), cache = _images.PathOf("transfer-cache");
        string[] common = ["--base", "vgg16", "--image-size", "32", "--data", _data, "--epochs", "2", "--batch-size", "8",
            "--head", "dense:8", "--feature-cache", cache, "--learning-rate", "0.01", "--seed", "3"];

        var run = CliHarness.Run<TrainCommand>([.. common, "--out", outDir, "--unfreeze-top", "1", "--fine-tune-epochs", "1"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);
        Assert.That(run.Out, Does.Contain("WARNING: the vgg16 base has NO pretrained weights"));
        Assert.That(run.Out, Does.Contain("12x12 greyscale; they are resized to 32x32 (bilinear) and replicated to 3 channels"));
        Assert.That(run.Out, Does.Contain("computed once per image"));
        Assert.That(run.Out, Does.Contain("unfroze the top 1 block(s) of vgg16 (block5"));
        var history = HistoryCsv.Read(Path.Combine(outDir, "history.csv"));
        Assert.That(history.Column("epoch"), Is.EqualTo(new double[] { 0, 1, 2 }), "two head epochs, then one of fine-tuning");
        Assert.That(history.Header, Does.Contain("val_binary_accuracy"));
        foreach (var file in new[] { "loss.png", "accuracy.png", "dataset.json", "model/config.json", "model/model.safetensors" })
            Assert.That(File.Exists(Path.Combine(outDir, file)), Is.True, file);
        Assert.That(Directory.GetFiles(cache, "*.safetensors"), Has.Length.EqualTo(2), "train and validation features");

        string image = Path.Combine(_data, "valid", "dark", "img-100.png");
        var predict = CliHarness.Run<PredictCommand>("--model", outDir, "--format", "csv", image);
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        Assert.That(predict.Out.Split('\n')[0], Is.EqualTo("file,class,bright,dark"));

        // A second run on the same images and base reads the features back instead of running the base.
        var again = CliHarness.Run<TrainCommand>([.. common, "--out", _images.PathOf("transfer-out-2"), "--epochs", "1"]);
        Assert.That(again.ExitCode, Is.EqualTo(0), again.Error + again.Out);
        Assert.That(again.Out, Does.Contain("read 32 cached feature vectors").And.Contain("read 8 cached feature vectors"));
    }

    [TestCase(new[] { "--base", "vgg16", "--model", "custom-convnet" }, "leave out --model")]
    [TestCase(new[] { "--base", "vgg16", "--freeze-base", "--train-base" }, "contradict")]
    [TestCase(new[] { "--head", "dense:8" }, "go with --base")]
    [TestCase(new[] { "--base", "vgg16", "--resume" }, "--resume is not available")]
    public void TrainBase_ContradictoryOptions_AreRefused(string[] args, string message)
    {
        var run = CliHarness.Run<TrainCommand>(args);
        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Out + run.Error, Does.Contain(message));
    }

    [Test]
    public void TrainBase_ResNet18WithoutItsPackage_SaysHowToGetIt()
    {
        var run = CliHarness.Run<TrainCommand>("--base", "resnet18", "--base-weights", _images.PathOf("no-such-folder"), "--data", _data, "--out", _images.PathOf("r18"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("Microsoft.ML.DnnImageFeaturizer.ResNet18").And.Contain("dotnet restore"));
    }
}
