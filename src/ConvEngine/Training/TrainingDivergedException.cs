namespace ConvEngine.Training;

/// <summary>
/// The loss, a gradient or a weight became NaN or infinite; training stopped before applying that step's update,
/// and no checkpoint was written with it, so <see cref="LastCheckpoint"/> (the last one with finite values) is the
/// point to resume from.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>The loss turned non-finite at <paramref name="step"/> of <paramref name="steps"/> in <paramref name="epoch"/>.</summary>
    public TrainingDivergedException(int epoch, int step, int steps, double loss, string? lastCheckpoint)
        : this(epoch, step, steps, loss, lastCheckpoint, what: $"the loss is {loss}", layer: null) { }

    /// <param name="what">What turned non-finite: "the loss is NaN", "the gradient of weight 'dense/kernel' holds Infinity".</param>
    /// <param name="layer">The layer where the non-finite values first appear (forward order), when it is known.</param>
    /// <param name="epoch">1-based epoch number.</param>
    /// <param name="step">1-based step in that epoch.</param>
    /// <param name="steps">Steps per epoch.</param>
    /// <param name="loss">The loss value that was not finite.</param>
    /// <param name="lastCheckpoint">The last checkpoint written with finite values, or null.</param>
    public TrainingDivergedException(int epoch, int step, int steps, double loss, string? lastCheckpoint, string what, string? layer)
        : base($"Training stopped: {what} at epoch {epoch}, step {step} of {steps} (both counted from 1)" +
               (layer is null ? ". " : $"; the first non-finite values are in layer '{layer}'. ") +
               (lastCheckpoint is null
                   ? "No checkpoint was written before it; "
                   : $"The last checkpoint with finite values is {lastCheckpoint} (resume from it); ") +
               "try a lower learning rate or check the inputs for NaN/Inf.")
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
        LastCheckpoint = lastCheckpoint;
        Layer = layer;
    }

    /// <summary>1-based epoch number, as Keras prints "Epoch 3/10".</summary>
    public int Epoch { get; }
    /// <summary>1-based step within the epoch.</summary>
    public int Step { get; }
    /// <summary>The loss value that was not finite.</summary>
    public double Loss { get; }
    /// <summary>The last checkpoint written with finite values, or null.</summary>
    public string? LastCheckpoint { get; }
    /// <summary>The layer where the non-finite values first appear, or null when that is not known.</summary>
    public string? Layer { get; }
}
