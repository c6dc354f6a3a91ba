using System.Text.RegularExpressions;
using ConvEngine.Cli.Commands;
using ConvEngine.Tests.Cli;
using NUnit.Framework;

namespace ConvEngine.Tests.Hardening;

/// <summary>
/// The one error format of `convengine`, through the executable's own entry point: every command (as `convengine
/// --help` lists them, so a command added later is covered without a new test) refuses an unknown option and a
/// misspelt one with exit code 2, one line on standard error and the closest valid name; bad input is exit code 1 and
/// one line naming the file; a stack trace appears only with --debug.
/// </summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public partial class CommandLineTests
{
    private static List<string> Commands()
    {
        var help = CliHarness.RunProgram("--help");
        var names = CommandNames(help.Out);
        // Branches list their own commands.
        foreach (var branch in names.ToList())
        {
            var sub = CliHarness.RunProgram(branch, "--help");
            if (sub.Out.Contains("<COMMAND>", StringComparison.Ordinal)) { names.Remove(branch); names.AddRange(CommandNames(sub.Out).Select(n => $"{branch} {n}")); }
        }
        return names;
    }

    private static List<string> CommandNames(string help) =>
        help[help.IndexOf("COMMANDS:", StringComparison.Ordinal)..].Split('\n').Skip(1)
            .Select(l => CommandEntry().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The long options a command's --help lists ("--epochs"), --help itself left out.</summary>
    private static List<string> LongOptions(string command) =>
        OptionLine().Matches(CliHarness.RunProgram([.. command.Split(' '), "--help"]).Out).Select(m => m.Groups[1].Value)
            .Where(o => o != "--help").Distinct().ToList();

    private static void AssertUsageError(CliHarness.Result run, string command, string expected)
    {
        Assert.That(run.ExitCode, Is.EqualTo(CommandLine.UsageExitCode), run.Error + run.Out);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), run.Error);
        Assert.That(lines[0], Does.StartWith($"convengine {command}: ").And.Contain(expected));
        Assert.That(run.Out, Is.Empty, "nothing ran");
    }

    [Test]
    public void EveryCommand_RefusesAnUnknownOption_WithExitCode2AndOneLine()
    {
        var commands = Commands();
        Assert.That(commands, Is.SupersetOf(new[] { "train", "evaluate", "predict", "filter", "conformance", "devices", "weights list", "weights convert" }));
        foreach (var command in commands)
            AssertUsageError(CliHarness.RunProgram([.. command.Split(' '), "--no-such-option-here"]), command, "unknown option '--no-such-option-here'");
    }

    [Test]
    public void EveryCommand_SuggestsTheClosestOption_ForAMisspeltOne()
    {
        foreach (var command in Commands())
        {
            // The longest option with one letter dropped: close to it, and to no other.
            var options = LongOptions(command);
            if (options.Count == 0) continue;
            string option = options.MaxBy(o => o.Length)!;
            string misspelt = option[..^1];
            if (options.Contains(misspelt)) continue;
            AssertUsageError(CliHarness.RunProgram([.. command.Split(' '), misspelt, "x"]), command, $"did you mean {option}?");
        }
    }

    [Test]
    public void Train_Bogus_And_EpochTypo_AreRefusedBeforeAnyTraining()
    {
        AssertUsageError(CliHarness.RunProgram("train", "--bogus"), "train", "unknown option '--bogus'");
        AssertUsageError(CliHarness.RunProgram("train", "--epoch", "40"), "train", "unknown option '--epoch'; did you mean --epochs?");
    }

    [Test]
    public void Train_ValidationSplitThatIsNoNumber_NamesTheOptionAndTheValue()
    {
        AssertUsageError(CliHarness.RunProgram("train", "--validation-split", "x"), "train", "--validation-split got 'x', which is not a number");
    }

    [Test]
    public void StrayArgumentsAndUnknownCommands_AreUsageErrorsWithASuggestion()
    {
        AssertUsageError(CliHarness.RunProgram("devices", "extra"), "devices", "unexpected argument 'extra'");
        AssertUsageError(CliHarness.RunProgram("filter", "a.png", "b.png", "--out", "x"), "filter", "unexpected argument 'b.png'");
        var unknown = CliHarness.RunProgram("trian");
        Assert.That(unknown.ExitCode, Is.EqualTo(CommandLine.UsageExitCode));
        Assert.That(unknown.Error.Trim(), Is.EqualTo("convengine: unknown command 'trian'; did you mean 'train'? (convengine --help lists the commands)"));
        AssertUsageError(CliHarness.RunProgram("weights", "lst"), "weights", "did you mean 'list'?");
    }

    [TestCase("predict", "--model", "{missing}", "{image}")]
    [TestCase("evaluate", "--model", "{missing}", "--data", "{out}")]
    [TestCase("filter", "{missing}", "--out", "{out}")]
    [TestCase("summary", "--model", "{missing}")]
    [TestCase("visualize", "--model", "{missing}", "{image}", "--out", "{out}")]
    [TestCase("export", "--model", "{missing}", "--output", "{out}.onnx")]
    [TestCase("weights", "convert", "{missing}", "--arch", "vgg16", "-o", "{out}.safetensors")]
    public void BadInput_IsExitCode1AndOneLineNamingTheFile_WithoutAStackTrace(params string[] template)
    {
        string dir = Directory.CreateTempSubdirectory("convengine-cli-errors-").FullName;
        try
        {
            string missing = Path.Combine(dir, "no-such-model-or-file");
            string image = Path.Combine(dir, "image.png");
            ConvEngine.Data.Images.ImageIO.SavePng(image, new float[28 * 28], 28, 28, 1);
            var args = template.Select(a => a.Replace("{missing}", missing).Replace("{image}", image).Replace("{out}", Path.Combine(dir, "out"))).ToArray();
            var run = CliHarness.RunProgram(args);
            Assert.That(run.ExitCode, Is.EqualTo(1), run.Error + run.Out);
            var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Has.Length.EqualTo(1), run.Error);
            string command = template[0] == "weights" ? "weights convert" : template[0];
            Assert.That(lines[0], Does.StartWith($"convengine {command}: ").And.Contain("no-such-model-or-file"));
            Assert.That(run.Error, Does.Not.Contain("   at "));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void Debug_AddsTheStackTrace_OnlyWhenAsked()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"convengine-no-such-{Guid.NewGuid():N}");
        var plain = CliHarness.RunProgram("summary", "--model", missing);
        var debug = CliHarness.RunProgram("summary", "--model", missing, "--debug");
        Assert.That(plain.Error, Does.Not.Contain("   at "));
        Assert.That(debug.ExitCode, Is.EqualTo(plain.ExitCode));
        Assert.That(debug.Error, Does.StartWith(plain.Error.Split('\n')[0]).And.Contain("   at "), "the same line, then the stack trace");
    }

    [Test]
    public void InternalError_IsReportedAsABugOnOneLine()
    {
        var (code, message) = ConvEngine.Cli.Commands.CommandLine.Describe(new NullReferenceException("Object reference not set"), ["predict"], []);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(message, Does.StartWith("internal error (NullReferenceException: Object reference not set)").And.Contain("--debug"));
    }

    [TestCase("--epoch", new[] { "--epochs", "--seed", "--out" }, "--epochs")]
    [TestCase("--modle", new[] { "--model", "--mode" }, "--model")]
    [TestCase("--zzzzzz", new[] { "--epochs", "--seed" }, null)]
    public void Closest_IsByEditDistance_AndNoneWhenFarFromEverything(string given, string[] candidates, string? expected) =>
        Assert.That(ConvEngine.Cli.Commands.CommandLine.Closest(given, candidates), Is.EqualTo(expected));

    [GeneratedRegex(@"^ {4}([a-z][a-z0-9-]*)\b")]
    private static partial Regex CommandEntry();

    [GeneratedRegex(@"(?:^|\s|,\s)(--[a-z][a-z0-9-]+)")]
    private static partial Regex OptionLine();
}
