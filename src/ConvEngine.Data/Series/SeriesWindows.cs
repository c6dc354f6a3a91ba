namespace ConvEngine.Data.Series;

/// <summary>Windows of a series as samples (count, window, 1) with, for each, whether the step after it rises (1) or not (0).</summary>
/// <param name="Samples">Row-major (Count, Window, 1); each window standardised (its mean subtracted, divided by its standard deviation).</param>
/// <param name="Labels">1 where the value after the window is above the window's last value, else 0.</param>
/// <param name="Window">Values per window.</param>
public sealed record SeriesWindowSet(float[] Samples, int[] Labels, int Window)
{
    /// <summary>The number of windows.</summary>
    public int Count => Labels.Length;

    /// <summary>The share of the more frequent label: the accuracy of always guessing it (the majority-class baseline).</summary>
    public double MajorityShare => Count == 0 ? 0 : Math.Max(Labels.Count(l => l == 1), Labels.Count(l => l == 0)) / (double)Count;

    /// <summary>As batches of <paramref name="batchSize"/> with binary labels.</summary>
    public ArrayBatchSource ToBatches(int batchSize, bool shuffle, int seed) =>
        new(Samples, [Window, 1], Labels, ["falls_or_flat", "rises"], LabelMode.Binary, batchSize, shuffle, seed);
}

/// <summary>Cuts a series into next-step-rises windows, split in time: the first part trains, the rest validates, with no window crossing the split.</summary>
public static class SeriesWindows
{
    /// <summary>
    /// Every window of <paramref name="window"/> steps whose next step lies in [from, to) of <paramref name="values"/>,
    /// one step apart. Each window is standardised on its own so that the level of the series (CO2 rising for decades)
    /// does not give the answer away; what is left is its shape.
    /// </summary>
    public static SeriesWindowSet NextStepRises(ReadOnlySpan<float> values, int window, int from, int to)
    {
        if (window < 2) throw new ArgumentException($"A window needs at least 2 steps; got {window}.");
        from = Math.Max(from, window);
        to = Math.Min(to, values.Length);
        int count = Math.Max(0, to - from);
        var samples = new float[count * window];
        var labels = new int[count];
        for (int s = 0; s < count; s++)
        {
            int next = from + s;
            var source = values.Slice(next - window, window);
            double mean = 0;
            foreach (float v in source) mean += v;
            mean /= window;
            double variance = 0;
            foreach (float v in source) variance += (v - mean) * (v - mean);
            double scale = 1 / Math.Max(Math.Sqrt(variance / window), 1e-6);
            for (int t = 0; t < window; t++) samples[s * window + t] = (float)((source[t] - mean) * scale);
            labels[s] = values[next] > source[^1] ? 1 : 0;
        }
        return new SeriesWindowSet(samples, labels, window);
    }

    /// <summary>Training windows before <paramref name="splitFraction"/> of the series, validation windows after it (their windows may look back across the split, their targets never do).</summary>
    public static (SeriesWindowSet Training, SeriesWindowSet Validation) Split(ReadOnlySpan<float> values, int window, double splitFraction = 0.8)
    {
        if (!(splitFraction > 0 && splitFraction < 1)) throw new ArgumentException($"The split must be between 0 and 1; got {splitFraction}.");
        int split = (int)(values.Length * splitFraction);
        var training = NextStepRises(values, window, window, split);
        var validation = NextStepRises(values, window, split, values.Length);
        if (training.Count == 0 || validation.Count == 0)
            throw new ArgumentException($"A series of {values.Length} values is too short for windows of {window} steps split at {splitFraction:P0}.");
        return (training, validation);
    }
}
