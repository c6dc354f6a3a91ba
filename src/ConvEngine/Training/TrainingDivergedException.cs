namespace ConvEngine.Training;

/// <summary>The loss became NaN or infinite; training stopped before applying that step's update.</summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException(int epoch, int step, int steps, double loss, string? lastCheckpoint)
        : base($"Training stopped: the loss is {loss} at epoch {epoch}, step {step} of {steps} (both counted from 1). " +
               (lastCheckpoint is null
                   ? "No checkpoint was written before it; "
                   : $"The last checkpoint with finite losses is {lastCheckpoint}; ") +
               "try a lower learning rate or check the inputs for NaN/Inf.")
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
        LastCheckpoint = lastCheckpoint;
    }

    /// <summary>1-based epoch number, as Keras prints "Epoch 3/10".</summary>
    public int Epoch { get; }
    /// <summary>1-based step within the epoch.</summary>
    public int Step { get; }
    public double Loss { get; }
    public string? LastCheckpoint { get; }
}
