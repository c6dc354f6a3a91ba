namespace ConvEngine.Training;

/// <summary>
/// Fit was cancelled (Ctrl+C, SIGTERM, a cancelled token): the step under way was finished, a checkpoint of the state
/// after it was written (when Fit has a checkpoint folder), and training stopped. Resuming from
/// <see cref="Checkpoint"/> continues exactly where it stopped, inside the epoch if need be.
/// </summary>
public sealed class TrainingInterruptedException(int epoch, int step, int steps, string? checkpoint, CancellationToken token)
    : OperationCanceledException(
        $"Training interrupted at epoch {epoch}, step {step} of {steps}" +
        (checkpoint is null ? "; no checkpoint folder was given, so nothing was saved." : $"; its state is checkpointed in {checkpoint}."), token)
{
    /// <summary>1-based epoch in which training stopped.</summary>
    public int Epoch { get; } = epoch;
    /// <summary>Steps of that epoch done (and checkpointed); 0 when it stopped between epochs.</summary>
    public int Step { get; } = step;
    /// <summary>Steps in that epoch.</summary>
    public int Steps { get; } = steps;
    /// <summary>The checkpoint to resume from, or null when none was written (no folder given, or nothing trained yet).</summary>
    public string? Checkpoint { get; } = checkpoint;
}
