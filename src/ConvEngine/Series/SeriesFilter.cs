using System.Globalization;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Series;

/// <summary>A 1-D kernel for a time series, weights in the order tf.nn.conv1d applies them (no flip).</summary>
public sealed record SeriesKernel(string Name, float[] Weights)
{
    /// <summary>
    /// The course's kernels (Kaggle Learn, Computer Vision, "The Sliding Window", its time-series exercise):
    /// detrend [−1, 1] (the change from one step to the next); average [0.2] × 5 (a moving mean); spencer
    /// [−3, −6, −5, 3, 21, 46, 67, 74, 67, 46, 32, 3, −5, −6, −3] / 320 exactly as the course writes it — Spencer's
    /// 15-point moving average has 21 where the course has 32, so the course's weights sum to 331/320, not 1.
    /// spencer15 is Spencer's own, symmetric, summing to 1.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, SeriesKernel> Named = new Dictionary<string, SeriesKernel>(StringComparer.OrdinalIgnoreCase)
    {
        ["detrend"] = new("detrend", [-1f, 1f]),
        ["average"] = new("average", [0.2f, 0.2f, 0.2f, 0.2f, 0.2f]),
        ["spencer"] = new("spencer", Scaled([-3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 32, 3, -5, -6, -3], 320)),
        ["spencer15"] = new("spencer15", Scaled([-3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 21, 3, -5, -6, -3], 320)),
    };

    private static readonly char[] Separators = [' ', '\t', '\r', '\n', ',', ';'];

    /// <summary>A named kernel, or numbers separated by spaces, commas or semicolons, e.g. "-1 1" or "0.25, 0.5, 0.25".</summary>
    /// <exception cref="ArgumentException">Neither a known name nor a list of finite numbers; the message names the value.</exception>
    public static SeriesKernel Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        if (Named.TryGetValue(trimmed, out var named)) return named;
        string[] tokens = trimmed.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0)
            throw new ArgumentException($"Kernel '{text}' is empty: give a name ({string.Join(", ", Named.Keys)}) or numbers such as \"-1 1\".");
        var weights = new float[tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
        {
            if (!float.TryParse(tokens[i], NumberStyles.Float, CultureInfo.InvariantCulture, out weights[i]) || !float.IsFinite(weights[i]))
                throw tokens.Length == 1
                    ? new ArgumentException($"Unknown kernel '{trimmed}': expected one of {string.Join(", ", Named.Keys)}, or numbers such as \"-1 1\".")
                    : new ArgumentException($"Kernel '{text}': '{tokens[i]}' (value {i + 1}) is not a finite number.");
        }
        return new SeriesKernel("custom", weights);
    }

    private static float[] Scaled(int[] weights, float divisor) => weights.Select(w => w / divisor).ToArray();
}

/// <summary>A filtered series: the values and, for each, the input step its window ends at (the last input it reads).</summary>
public sealed record FilteredSeries(float[] Values, int[] EndsAt);

/// <summary>
/// Convolution of one time series with one kernel through <see cref="Ops.Conv1D"/> — the course's
/// <c>tf.nn.conv1d(x[None, :, None], kernel[:, None, None], stride, padding)</c>: cross-correlation, padding valid
/// (length N − k + 1 at stride 1), same (N) or causal (N, zeros before the start only).
/// </summary>
public static class SeriesFilter
{
    /// <summary>Filters <paramref name="series"/> with <paramref name="kernel"/> on <paramref name="backend"/>.</summary>
    /// <exception cref="ArgumentException">The series is shorter than the kernel in valid mode, or the stride is below 1; the message gives both lengths.</exception>
    public static FilteredSeries Apply(IBackend backend, ReadOnlySpan<float> series, SeriesKernel kernel, Padding padding, int stride = 1)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(kernel);
        int k = kernel.Weights.Length;
        if (stride < 1) throw new ArgumentException($"The stride must be at least 1; got {stride}.");
        if (padding.Mode is not (PaddingMode.Valid or PaddingMode.Same or PaddingMode.Causal))
            throw new ArgumentException($"Series padding must be valid, same or causal; got {padding}.");
        if (series.Length == 0) throw new ArgumentException("The series is empty.");
        if (padding.Mode == PaddingMode.Valid && series.Length < k)
            throw new ArgumentException($"The series has {series.Length} values, fewer than the {k} of kernel '{kernel.Name}': valid padding has no window to compute (use Padding.Same or Padding.Causal, or a shorter kernel).");

        using var x = Tensor.FromArray(backend, series, 1, series.Length, 1);
        using var w = Tensor.FromArray(backend, kernel.Weights, k, 1, 1);
        using var y = Ops.Conv1D(x, w, bias: null, stride: stride, padding: padding);
        var values = y.ToArray();
        var (before, _, _) = WindowMath.Resolve(series.Length, k, stride, 1, padding.Mode);
        var endsAt = new int[values.Length];
        for (int t = 0; t < values.Length; t++) endsAt[t] = Math.Min(series.Length - 1, t * stride - before + k - 1);
        return new FilteredSeries(values, endsAt);
    }
}
