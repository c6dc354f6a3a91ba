namespace ConvEngine.Kernels.Geometry;

/// <summary>How a window op pads its input.</summary>
public enum PaddingMode
{
    /// <summary>No padding; windows stay inside the input.</summary>
    Valid,
    /// <summary>TensorFlow SAME: output = ceil(n / s), the odd padded pixel at the bottom/right.</summary>
    Same,
    /// <summary>Explicit per-side pads, as imported models (ONNX, Caffe) carry them.</summary>
    Explicit,
    /// <summary>Keras Conv1D "causal": dilation·(k−1) zeros before, none after.</summary>
    Causal,
}

/// <summary>How a windowed op (conv, pool) pads its spatial axes.</summary>
public readonly record struct Padding(PaddingMode Mode, int Top = 0, int Bottom = 0, int Left = 0, int Right = 0)
{
    /// <summary>No padding.</summary>
    public static Padding Valid => new(PaddingMode.Valid);
    /// <summary>TensorFlow's SAME: output ceil(n / stride).</summary>
    public static Padding Same => new(PaddingMode.Same);
    /// <summary>Keras Conv1D's causal: all the padding before.</summary>
    public static Padding Causal => new(PaddingMode.Causal);
    /// <summary>Explicit pads on each side.</summary>
    public static Padding Explicit(int top, int bottom, int left, int right) => new(PaddingMode.Explicit, top, bottom, left, right);
    /// <summary>The same explicit pad on all four sides.</summary>
    public static Padding Explicit(int all) => Explicit(all, all, all, all);

    /// <summary>Reads Keras's "valid", "same" or "causal" (any case); anything else is an error naming the text.</summary>
    public static Padding Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "valid" => Valid,
        "same" => Same,
        "causal" => Causal,
        _ => throw new ArgumentException($"Unknown padding '{text}': expected 'valid', 'same' or 'causal'."),
    };

    /// <summary>The mode in lower case ("same"), or the four explicit pads.</summary>
    public override string ToString() => Mode == PaddingMode.Explicit
        ? $"explicit(top {Top}, bottom {Bottom}, left {Left}, right {Right})"
        : Mode.ToString().ToLowerInvariant();
}

/// <summary>
/// The one place where window arithmetic lives: output length and the pads before/after
/// along one spatial axis, for every padding mode. Every op and both backends use it.
/// It computes in 64 bits and refuses any result the kernels' 32-bit indexing could not hold, so a huge
/// dilation, stride or pad from a config is an error naming the op, never a wrapped-around window.
/// </summary>
public static class WindowMath
{
    /// <summary>Extent of a dilated window: k + (k−1)(d−1) (keras conv_utils).</summary>
    /// <exception cref="ShapeException">It does not fit in 32 bits (a geometry that passed <see cref="Resolve"/> always fits).</exception>
    public static int DilatedExtent(int kernel, int dilation)
    {
        long extent = DilatedExtent64(kernel, dilation);
        return extent <= int.MaxValue ? (int)extent
            : throw new ShapeException($"window: kernel {kernel} with dilation {dilation} spans {extent}, beyond the 32-bit range the kernels index with.");
    }

    private static long DilatedExtent64(int kernel, int dilation) => (long)(kernel - 1) * dilation + 1;

    /// <summary>
    /// Resolves one axis. Returns the output length and the pads actually applied before and after.
    /// <paramref name="explicitBefore"/>/<paramref name="explicitAfter"/> are read only in Explicit mode.
    /// With <paramref name="ceilMode"/> (Caffe/ONNX/PyTorch pooling) the output length rounds up,
    /// but a window never starts beyond the input plus its leading pad.
    /// Returns output length 0 when no window fits; callers turn that into a named error.
    /// </summary>
    /// <param name="op">The op, for the error when the arithmetic leaves the 32-bit range ("Conv2D 'conv2d_1'").</param>
    /// <exception cref="ShapeException">The window extent, a pad, the padded length or the output does not fit in 32 bits.</exception>
    /// <param name="n">The input length.</param>
    /// <param name="kernel">The window length before dilation.</param>
    /// <param name="stride">The step between windows.</param>
    /// <param name="dilation">The distance between the elements a window reads.</param>
    /// <param name="mode">How the axis is padded.</param>
    /// <param name="explicitBefore">Explicit pad before.</param>
    /// <param name="explicitAfter">Explicit pad after.</param>
    /// <param name="ceilMode">Round the output length up.</param>
    public static (int Before, int After, int Output) Resolve(
        int n, int kernel, int stride, int dilation, PaddingMode mode,
        int explicitBefore = 0, int explicitAfter = 0, bool ceilMode = false, string op = "window")
    {
        long dk = DilatedExtent64(kernel, dilation);
        long before, after, output;
        switch (mode)
        {
            case PaddingMode.Same:
            {
                // tensorflow/core/framework/kernel_shape_util.cc: out = ceil(n/s),
                // pad_needed = max(0, (out−1)s + dk − n), before = pad_needed / 2.
                output = ((long)n + stride - 1) / stride;
                long needed = Math.Max(0, (output - 1) * stride + dk - n);
                (before, after) = (needed / 2, needed - needed / 2);
                break;
            }
            case PaddingMode.Causal:
                (before, after, output) = (dk - 1, 0, ((long)n - 1) / stride + 1);
                break;
            default:
            {
                (before, after) = mode == PaddingMode.Valid ? (0L, 0L) : (explicitBefore, explicitAfter);
                long span = n + before + after - dk;
                if (span < 0) { output = 0; break; }
                output = ceilMode ? (span + stride - 1) / stride + 1 : span / stride + 1;
                // PyTorch/ONNX rule: the last window must start inside the input or its leading pad.
                if (ceilMode && (output - 1) * stride >= n + before) output--;
                break;
            }
        }
        long padded = n + before + after;
        if (dk > int.MaxValue || before > int.MaxValue || after > int.MaxValue || padded > int.MaxValue || output > int.MaxValue)
            throw new ShapeException($"{op}: kernel {kernel} with dilation {dilation} (a window of {dk}), stride {stride} and pads {before}/{after} " +
                $"on an axis of {n} reach {Math.Max(dk, padded)}, beyond the 32-bit range (2147483647) the kernels index with.");
        return ((int)before, (int)after, (int)output);
    }
}
