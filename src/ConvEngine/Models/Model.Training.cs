using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Losses;
using ConvEngine.Metrics;
using ConvEngine.Optimizers;
using ConvEngine.Serialization;
using ConvEngine.Training;

namespace ConvEngine.Models;

public partial class Model
{
    private LossPlan? _plan;
    private List<Metric> _metrics = [];

    /// <summary>The optimizer given to Compile; null before.</summary>
    public Optimizer? Optimizer { get; private set; }
    /// <summary>The loss given to Compile; null before.</summary>
    public Loss? Loss { get; private set; }
    /// <summary>The compiled metrics, resolved ("accuracy" becomes binary, categorical or sparse accuracy under its own name).</summary>
    public IReadOnlyList<Metric> Metrics => _metrics;
    /// <summary>Whether Compile has run, so Fit and Evaluate can.</summary>
    public bool IsCompiled => _plan is not null;

    /// <summary>The history of the last Fit (continued across a resume), as Keras's model.history.</summary>
    public History? History { get; internal set; }
    /// <summary>Epochs completed over the model's life, including those before a resume.</summary>
    public int EpochsCompleted { get; internal set; }
    /// <summary>Training steps applied over the model's life; with <see cref="Seed"/> it fixes each step's dropout masks.</summary>
    public long StepsTrained { get; internal set; }
    /// <summary>Set by a callback to end Fit after the current batch (Keras's model.stop_training).</summary>
    public bool StopTraining { get; set; }
    /// <summary>The part of epoch <see cref="EpochsCompleted"/> + 1 already trained, restored from an interrupted run's checkpoint.</summary>
    internal EpochProgress? EpochInProgress { get; set; }

    /// <summary>
    /// Keras's compile: the optimizer, the loss (chosen from the logits when the output ends in sigmoid/softmax)
    /// and the metrics. Strings work for all three: Compile("adam", "binary_crossentropy", ["accuracy"]).
    /// Initializes the weights that have no value yet.
    /// </summary>
    public void Compile(Optimizer optimizer, Loss loss, IEnumerable<Metric>? metrics = null)
    {
        RequireGraph();
        var resolved = (metrics ?? []).Select(m => m.Resolve(loss, OutputShape)).ToList();
        var clash = resolved.Select(m => m.Name).Append("loss").GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new ArgumentException($"Compile: the metric name '{clash.Key}' is used twice (or clashes with 'loss').");
        _plan = loss.Plan(Output, OutputActivationLayer());
        Optimizer = optimizer;
        Loss = loss;
        _metrics = resolved;
        Initialize();
    }

    private (Optimizer Optimizer, Loss Loss, LossPlan Plan) RequireCompiled(string operation) =>
        _plan is not null ? (Optimizer!, Loss!, _plan)
            : throw new InvalidOperationException($"{operation}: compile model '{Name}' first (Compile(optimizer, loss, metrics)).");

