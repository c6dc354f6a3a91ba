using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConvEngine.Training;

namespace ConvEngine.Cli.Commands;

/// <summary>Wall-clock time of one epoch: its training steps, and everything up to its end (with validation).</summary>
internal sealed record EpochTiming(int Epoch, int Steps, int Samples, double TrainSeconds, double TotalSeconds)
{
    public double ImagesPerSecond => Samples / TrainSeconds;
}

/// <summary>
/// Keras's progress bar (verbose=1) for `convengine train`: "Epoch 3/10", then one line redrawn after each
/// step, "32/32 ━━━━━━━━━━━━━━━━━━━━ 2s 61ms/step - loss: 0.3100 - binary_accuracy: 0.8800", finished at the
/// epoch's end with the validation values. When the output is not a terminal (a log, CI) each epoch
/// prints one plain line at its end instead (Keras's verbose=2). It also records each epoch's timing.
/// </summary>
internal sealed class ProgressBarCallback(TextWriter output, bool live, int width = 120) : Callback
{
    private const int BarLength = 20;
    /// <summary>Redraw at most this often, so a fast epoch does not spend its time writing to the terminal.</summary>
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly Stopwatch _epochClock = new();
    private readonly List<EpochTiming> _timings = [];
    private TrainingParams? _parameters;
    private TimeSpan _lastRedraw, _trainTime;
    private bool _drawnThisEpoch;
    private int _stepsDone;

    /// <summary>One entry per epoch run by this callback.</summary>
    public IReadOnlyList<EpochTiming> Timings => _timings;

    public override void OnTrainBegin(TrainingParams parameters) => _parameters = parameters;

    public override void OnEpochBegin(int epoch)
    {
        _stepsDone = 0;
        _drawnThisEpoch = false;
        _trainTime = TimeSpan.Zero;
        if (live) output.WriteLine($"Epoch {epoch + 1}/{_parameters!.Epochs}");
        _epochClock.Restart();
    }

    public override void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs)
    {
        _stepsDone = batch + 1;
        _trainTime = _epochClock.Elapsed;
        if (!live) return;
        int steps = _parameters!.Steps;
        if (_stepsDone < steps && _drawnThisEpoch && _trainTime - _lastRedraw < RedrawInterval) return;
        _lastRedraw = _trainTime;
        _drawnThisEpoch = true;
        var perStep = _trainTime / _stepsDone;
        string timing = _stepsDone < steps ? $"ETA: {Duration(perStep * (steps - _stepsDone))}" : $"{Duration(_trainTime)} {StepTime(perStep)}";
        Redraw($"{Counter(_stepsDone, steps)} {Bar(_stepsDone, steps)} {timing}{Values(logs)}");
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        var total = _epochClock.Elapsed;
        int steps = Math.Max(1, _stepsDone);
        int samples = _stepsDone >= _parameters!.Steps ? _parameters.Samples : (int)((long)_parameters.Samples * _stepsDone / _parameters.Steps);
        _timings.Add(new EpochTiming(epoch, _stepsDone, samples, _trainTime.TotalSeconds, total.TotalSeconds));
        string line = $"{Counter(_stepsDone, _parameters.Steps)} {Bar(_stepsDone, _parameters.Steps)} {Duration(total)} {StepTime(_trainTime / steps)}{Values(logs)}";
        if (live)
        {
            // The finished line is written whole (a narrow terminal wraps it): it carries the validation values.
            output.Write("\r" + line + "\u001b[K");
            output.WriteLine();
        }
        else
            output.WriteLine($"Epoch {epoch + 1}/{_parameters.Epochs} - {line}");
        output.Flush();
    }

    private void Redraw(string line)
    {
        // A line longer than the terminal wraps, and "\r" would then redraw only its last row.
        if (line.Length >= width) line = line[..Math.Max(0, width - 2)] + "…";
        output.Write("\r" + line + "\u001b[K");
        output.Flush();
    }

    private static string Counter(int done, int steps)
    {
        string total = steps.ToString(CultureInfo.InvariantCulture);
        return done.ToString(CultureInfo.InvariantCulture).PadLeft(total.Length) + "/" + total;
    }

    private static string Bar(int done, int steps)
    {
        int filled = steps == 0 ? BarLength : (int)((long)BarLength * done / steps);
        return new string('━', filled) + new string('─', BarLength - filled);
    }

    private static string Values(IReadOnlyDictionary<string, double> logs)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in logs) text.Append(" - ").Append(key).Append(": ").Append(FormatValue(value));
        return text.ToString();
    }

    /// <summary>Keras's progress bar: %.4f, or %.4e below 1e−3.</summary>
    public static string FormatValue(double value) =>
        value != 0 && Math.Abs(value) < 1e-3 ? value.ToString("0.0000e+00", CultureInfo.InvariantCulture) : value.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>"2s", "1:05", "1:02:03", as Keras's ETA.</summary>
    private static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}"
        : t.TotalSeconds >= 60 ? $"{(int)t.TotalMinutes}:{t.Seconds:D2}"
        : $"{(int)Math.Round(t.TotalSeconds)}s";

    private static string StepTime(TimeSpan perStep) =>
        perStep.TotalSeconds >= 1 ? $"{perStep.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)}s/step"
        : $"{Math.Round(perStep.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}ms/step";
}
