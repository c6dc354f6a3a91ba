namespace ConvEngine.Kernels.Geometry;

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
    public static Padding Valid => new(PaddingMode.Valid);
    public static Padding Same => new(PaddingMode.Same);
    public static Padding Causal => new(PaddingMode.Causal);
    public static Padding Explicit(int top, int bottom, int left, int right) => new(PaddingMode.Explicit, top, bottom, left, right);
    public static Padding Explicit(int all) => Explicit(all, all, all, all);

    public static Padding Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "valid" => Valid,
        "same" => Same,
        "causal" => Causal,
        _ => throw new ArgumentException($"Unknown padding '{text}': expected 'valid', 'same' or 'causal'."),
    };

    public override string ToString() => Mode == PaddingMode.Explicit
        ? $"explicit(top {Top}, bottom {Bottom}, left {Left}, right {Right})"
        : Mode.ToString().ToLowerInvariant();
}

/// <summary>
/// The one place where window arithmetic lives: output length and the pads before/after
/// along one spatial axis, for every padding mode. Every op and both backends use it.
/// </summary>
public static class WindowMath
{
    /// <summary>Extent of a dilated window: k + (k−1)(d−1) (keras conv_utils).</summary>
    public static int DilatedExtent(int kernel, int dilation) => (kernel - 1) * dilation + 1;

    /// <summary>
    /// Resolves one axis. Returns the output length and the pads actually applied before and after.
    /// <paramref name="explicitBefore"/>/<paramref name="explicitAfter"/> are read only in Explicit mode.
    /// With <paramref name="ceilMode"/> (Caffe/ONNX/PyTorch pooling) the output length rounds up,
    /// but a window never starts beyond the input plus its leading pad.
    /// Returns output length 0 when no window fits; callers turn that into a named error.
    /// </summary>
    public static (int Before, int After, int Output) Resolve(
        int n, int kernel, int stride, int dilation, PaddingMode mode,
        int explicitBefore = 0, int explicitAfter = 0, bool ceilMode = false)
    {
        int dk = DilatedExtent(kernel, dilation);
        switch (mode)
        {
            case PaddingMode.Same:
            {
                // tensorflow/core/framework/kernel_shape_util.cc: out = ceil(n/s),
                // pad_needed = max(0, (out−1)s + dk − n), before = pad_needed / 2.
                int output = (n + stride - 1) / stride;
                int needed = Math.Max(0, (output - 1) * stride + dk - n);
                return (needed / 2, needed - needed / 2, output);
            }
            case PaddingMode.Causal:
                return (dk - 1, 0, (n - 1) / stride + 1);
            case PaddingMode.Valid:
                explicitBefore = explicitAfter = 0;
                goto default;
            default:
            {
                int span = n + explicitBefore + explicitAfter - dk;
                if (span < 0) return (explicitBefore, explicitAfter, 0);
                int output = ceilMode ? (span + stride - 1) / stride + 1 : span / stride + 1;
                // PyTorch/ONNX rule: the last window must start inside the input or its leading pad.
                if (ceilMode && (output - 1) * stride >= n + explicitBefore) output--;
                return (explicitBefore, explicitAfter, output);
            }
        }
    }
}