    /// <summary>
    /// Keras's fit: trains from epoch <paramref name="initialEpoch"/> up to <paramref name="epochs"/>, evaluating
    /// <paramref name="validationData"/> after each epoch. With <paramref name="checkpointDir"/>, saves a checkpoint
    /// after every epoch (model, optimizer state, epoch, RNG state, history) that <see cref="ResumeFit"/> continues from.
    /// A NaN or infinite loss, gradient or weight stops training with a <see cref="TrainingDivergedException"/> naming the
    /// epoch, the step and the layer, before that step's update and before any checkpoint holds it.
    /// Cancelling <paramref name="cancellationToken"/> stops after the step under way (or aborts the validation under way):
    /// the state after it is checkpointed (inside the epoch if need be) and a <see cref="TrainingInterruptedException"/>
    /// names the checkpoint; resuming from it gives what the uninterrupted run gives.
    /// </summary>
    /// <param name="initialEpoch">Keras's initial_epoch. When it equals the epochs already in <see cref="History"/> (after loading
    /// a checkpoint), the returned History continues that one.</param>
    /// <param name="keepCheckpoints">How many of the latest epoch checkpoints to keep in <paramref name="checkpointDir"/>.</param>
    /// <param name="trainingData">The batches of each epoch.</param>
    /// <param name="validationData">Batches evaluated after each epoch; null for none.</param>
    /// <param name="epochs">The epoch to stop after (counted from 1, as Keras counts).</param>
    /// <param name="callbacks">Called at the start and end of training, epochs and steps.</param>
    /// <param name="checkpointDir">Where a checkpoint is written after each epoch (and resumed from); null for none.</param>
    /// <param name="cancellationToken">Stops training between steps, after writing a checkpoint when there is a folder.</param>
    public History Fit(IBatchSource trainingData, IBatchSource? validationData = null, int epochs = 1,
        IEnumerable<Callback>? callbacks = null, string? checkpointDir = null, int initialEpoch = 0,
        int keepCheckpoints = 2, CancellationToken cancellationToken = default)
    {
        RequireCompiled("Fit");
        if (initialEpoch < 0 || epochs <= initialEpoch)
            throw new ArgumentException($"Fit: epochs ({epochs}) must exceed initial_epoch ({initialEpoch}), which must be non-negative.");
        if (keepCheckpoints < 1) throw new ArgumentException($"Fit: keepCheckpoints must be at least 1, got {keepCheckpoints}.");
        RequireSampleShape(trainingData, "Fit (training data)");
        if (validationData is not null) RequireSampleShape(validationData, "Fit (validation data)");
        Initialize();
        var callbackList = (callbacks ?? []).ToList();
        var history = initialEpoch > 0 && History is { } previous && previous.Count == initialEpoch ? previous : new History();
        History = history;
        // A fresh run into a folder a killed run wrote to, as much as a resumed one, sweeps that run's half-written temps.
        if (checkpointDir is not null) AtomicFile.RemoveLeftovers(checkpointDir);
        string? lastCheckpoint = checkpointDir is null ? null : Checkpoint.FindLatest(checkpointDir);
        StopTraining = false;
        // A checkpoint written inside epoch initialEpoch + 1: its first steps are done, and their running sums are restored.
        var resumed = initialEpoch == EpochsCompleted ? EpochInProgress : null;
        EpochInProgress = null;
        bool trainedAny = false;

        var parameters = new TrainingParams(epochs, initialEpoch, trainingData.BatchCount, trainingData.SampleCount, validationData is not null);
        foreach (var c in callbackList) c.Model = this;
        foreach (var c in callbackList) c.OnTrainBegin(parameters);

        for (int epoch = initialEpoch; epoch < epochs && !StopTraining; epoch++)
        {
            foreach (var c in callbackList) c.OnEpochBegin(epoch);
            var progress = epoch == initialEpoch ? resumed : null;
            var totals = progress is null ? new RunningMeans(_metrics, OutputShape[^1]) : RunningMeans.Restore(_metrics, OutputShape[^1], progress);
            int step = 0, done = progress?.Steps ?? 0;
            bool interrupted = false;
            foreach (var batch in trainingData.GetBatches(epoch))
            {
                // The same batches as the interrupted run saw (the order is seeded per epoch); those it trained are passed over.
                if (step < done) { step++; continue; }
                if (cancellationToken.IsCancellationRequested) { interrupted = true; break; }
                step++;
                double loss = TrainStep(batch, totals, "Fit");
                if (!double.IsFinite(loss))
                    throw Diverged(epoch + 1, step, trainingData.BatchCount, loss, lastCheckpoint);
                trainedAny = true;
                var batchLogs = totals.Logs();
                foreach (var c in callbackList) c.OnTrainBatchEnd(step - 1, batchLogs);
                TestHooks.AfterStep(epoch + 1, step, cancellationToken);
                if (StopTraining) break;
            }
            if (interrupted) throw Interrupted(epoch, step, trainingData.BatchCount, totals, checkpointDir, keepCheckpoints, trainedAny, lastCheckpoint, cancellationToken);
            if (step == 0) throw new InvalidOperationException($"Fit: the training data gave no batches in epoch {epoch + 1}.");

            var logs = totals.Logs();
            if (validationData is not null)
            {
                try
                {
                    foreach (var (key, value) in EvaluateCore(validationData, epoch, "Fit (validation)", cancellationToken))
                        logs["val_" + key] = value;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Every step of the epoch is done; the resumed run validates it.
                    throw Interrupted(epoch, step, trainingData.BatchCount, totals, checkpointDir, keepCheckpoints, true, lastCheckpoint, cancellationToken);
                }
            }
            // An update can overflow without its gradient being infinite (Adam with epsilon 0): no checkpoint keeps such weights.
            if (FirstNonFiniteWeight() is not null)
                throw Diverged(epoch + 1, step, trainingData.BatchCount, logs["loss"], lastCheckpoint);
            history.Append(epoch, logs);
            EpochsCompleted = epoch + 1;
            if (checkpointDir is not null)
                lastCheckpoint = Checkpoint.Save(this, checkpointDir, keepCheckpoints);
            foreach (var c in callbackList) c.OnEpochEnd(epoch, logs);
            if (cancellationToken.IsCancellationRequested && epoch + 1 < epochs && !StopTraining)
                throw new TrainingInterruptedException(epoch + 1, trainingData.BatchCount, trainingData.BatchCount, lastCheckpoint, cancellationToken);
        }
        foreach (var c in callbackList) c.OnTrainEnd(history);
        return history;
    }

