namespace ConvEngine.Training;

/// <summary>
/// Pauses for the process-level interruption tests, set by environment variables a test gives a child `convengine
/// train`; unset (the normal case) they cost one null check. A paused run prints a line on standard error and waits,
/// so the test signals or kills it at a known point instead of racing a clock:
/// <c>CONVENGINE_TEST_PAUSE_AFTER_STEP=E:S</c> pauses after step S of epoch E (both from 1) until Fit is cancelled;
/// <c>CONVENGINE_TEST_PAUSE_IN_CHECKPOINT=NAME</c> pauses inside the write of checkpoint folder NAME (before it is
/// renamed into place) for good.
/// </summary>
internal static class TestHooks
{
    private static readonly (int Epoch, int Step)? PauseAfter = ParseStep(Environment.GetEnvironmentVariable("CONVENGINE_TEST_PAUSE_AFTER_STEP"));
    private static readonly string? PauseInCheckpoint = Environment.GetEnvironmentVariable("CONVENGINE_TEST_PAUSE_IN_CHECKPOINT") is { Length: > 0 } name ? name : null;

    public static void AfterStep(int epoch, int step, CancellationToken token)
    {
        if (PauseAfter != (epoch, step)) return;
        Console.Error.WriteLine($"[test hook] paused after epoch {epoch} step {step}");
        Console.Error.Flush();
        while (!token.IsCancellationRequested) Thread.Sleep(5);
    }

    public static void InCheckpointWrite(string folderName)
    {
        if (PauseInCheckpoint != folderName) return;
        Console.Error.WriteLine($"[test hook] paused writing checkpoint {folderName}");
        Console.Error.Flush();
        Thread.Sleep(Timeout.Infinite);
    }

    private static (int, int)? ParseStep(string? text) =>
        text?.Split(':') is [var e, var s] && int.TryParse(e, out int epoch) && int.TryParse(s, out int step) ? (epoch, step) : null;
}
