using System.Text.RegularExpressions;
using ConvEngine.Cli.Commands;
using NUnit.Framework;

namespace ConvEngine.Tests.Cli;

/// <summary>The options train, evaluate, predict, filter and conformance share come from one settings base (Commands/Common/CommonSettings.cs).</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class CommonSettingsTests
{
    // Option rows of the help table: "  -m, --model <MODEL>  …" or "      --backend <NAME>  …" (mentions in descriptions do not count).
    private static int Count(string text, string option) =>
        Regex.Matches(text, @"^\s+(-\w, )?" + Regex.Escape(option) + @"\b", RegexOptions.Multiline).Count;

    [Test]
    public void Help_OfEveryCommand_ListsEachSharedOptionOnce()
    {
        var helps = new Dictionary<string, string>
        {
            ["train"] = CliHarness.Run<TrainCommand>("--help").Out,
            ["evaluate"] = CliHarness.Run<EvaluateCommand>("--help").Out,
            ["predict"] = CliHarness.Run<PredictCommand>("--help").Out,
            ["filter"] = CliHarness.Run<FilterCommand>("--help").Out,
            ["conformance"] = CliHarness.Run<ConformanceCommand>("--help").Out,
        };
        foreach (var (command, help) in helps)
            Assert.That(Count(help, "--backend"), Is.EqualTo(1), command);
        foreach (var command in new[] { "train", "evaluate", "predict" })
        {
            Assert.That(Count(helps[command], "--model"), Is.EqualTo(1), command);
            Assert.That(Count(helps[command], "--batch-size"), Is.EqualTo(1), command);
        }
        Assert.That(Count(helps["evaluate"], "--format"), Is.EqualTo(1));
        Assert.That(Count(helps["predict"], "--format"), Is.EqualTo(1));
        Assert.That(Count(helps["filter"], "--model"), Is.Zero, "filter loads no model");
    }

    // The help table renders descriptions as console markup: a stray "[…]" in one (bench's shape syntax once) made
    // `convengine bench --help` fail with an internal error. Every command's help, through the real entry point.
    [TestCase("devices")] [TestCase("train")] [TestCase("evaluate")] [TestCase("predict")] [TestCase("augment")]
    [TestCase("curves")] [TestCase("filter")] [TestCase("invariance")] [TestCase("visualize")] [TestCase("summary")]
    [TestCase("series")] [TestCase("series-train")] [TestCase("conformance")] [TestCase("bench")] [TestCase("export")]
    [TestCase("weights")]
    public void Help_OfEveryCommand_RendersAndExitsZero(string command)
    {
        var result = CliHarness.RunProgram(command, "--help");
        Assert.That(result.Out + result.Error, Does.Not.Contain("internal error"));
        Assert.That(result.ExitCode, Is.Zero, result.Out + result.Error);
        Assert.That(result.Out, Does.Contain("USAGE"));
    }

    [Test]
    public void Help_OfBench_ShowsTheShapeSyntax() =>
        Assert.That(CliHarness.RunProgram("bench", "--help").Out, Does.Contain("ocOC, then optionally ,sS ,dD ,gG"));

    [TestCase("csv")]
    [TestCase("xml")]
    public void Evaluate_RefusesAFormatItDoesNotWrite_NamingTheOnesItDoes(string format)
    {
        var result = CliHarness.Run<EvaluateCommand>("--model", "m", "--data", "d", "--format", format);
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Out + result.Error, Does.Contain("--format must be text or json").And.Contain($"'{format}'"));
    }

    [Test]
    public void Predict_WithoutModel_SaysModelIsRequired()
    {
        var result = CliHarness.Run<PredictCommand>("image.png");
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Out + result.Error, Does.Contain("--model is required"));
    }

    [Test]
    public void Train_BatchSizeBelowOne_IsRefusedByTheSharedCheck()
    {
        var result = CliHarness.Run<TrainCommand>("--batch-size", "0");
        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Out + result.Error, Does.Contain("--batch-size must be at least 1; got 0"));
    }
}
