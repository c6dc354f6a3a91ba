using System.Globalization;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using NUnit.Framework;

namespace ConvEngine.Tests.Cli;

/// <summary>`convengine evaluate` on a model that `convengine train` wrote (tiny JSON model, 2 epochs, synthetic images).</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class EvaluateCommandTests
{
    private SyntheticImages _images = null!;
    private string _data = null!, _outDir = null!;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        _images = new SyntheticImages();
        _data = _images.TrainValid(["bright", "dark"]);
        _outDir = _images.PathOf("out");
        var run = CliHarness.Run<TrainCommand>("--model", _images.TinyConfig(1, "sigmoid"), "--data", _data, "--epochs", "2", "--batch-size", "8", "--out", _outDir);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
    }

    [OneTimeTearDown] public void Cleanup() => _images.Dispose();

    /// <summary>
    /// Keras runs validation after each epoch's last update, in inference mode: evaluating the saved model on the
    /// same folder must give the last epoch's val_loss and val_binary_accuracy.
    /// </summary>
    [Test]
    public void Evaluate_OnTheValidationFolder_ReproducesTheLastEpochsValidationValues()
    {
        var history = HistoryCsv.Read(Path.Combine(_outDir, "history.csv"));

        var run = CliHarness.Run<EvaluateCommand>("--model", _outDir, "--data", _data, "--format", "json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var json = JsonNode.Parse(run.Out)!.AsObject();
        Assert.That(json["samples"]!.GetValue<int>(), Is.EqualTo(8), "a folder with train/ and valid/ is evaluated on valid/");
        Assert.That(json["loss"]!.GetValue<double>(), Is.EqualTo(history.Column("val_loss")[^1]).Within(1e-5));
        Assert.That(json["binary_accuracy"]!.GetValue<double>(), Is.EqualTo(history.Column("val_binary_accuracy")[^1]));
    }

    [Test]
    public void Evaluate_Text_PrintsTheLossAndTheMetricWithFourDecimals()
    {
        var run = CliHarness.Run<EvaluateCommand>("--model", Path.Combine(_outDir, "model"), "--data", Path.Combine(_data, "train"));

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("(32 images)"));
        Assert.That(run.Out, Does.Match(@"loss: \d+\.\d{4}"));
        double accuracy = double.Parse(System.Text.RegularExpressions.Regex.Match(run.Out, @"binary_accuracy: (\d+\.\d{4})").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.That(accuracy * 32, Is.EqualTo(Math.Round(accuracy * 32)).Within(0.01), "a whole number of the 32 images");
    }

    [Test]
    public void Evaluate_FolderThatIsNoModel_FailsNamingIt()
    {
        var run = CliHarness.Run<EvaluateCommand>("--model", _data, "--data", _data);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain(_data).And.Contain("not a trained model"));
    }

    [Test]
    public void Evaluate_DataWithOtherClasses_FailsNamingTheMissingClass()
    {
        string other = _images.ClassFolders("other", ["bright", "medium"], perClass: 2);
        var run = CliHarness.Run<EvaluateCommand>("--model", _outDir, "--data", other);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("dark"));
    }
}
