using System.Globalization;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Data.Images;
using ConvEngine.Models;
using NUnit.Framework;

namespace ConvEngine.Tests.Cli;

/// <summary>`convengine predict` with models that `convengine train` wrote: a sigmoid (2 classes) and a softmax (3 classes) head.</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class PredictCommandTests
{
    private SyntheticImages _images = null!;
    private string _sigmoidModel = null!, _softmaxModel = null!, _twoClassData = null!, _threeClassData = null!;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _images = new SyntheticImages();
        _twoClassData = _images.TrainValid(["bright", "dark"], "two");
        _threeClassData = _images.TrainValid(["a", "b", "c"], "three");
        _sigmoidModel = _images.PathOf("sigmoid");
        _softmaxModel = _images.PathOf("softmax");
        foreach (var (config, data, outDir) in new[]
                 {
                     (_images.TinyConfig(1, "sigmoid"), _twoClassData, _sigmoidModel),
                     (_images.TinyConfig(3, "softmax"), _threeClassData, _softmaxModel),
                 })
        {
            var run = CliHarness.Run<TrainCommand>("--model", config, "--data", data, "--epochs", "1", "--batch-size", "8", "--out", outDir);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        }
    }

    [OneTimeTearDown] public void Cleanup() => _images.Dispose();

    [Test]
    public void Predict_SoftmaxJson_GivesEveryClassAProbabilityInUnitIntervalSummingToOne()
    {
        string folder = Path.Combine(_threeClassData, "valid");
        var run = CliHarness.Run<PredictCommand>("--model", _softmaxModel, "--format", "json", folder);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var json = JsonNode.Parse(run.Out)!.AsObject();
        Assert.That(json["class_names"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "a", "b", "c" }));
        var predictions = json["predictions"]!.AsArray();
        Assert.That(predictions, Has.Count.EqualTo(12), "every image under the folder, recursively");
        foreach (var p in predictions)
        {
            var probabilities = p!["probabilities"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>());
            Assert.That(probabilities.Keys, Is.EquivalentTo(new[] { "a", "b", "c" }));
            Assert.That(probabilities.Values, Has.All.InRange(0.0, 1.0));
            Assert.That(probabilities.Values.Sum(), Is.EqualTo(1.0).Within(1e-5), "softmax probabilities sum to one");
            string best = probabilities.MaxBy(kv => kv.Value).Key;
            Assert.That(p["class"]!.GetValue<string>(), Is.EqualTo(best));
        }
    }

    [Test]
    public void Predict_SigmoidCsv_GivesOneMinusPAndPAndTheClassAboveHalf()
    {
        string image = Path.Combine(_twoClassData, "valid", "dark", "img-100.png");
        var run = CliHarness.Run<PredictCommand>("--model", _sigmoidModel, "--format", "csv", image);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("file,class,bright,dark"));
        var fields = lines[1].Split(',');
        Assert.That(fields[0], Is.EqualTo(image));
        double bright = double.Parse(fields[2], CultureInfo.InvariantCulture), dark = double.Parse(fields[3], CultureInfo.InvariantCulture);

        // The sigmoid unit is P(class 1) = P(dark); the model run directly on the same pixels must give it.
        using var model = Model.Load(Path.Combine(_sigmoidModel, "model"));
        float expected = model.Predict(ImageIO.Load(image, ColorMode.Grayscale).Pixels)[0];
        Assert.That(dark, Is.EqualTo(expected).Within(1e-6));
        Assert.That(bright + dark, Is.EqualTo(1.0).Within(1e-6));
        Assert.That(fields[1], Is.EqualTo(dark > 0.5 ? "dark" : "bright"));
    }

    [Test]
    public void Predict_LargerImage_IsResizedToTheModelInput()
    {
        string image = _images.Write("big/dark-24.png", k: 1, classCount: 2, index: 7, size: 24);
        var run = CliHarness.Run<PredictCommand>("--model", _sigmoidModel, "--format", "csv", image);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(2));
    }

    [Test]
    public void Predict_OutputFile_HoldsTheCsvAndTheConsoleSaysWhere()
    {
        string target = _images.PathOf("predictions.csv");
        var run = CliHarness.Run<PredictCommand>("--model", _sigmoidModel, "--format", "csv", "--output", target,
            Path.Combine(_twoClassData, "valid", "bright"), Path.Combine(_twoClassData, "valid", "dark", "img-101.png"));

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("Wrote 5 prediction(s)"));
        Assert.That(File.ReadAllLines(target), Has.Length.EqualTo(1 + 5));
    }

    [Test]
    public void Predict_Text_NamesTheClassOfEachImage()
    {
        string image = Path.Combine(_threeClassData, "valid", "b", "img-100.png");
        var run = CliHarness.Run<PredictCommand>("--model", _softmaxModel, image);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Match($@"^{System.Text.RegularExpressions.Regex.Escape(image)}: [abc] \(\d+\.\d %\)  a 0\.\d{{4}}  b 0\.\d{{4}}  c 0\.\d{{4}}"));
    }

    [Test]
    public void Predict_UnreadableImage_FailsNamingTheFile()
    {
        string bad = _images.PathOf("broken.png");
        File.WriteAllText(bad, "not a png");
        var run = CliHarness.Run<PredictCommand>("--model", _sigmoidModel, bad);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.StartWith("convengine predict: ").And.Contain(bad));
    }

    [Test]
    public void Predict_MissingInput_FailsNamingIt()
    {
        string missing = _images.PathOf("nowhere.png");
        var run = CliHarness.Run<PredictCommand>("--model", _sigmoidModel, missing);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain(missing));
    }
}
