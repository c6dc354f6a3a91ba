using ConvEngine.Models;

namespace ConvEngine.Training;

/// <summary>What a training run will do, given to callbacks when it starts (Keras's callback.params).</summary>
/// <param name="Epochs">The epoch count Fit runs up to (exclusive bound of epoch indices).</param>
/// <param name="InitialEpoch">The first epoch index (above 0 when resuming).</param>
/// <param name="Steps">Batches per epoch.</param>
/// <param name="Samples">Training samples per epoch.</param>
/// <param name="HasValidation">Whether validation data is evaluated after each epoch.</param>
public sealed record TrainingParams(int Epochs, int InitialEpoch, int Steps, int Samples, bool HasValidation);

/// <summary>
/// Hooks into <see cref="Model.Fit"/>, as Keras callbacks: progress display, logging, early stopping
/// (set <see cref="Model.StopTraining"/>), learning-rate changes. Epoch and batch indices are 0-based;
/// batch logs hold the running means of the epoch so far ("loss", metrics), epoch logs add "val_…".
/// </summary>
public abstract class Callback
{
    /// <summary>The model being trained; set before <see cref="OnTrainBegin"/>.</summary>
    public Model? Model { get; internal set; }

    /// <summary>Called once before the first epoch.</summary>
    public virtual void OnTrainBegin(TrainingParams parameters) { }
    /// <summary>Called at the start of each epoch (0-based).</summary>
    public virtual void OnEpochBegin(int epoch) { }
    /// <summary>Called after each training step with the epoch's loss and metrics so far.</summary>
    public virtual void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) { }
    /// <summary>Called after each epoch with its loss and metrics (and the validation ones).</summary>
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { }
    /// <summary>Called once after the last epoch with the whole history.</summary>
    public virtual void OnTrainEnd(History history) { }
}

/// <summary>A callback from delegates, for one-off hooks: <c>new LambdaCallback { EpochEnd = (e, logs) => … }</c>.</summary>
public sealed class LambdaCallback : Callback
{
    /// <summary>Run by <see cref="Callback.OnTrainBegin"/>.</summary>
    public Action<TrainingParams>? TrainBegin { get; init; }
    /// <summary>Run by <see cref="Callback.OnEpochBegin"/>.</summary>
    public Action<int>? EpochBegin { get; init; }
    /// <summary>Run by <see cref="Callback.OnTrainBatchEnd"/>.</summary>
    public Action<int, IReadOnlyDictionary<string, double>>? TrainBatchEnd { get; init; }
    /// <summary>Run by <see cref="Callback.OnEpochEnd"/>.</summary>
    public Action<int, IReadOnlyDictionary<string, double>>? EpochEnd { get; init; }
    /// <summary>Run by <see cref="Callback.OnTrainEnd"/>.</summary>
    public Action<History>? TrainEnd { get; init; }

    /// <inheritdoc/>
    public override void OnTrainBegin(TrainingParams parameters) => TrainBegin?.Invoke(parameters);
    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch) => EpochBegin?.Invoke(epoch);
    /// <inheritdoc/>
    public override void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) => TrainBatchEnd?.Invoke(batch, logs);
    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) => EpochEnd?.Invoke(epoch, logs);
    /// <inheritdoc/>
    public override void OnTrainEnd(History history) => TrainEnd?.Invoke(history);
}