    /// <summary>
    /// Continues training from the latest checkpoint in <paramref name="checkpointDir"/> up to <paramref name="epochs"/>,
    /// checkpointing there as it goes. Returns the restored model; its <see cref="History"/> holds every epoch.
    /// </summary>
    public static Model ResumeFit(string checkpointDir, IBatchSource trainingData, IBatchSource? validationData = null, int epochs = 1,
        IEnumerable<Callback>? callbacks = null, IBackend? backend = null, int keepCheckpoints = 2, CancellationToken cancellationToken = default)
    {
        AtomicFile.RemoveLeftovers(checkpointDir);   // a killed run may have died mid-write
        var model = Checkpoint.LoadLatest(checkpointDir, backend);
        if (model.EpochsCompleted < epochs)
            model.Fit(trainingData, validationData, epochs, callbacks, checkpointDir, model.EpochsCompleted, keepCheckpoints, cancellationToken);
        return model;
    }

    /// <summary>Keras's evaluate: the loss and metrics over all batches, each batch weighted by its size.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(IBatchSource data, CancellationToken cancellationToken = default)
    {
        RequireCompiled("Evaluate");
        RequireSampleShape(data, "Evaluate");
        Initialize();
        return EvaluateCore(data, 0, "Evaluate", cancellationToken);
    }

