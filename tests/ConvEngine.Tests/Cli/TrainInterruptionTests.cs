using System.Diagnostics;
using System.Runtime.InteropServices;
using ConvEngine.Cli.Commands;
using ConvEngine.Serialization;
using NUnit.Framework;

namespace ConvEngine.Tests.Cli;

/// <summary>
/// `convengine train` as a real OS process, interrupted and continued with --resume, ends where an uninterrupted run
/// ends, history and final weights byte for byte (Keras's contract for fit(initial_epoch=N) after restoring weights and
/// optimizer state). Interrupted by SIGINT (finish the step, checkpoint inside the epoch, exit 130, say how to resume),
/// by a second SIGINT while that checkpoint is written (exit at once), and by SIGKILL at random steps inside epochs and
/// inside a checkpoint write. The child pauses at the chosen point (CONVENGINE_TEST_PAUSE_*) and says so on standard
/// error, and the test waits for that line, never for a clock, so a slow machine only makes it slower.
/// </summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console for the in-process runs
public partial class TrainInterruptionTests
{
    private const int Epochs = 3, StepsPerEpoch = 4;   // 32 training images, batch 8

    /// <summary>Bounds every wait on a child (a hang fails the test instead of blocking the suite).</summary>
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromMinutes(3);

    private SyntheticImages _images = null!;
    private string _data = null!, _uninterrupted = null!;

    [OneTimeSetUp]
    public void TrainUninterrupted()
    {
        _images = new SyntheticImages();
        _data = _images.TrainValid(["bright", "dark"]);
        _uninterrupted = _images.PathOf("uninterrupted");
        // Automatic layer names (conv2d, conv2d_1, …) count per process, as in a Keras session; a child process starts
        // from zero, so this one must too (Keras's clear_session) for the weight files to match byte for byte.
        ConvEngine.Layers.LayerNames.Reset();
        var run = CliHarness.RunProgram(["train", .. Args(_uninterrupted)]);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
    }

    [OneTimeTearDown] public void Cleanup() => _images.Dispose();

    // The course's convnet on the 12×12 images resized to 48×48.
    private string[] Args(string outDir) =>
        ["--data", _data, "--image-size", "48", "--epochs", $"{Epochs}", "--batch-size", "8", "--seed", "1", "--out", outDir];

    [Test]
    public void Sigint_FinishesTheStep_CheckpointsInsideTheEpoch_Exits130_AndResumesToTheSameResult()
    {
        string outDir = _images.PathOf("sigint");
        using var child = Child(outDir, ("CONVENGINE_TEST_PAUSE_AFTER_STEP", "2:3"));
        child.WaitForLine("[test hook] paused after epoch 2 step 3");
        child.Signal(2);   // SIGINT
        int code = child.WaitForExit();

        Assert.That(code, Is.EqualTo(CommandLine.InterruptedExitCode), child.Output);
        string checkpoint = Path.Combine(new TrainingOutput(outDir).CheckpointDirectory, Checkpoint.FolderName(1, 3));
        Assert.That(Directory.Exists(checkpoint), Is.True, $"the state after epoch 2 step 3 is checkpointed\n{child.Output}");
        Assert.That(child.Output, Does.Contain("stopped at epoch 2, step 3 of 4").And.Contain("Continue with: convengine train").And.Contain("--resume"));
        AssertResumesToUninterrupted(outDir, resumedFromEpoch: 2);
    }

    [Test]
    public void SecondSigint_WhileTheCheckpointIsWritten_ExitsAtOnce_AndTheLastCompleteCheckpointResumes()
    {
        string outDir = _images.PathOf("twice");
        using var child = Child(outDir, ("CONVENGINE_TEST_PAUSE_AFTER_STEP", "2:1"), ("CONVENGINE_TEST_PAUSE_IN_CHECKPOINT", Checkpoint.FolderName(1, 1)));
        child.WaitForLine("[test hook] paused after epoch 2 step 1");
        child.Signal(2);
        child.WaitForLine($"[test hook] paused writing checkpoint {Checkpoint.FolderName(1, 1)}");
        child.Signal(2);
        int code = child.WaitForExit();

        Assert.That(code, Is.EqualTo(CommandLine.InterruptedExitCode), child.Output);
        Assert.That(child.Output, Does.Contain("again: stopped at once"));
        Assert.That(Checkpoint.FindLatest(new TrainingOutput(outDir).CheckpointDirectory), Does.EndWith(Checkpoint.FolderName(1)),
            "the interrupted checkpoint was never renamed into place; epoch 1's is the latest");
        AssertResumesToUninterrupted(outDir, resumedFromEpoch: 2);
    }

