using System.Diagnostics;
using ConvEngine.Cli.Commands;
using ConvEngine.Serialization;
using NUnit.Framework;

namespace ConvEngine.Tests.Cli;

/// <summary>
/// `convengine train` killed as a real OS process (SIGKILL: no cancellation handler, no finally blocks run) after
/// its first checkpoint, then continued with --resume, ends where an uninterrupted run ends. Keras's contract for
/// fit(initial_epoch=N) after restoring the weights and optimizer state is that epochs N+1… are the same epochs.
/// </summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console for the in-process runs
public class TrainKillResumeTests
{
    private const int Epochs = 3;

    /// <summary>Bounds every wait on the child process; the child is killed in any case.</summary>
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);

    private SyntheticImages _images = null!;

    [SetUp] public void SetUp() => _images = new SyntheticImages();
    [TearDown] public void TearDown() => _images.Dispose();

    [Test]
    public void Train_KilledAfterFirstCheckpoint_ResumesToTheSameHistoryAndWeightsAsAnUninterruptedRun()
    {
        string data = _images.TrainValid(["bright", "dark"]);
        // The course's convnet on the 12×12 images resized to 48×48: heavy enough (a fraction of a second an epoch)
        // that the kill lands inside the run, light enough for the suite.
        string[] Args(string outDir) =>
            ["--data", data, "--image-size", "48", "--epochs", $"{Epochs}", "--batch-size", "8", "--seed", "1", "--out", outDir];

        string uninterrupted = _images.PathOf("A");
        // Automatic layer names (conv2d, conv2d_1, …) count per process, as in a Keras session; the child process
        // starts from zero, so this one must too (Keras's clear_session) for the weight files to match byte for byte.
        ConvEngine.Layers.LayerNames.Reset();
        var a = CliHarness.Run<TrainCommand>(Args(uninterrupted));
        Assert.That(a.ExitCode, Is.EqualTo(0), a.Error);

        string killed = _images.PathOf("B");
        var killedOutput = new TrainingOutput(killed);
        // Killed as soon as epoch 1's checkpoint is renamed into place, so the kill often lands inside the atomic
        // writes of history.csv or a plot that follow it: --resume must sweep the ".NAME.PID.GUID.tmp" left behind.
        int checkpointAtKill = KillAfterFirstCheckpoint(["train", .. Args(killed)], killedOutput.CheckpointDirectory);
        if (checkpointAtKill >= Epochs)
            Assert.Inconclusive($"The child finished all {Epochs} epochs before it could be killed; nothing was interrupted.");
        Assert.That(File.Exists(Path.Combine(killed, TrainingOutput.ModelFolderName, ModelFiles.WeightsFile)), Is.False,
            "the killed run never reached its final model save");

        var resumed = CliHarness.Run<TrainCommand>(["--resume", .. Args(killed)]);
        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Error);
        Assert.That(resumed.Out, Does.Contain($"Epoch {Epochs}/{Epochs}").And.Not.Contain($"Epoch 1/{Epochs}"),
            "the resumed run trains only the epochs the killed one did not checkpoint");

        var expected = new TrainingOutput(uninterrupted);
        var actual = new TrainingOutput(killed);
        // Row for row, the same text: the same epochs and every loss and metric to the digit written.
        Assert.That(File.ReadAllLines(actual.HistoryCsv), Is.EqualTo(File.ReadAllLines(expected.HistoryCsv)));
        Assert.That(HistoryCsv.Read(actual.HistoryCsv).Column("epoch"), Is.EqualTo(new[] { 0.0, 1.0, 2.0 }));
        Assert.That(File.ReadAllBytes(Path.Combine(actual.ModelDirectory, ModelFiles.WeightsFile)),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(expected.ModelDirectory, ModelFiles.WeightsFile))), "final weights, byte for byte");
        Assert.That(Directory.GetFiles(Path.Combine(actual.CheckpointDirectory, Checkpoint.FolderName(Epochs))).Select(Path.GetFileName),
            Is.EquivalentTo(Directory.GetFiles(Path.Combine(expected.CheckpointDirectory, Checkpoint.FolderName(Epochs))).Select(Path.GetFileName)));

        // AtomicFile/AtomicDirectory write aside as ".name.PID.GUID.tmp" and rename; none may be left behind.
        var leftovers = Directory.EnumerateFileSystemEntries(killed, "*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".tmp", StringComparison.Ordinal) || p.EndsWith(".old", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(killed, p)).ToList();
        Assert.That(leftovers, Is.Empty, $"temp files left in {killed} (checkpoint at the kill: epoch {checkpointAtKill})");
    }

    /// <summary>
    /// Starts `dotnet ConvEngine.Cli.dll <paramref name="args"/>`, waits for the first complete checkpoint to appear,
    /// kills the process tree at once and returns the newest checkpoint's epoch count at that moment
    /// (<see cref="Epochs"/> when the child had already finished on its own).
    /// </summary>
    private static int KillAfterFirstCheckpoint(string[] args, string checkpointDirectory)
    {
        string cli = typeof(TrainCommand).Assembly.Location;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start dotnet {cli}");
        // Drain the pipes so a chatty child never blocks on a full buffer.
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow + ChildTimeout;
            // A checkpoint folder appears by rename with training.json inside, so FindLatest sees only whole ones.
            while (Checkpoint.FindLatest(checkpointDirectory) is null)
            {
                if (child.HasExited)
                {
                    child.WaitForExit();
                    Assert.Fail($"the child exited ({child.ExitCode}) before its first epoch ended:\n{stderr.Result}\n{stdout.Result}");
                }
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"no checkpoint in {checkpointDirectory} within {ChildTimeout.TotalSeconds} s");
                Thread.Sleep(2);
            }
            bool finishedAlone = child.HasExited;
            if (!finishedAlone) child.Kill(entireProcessTree: true);
            Assert.That(child.WaitForExit(ChildTimeout), Is.True, "the killed child did not exit");
            string latest = Checkpoint.FindLatest(checkpointDirectory)!;
            int epochs = int.Parse(Path.GetFileName(latest)["epoch-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            if (finishedAlone) return Epochs;
            Assert.That(child.ExitCode, Is.Not.EqualTo(0), "a killed process does not report success");
            return epochs;
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit(ChildTimeout);
            }
        }
    }
}