    private Dictionary<string, double> EvaluateCore(IBatchSource data, int epoch, string operation, CancellationToken cancellationToken)
    {
        var totals = new RunningMeans(_metrics, OutputShape[^1]);
        int batches = 0;
        foreach (var batch in data.GetBatches(epoch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (loss, prediction, _) = ForwardAndLoss(batch, training: false, operation);
            totals.Add(batch, loss, DownloadForMetrics(prediction));
            batches++;
        }
        if (batches == 0) throw new InvalidOperationException($"{operation}: the data gave no batches.");
        return totals.Logs();
    }

    /// <summary>One training step on one batch (Keras's train_on_batch); returns that batch's loss and metrics.
    /// A non-finite loss is returned without applying the update.</summary>
    public IReadOnlyDictionary<string, double> TrainOnBatch(Batch batch)
    {
        RequireCompiled("TrainOnBatch");
        Initialize();
        var totals = new RunningMeans(_metrics, OutputShape[^1]);
        double loss = TrainStep(batch, totals, "TrainOnBatch");
        if (_nonFiniteGradient is not null) throw Diverged(0, 1, 1, loss, null);
        return totals.Logs();
    }

    /// <summary>Loss and metrics of one batch in inference mode (Keras's test_on_batch).</summary>
    public IReadOnlyDictionary<string, double> TestOnBatch(Batch batch)
    {
        RequireCompiled("TestOnBatch");
        Initialize();
        var totals = new RunningMeans(_metrics, OutputShape[^1]);
        var (loss, prediction, _) = ForwardAndLoss(batch, training: false, "TestOnBatch");
        totals.Add(batch, loss, DownloadForMetrics(prediction));
        return totals.Logs();
    }

    /// <summary>
    /// Forward (in training mode) and backward on one batch without updating: afterwards every trainable
    /// weight's <see cref="Parameter.Gradient"/> holds d(loss)/d(weight). Returns the loss.
    /// </summary>
    public double ComputeGradients(Batch batch)
    {
        RequireCompiled("ComputeGradients");
        Initialize();
        var (loss, _, gradient) = ForwardAndLoss(batch, training: true, "ComputeGradients");
        BackwardGraph(gradient, inputNeedsGradient: false);
        return loss;
    }

    /// <summary>Keras's predict: the outputs for every batch, concatenated as (samples, output shape) row-major.</summary>
    public float[] Predict(IBatchSource data, CancellationToken cancellationToken = default)
    {
        RequireGraph();
        Initialize();
        var outputs = new List<float>();
        foreach (var batch in data.GetBatches(0))
        {
            cancellationToken.ThrowIfCancellationRequested();
            outputs.AddRange(PredictOnBatch(batch.Inputs, batch.InputShape, "Predict"));
        }
        return outputs.ToArray();
    }

    /// <summary>Predicts host samples laid out (samples, input shape) row-major, <paramref name="batchSize"/> at a time.</summary>
    public float[] Predict(float[] inputs, int batchSize = 32)
    {
        RequireGraph();
        Initialize();
        int sampleLength = InputShape.Aggregate(1, (a, d) => a * d);
        if (inputs.Length == 0 || inputs.Length % sampleLength != 0)
            throw new ShapeException($"Predict: {inputs.Length} values are not a whole number of samples of shape {SymbolicTensor.FormatShape(InputShape)} for model '{Name}'.");
        if (batchSize <= 0) throw new ArgumentException($"Predict: batch size must be positive, got {batchSize}.");
        int samples = inputs.Length / sampleLength;
        int outputLength = OutputShape.Aggregate(1, (a, d) => a * d);
        var result = new float[(long)samples * outputLength];
        for (int start = 0; start < samples; start += batchSize)
        {
            int n = Math.Min(batchSize, samples - start);
            var y = PredictOnBatch(inputs.AsSpan(start * sampleLength, n * sampleLength).ToArray(), [n, .. InputShape], "Predict");
            y.CopyTo(result, (long)start * outputLength);
        }
        return result;
    }

    private float[] PredictOnBatch(float[] inputs, int[] inputShape, string operation)
    {
        var x = UploadInputs(inputs, inputShape, operation);
        var y = RunGraph(x, ForwardContext.Inference);
        var host = new float[y.Length];
        Backend.Download(y.Buffer, host);
        return host;
    }

    // ---- one step ----

    private double TrainStep(Batch batch, RunningMeans totals, string operation)
    {
        var (optimizer, _, _) = RequireCompiled(operation);
        var (loss, prediction, gradient) = ForwardAndLoss(batch, training: true, operation);
        if (!double.IsFinite(loss))
        {
            totals.Add(batch, loss, null);
            return loss;
        }
        totals.Add(batch, loss, DownloadForMetrics(prediction));
        BackwardGraph(gradient, inputNeedsGradient: false);
        var trainable = Parameters.Where(p => p.Trainable && p.Gradient is not null).ToList();
        // A finite loss can still back-propagate an infinite gradient; the update is not applied (Fit reports the weight).
        if (FirstNonFiniteGradient(trainable) is { } bad)
        {
            _nonFiniteGradient = bad;
            return double.NaN;
        }
        optimizer.Apply(trainable);
        StepsTrained++;
        return loss;
    }

    /// <summary>Runs the graph and the loss kernel; returns the batch loss (mean over rows), the output and d(loss)/d(loss input).</summary>
    private (double Loss, Tensor Prediction, Tensor Gradient) ForwardAndLoss(Batch batch, bool training, string operation)
    {
        var (_, loss, plan) = RequireCompiled(operation);
        var x = UploadInputs(batch.Inputs, batch.InputShape, operation);
        var context = (training
            ? new ForwardContext(true, CounterRng.Hash(CounterRng.Hash(Seed, DropoutStream), (ulong)StepsTrained))
            : ForwardContext.Inference) with { LogitsOf = plan.LogitsLayer };
        var y = RunGraph(x, context);

        loss.ValidateTargets(batch.TargetShape, y.Shape, Output);
        int columns = y.Shape[-1];
        int rows = (int)(y.Length / columns);
        float[] targets = batch.Targets;
        if (loss is SparseCategoricalCrossentropy)
            SparseCategoricalCrossentropy.ValidateIndices(targets, columns, Output.Layer.Name);
        if (plan.SparseTargetsToOneHot) targets = OneHot(targets, columns);

        var targetTensor = Workspace("batch_targets", Backend, new TensorShape(targets.Length));
        Backend.Upload(targets, targetTensor.Buffer);
        var lossPerRow = Workspace("loss_per_row", Backend, new TensorShape(rows));
        var gradient = Workspace("grad_prediction", Backend, y.Shape);
        var lossInput = plan.LogitsLayer?.Logits ?? y;
        Backend.Loss(plan.Kind, lossInput.Buffer, targetTensor.Buffer, lossPerRow.Buffer, gradient.Buffer, rows, columns);

        var perRow = new float[rows];
        Backend.Download(lossPerRow.Buffer, perRow);
        double sum = 0;
        foreach (float v in perRow) sum += v;
        return (sum / rows, y, gradient);
    }

    /// <summary>Fails before the first batch when a data source's samples do not fit the model's input.</summary>
    private void RequireSampleShape(IBatchSource data, string operation)
    {
        if (!data.SampleShape.SequenceEqual(InputShape))
            throw new ShapeException(
                $"{operation}: samples have shape ({string.Join(", ", data.SampleShape)}) but model '{Name}' expects {SymbolicTensor.FormatShape(InputShape)} (Input '{Input.Layer.Name}').");
    }

    private Tensor UploadInputs(float[] inputs, int[] inputShape, string operation)
    {
        if (inputShape.Length != InputShape.Length + 1 || inputShape[0] <= 0 || !inputShape.AsSpan(1).SequenceEqual(InputShape))
            throw new ShapeException(
                $"{operation}: a batch has inputs of shape ({string.Join(", ", inputShape)}) but model '{Name}' expects {SymbolicTensor.FormatShape(InputShape)} (Input '{Input.Layer.Name}').");
        var shape = new TensorShape(inputShape);
        if (inputs.Length != shape.Length)
            throw new ShapeException($"{operation}: a batch declares inputs of shape {shape} ({shape.Length} values) but holds {inputs.Length} values.");
        var x = Workspace("batch_inputs", Backend, shape);
        Backend.Upload(inputs, x.Buffer);
        return x;
    }

    private float[]? DownloadForMetrics(Tensor prediction)
    {
        if (_metrics.Count == 0) return null;
        var host = new float[prediction.Length];
        Backend.Download(prediction.Buffer, host);
        return host;
    }

    private static float[] OneHot(float[] classIndices, int classes)
    {
        var oneHot = new float[(long)classIndices.Length * classes];
        for (int i = 0; i < classIndices.Length; i++) oneHot[(long)i * classes + (int)classIndices[i]] = 1f;
        return oneHot;
    }

    private void DisposeTraining() => Optimizer?.ResetState();

    /// <summary>
    /// Stops a cancelled Fit after step <paramref name="step"/> of <paramref name="epoch"/> (0-based): the state after it
    /// is checkpointed as "epoch-NNNN-step-SSSSSS" unless nothing was trained in this run (the last checkpoint then stands).
    /// </summary>
    private TrainingInterruptedException Interrupted(int epoch, int step, int steps, RunningMeans totals, string? checkpointDir, int keep,
        bool trainedAny, string? lastCheckpoint, CancellationToken token)
    {
        string? checkpoint = lastCheckpoint;
        if (checkpointDir is not null && trainedAny)
        {
            if (FirstNonFiniteWeight() is not null) throw Diverged(epoch + 1, step, steps, double.NaN, lastCheckpoint);
            checkpoint = Checkpoint.Save(this, checkpointDir, keep, totals.Snapshot(step));
        }
        return new TrainingInterruptedException(epoch + 1, step, steps, checkpointDir is null ? null : checkpoint, token);
    }

    /// <summary>Running means of the loss (weighted by batch size) and of each metric (over output rows), as Keras's Mean metrics.</summary>
    private sealed class RunningMeans(IReadOnlyList<Metric> metrics, int columns)
    {
        private readonly double[] _metricSums = new double[metrics.Count];
        private double _lossSum;
        private long _samples, _rows;

        public void Add(Batch batch, double loss, float[]? predictions)
        {
            _lossSum += loss * batch.Count;
            _samples += batch.Count;
            if (predictions is null) return;
            int rows = predictions.Length / columns;
            for (int i = 0; i < metrics.Count; i++)
            {
                var metric = metrics[i];
                int expected = metric.TakesClassIndices ? rows : predictions.Length;
                if (batch.Targets.Length != expected)
                    throw new ShapeException(
                        $"Metric '{metric.Name}' takes {(metric.TakesClassIndices ? "one class index per output row" : "one target per output value")} " +
                        $"({expected} for this batch) but the batch has {batch.Targets.Length} targets.");
                _metricSums[i] += metric.SumOverRows(predictions, batch.Targets, rows, columns);
            }
            _rows += rows;
        }

        /// <summary>The sums so far, for a checkpoint inside the epoch.</summary>
        public EpochProgress Snapshot(int steps) => new(steps, _lossSum, _samples, (double[])_metricSums.Clone(), _rows);

        /// <summary>Sums restored from <see cref="Snapshot"/>, so the resumed epoch's means are the uninterrupted run's to the bit.</summary>
        public static RunningMeans Restore(IReadOnlyList<Metric> metrics, int columns, EpochProgress progress)
        {
            if (progress.MetricSums.Length != metrics.Count)
                throw new FormatException($"The checkpoint's epoch in progress has {progress.MetricSums.Length} metric sums; the model compiles {metrics.Count} metric(s).");
            var means = new RunningMeans(metrics, columns) { _lossSum = progress.LossSum, _samples = progress.Samples, _rows = progress.Rows };
            progress.MetricSums.CopyTo(means._metricSums, 0);
            return means;
        }

        public Dictionary<string, double> Logs()
        {
            var logs = new Dictionary<string, double> { ["loss"] = _samples == 0 ? double.NaN : _lossSum / _samples };
            for (int i = 0; i < metrics.Count; i++) logs[metrics[i].Name] = _rows == 0 ? double.NaN : _metricSums[i] / _rows;
            return logs;
        }
    }
}