    [Test]
    public void Sigkill_AtRandomStepsInsideEpochs_AndInsideACheckpointWrite_ResumesToTheSameResult()
    {
        var random = TestContext.CurrentContext.Random;
        // Two random steps (never the very last one of the run, where nothing would be left to resume) and a checkpoint write.
        var points = new List<(string Name, string Value, string Line)>();
        for (int i = 0; i < 2; i++)
        {
            int e = 1 + random.Next(Epochs), s = 1 + random.Next(e == Epochs ? StepsPerEpoch - 1 : StepsPerEpoch);
            points.Add(("CONVENGINE_TEST_PAUSE_AFTER_STEP", $"{e}:{s}", $"[test hook] paused after epoch {e} step {s}"));
        }
        string folder = Checkpoint.FolderName(1 + random.Next(Epochs - 1));
        points.Add(("CONVENGINE_TEST_PAUSE_IN_CHECKPOINT", folder, $"[test hook] paused writing checkpoint {folder}"));

        for (int i = 0; i < points.Count; i++)
        {
            var (name, value, line) = points[i];
            string outDir = _images.PathOf($"killed-{i}");
            using (var child = Child(outDir, (name, value)))
            {
                child.WaitForLine(line);
                child.Kill();
            }
            TestContext.Out.WriteLine($"killed at {name}={value}; latest checkpoint {Checkpoint.FindLatest(new TrainingOutput(outDir).CheckpointDirectory) ?? "none"}");
            if (Checkpoint.FindLatest(new TrainingOutput(outDir).CheckpointDirectory) is null)
            {
                // Killed inside epoch 1: nothing to resume; a fresh run must still give the same result.
                ConvEngine.Layers.LayerNames.Reset();
                var fresh = CliHarness.RunProgram(["train", .. Args(outDir)]);
                Assert.That(fresh.ExitCode, Is.EqualTo(0), fresh.Error);
                AssertSameResult(outDir);
                continue;
            }
            AssertResumesToUninterrupted(outDir, resumedFromEpoch: null);
        }
    }

    private void AssertResumesToUninterrupted(string outDir, int? resumedFromEpoch)
    {
        var resumed = CliHarness.RunProgram(["train", "--resume", .. Args(outDir)]);
        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Error);
        Assert.That(resumed.Out, Does.Contain($"Epoch {Epochs}/{Epochs}"));
        if (resumedFromEpoch is { } first)
            Assert.That(resumed.Out, Does.Contain($"Epoch {first}/{Epochs}").And.Not.Contain($"Epoch {first - 1}/{Epochs}"), "only what was not done is trained");
        AssertSameResult(outDir);
    }

    private void AssertSameResult(string outDir)
    {
        var expected = new TrainingOutput(_uninterrupted);
        var actual = new TrainingOutput(outDir);
        // Row for row, the same text: the same epochs and every loss and metric to the digit written.
        Assert.That(File.ReadAllLines(actual.HistoryCsv), Is.EqualTo(File.ReadAllLines(expected.HistoryCsv)), outDir);
        Assert.That(File.ReadAllBytes(Path.Combine(actual.ModelDirectory, ModelFiles.WeightsFile)),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(expected.ModelDirectory, ModelFiles.WeightsFile))), "final weights, byte for byte");
        // AtomicFile/AtomicDirectory write aside as ".name.PID.GUID.tmp" and rename; none may be left behind after the resume.
        var leftovers = Directory.EnumerateFileSystemEntries(outDir, "*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".tmp", StringComparison.Ordinal) || p.EndsWith(".old", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(outDir, p)).ToList();
        Assert.That(leftovers, Is.Empty, $"temp files left in {outDir}");
    }

    private TrainingChild Child(string outDir, params (string Name, string Value)[] environment) => new(["train", .. Args(outDir)], environment);

    /// <summary>`dotnet ConvEngine.Cli.dll train …` with its standard error read line by line.</summary>
    private sealed partial class TrainingChild : IDisposable
    {
        private readonly Process _process;
        private readonly System.Collections.Concurrent.BlockingCollection<string> _lines = [];
        private readonly System.Text.StringBuilder _all = new();
        private readonly Task _stdout;

        public TrainingChild(string[] args, (string Name, string Value)[] environment)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            start.ArgumentList.Add(typeof(TrainCommand).Assembly.Location);
            foreach (var a in args) start.ArgumentList.Add(a);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            foreach (var (name, value) in environment) start.Environment[name] = value;
            _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the training child");
            _stdout = Task.Run(() => { string? l; while ((l = _process.StandardOutput.ReadLine()) is not null) lock (_all) _all.AppendLine(l); });
            Task.Run(() =>
            {
                string? l;
                while ((l = _process.StandardError.ReadLine()) is not null)
                {
                    lock (_all) _all.AppendLine(l);
                    _lines.Add(l);
                }
                _lines.CompleteAdding();
            });
        }

        public string Output { get { lock (_all) return _all.ToString(); } }

        public void WaitForLine(string expected)
        {
            var deadline = DateTime.UtcNow + ChildTimeout;
            while (DateTime.UtcNow < deadline)
            {
                if (_lines.TryTake(out var line, 100))
                {
                    if (line.Contains(expected, StringComparison.Ordinal)) return;
                    continue;
                }
                if (_lines.IsCompleted) Assert.Fail($"the child ended ({(_process.HasExited ? _process.ExitCode : -1)}) without printing '{expected}':\n{Output}");
            }
            Assert.Fail($"no '{expected}' within {ChildTimeout.TotalMinutes} min:\n{Output}");
        }

        public void Signal(int signal) => Assert.That(SendSignal(_process.Id, signal), Is.Zero, $"kill({_process.Id}, {signal})");

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            Assert.That(_process.WaitForExit(ChildTimeout), Is.True, "the killed child did not exit");
        }

        public int WaitForExit()
        {
            Assert.That(_process.WaitForExit(ChildTimeout), Is.True, $"the child did not exit:\n{Output}");
            _process.WaitForExit();
            _stdout.Wait(ChildTimeout);
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(ChildTimeout);
            }
            _process.Dispose();
        }

        [LibraryImport("libc", EntryPoint = "kill")]
        private static partial int SendSignal(int pid, int signal);
    }
}
