namespace ConvEngine.Kernels.Geometry;

/// <summary>Which value a pooling window keeps.</summary>
public enum PoolKind
{
    /// <summary>The largest value of the window.</summary>
    Max,
    /// <summary>The mean of the window's values.</summary>
    Average,
}

/// <summary>Options of a 2-D pooling, with Keras defaults (pool 2×2, strides = pool size, valid).</summary>
public sealed record Pool2DOptions
{
    /// <summary>Window height.</summary>
    public int PoolH { get; init; } = 2;
    /// <summary>Window width.</summary>
    public int PoolW { get; init; } = 2;
    /// <summary>Null means "same as the pool size", as in Keras.</summary>
    public int? StrideH { get; init; }
    /// <summary>Horizontal stride; null is the window width.</summary>
    public int? StrideW { get; init; }
    /// <summary>Vertical dilation.</summary>
    public int DilationH { get; init; } = 1;
    /// <summary>Horizontal dilation.</summary>
    public int DilationW { get; init; } = 1;
    /// <summary>Valid, same or explicit pads.</summary>
    public Padding Padding { get; init; } = Padding.Valid;
    /// <summary>Caffe/ONNX ceil_mode: output length rounds up.</summary>
    public bool CeilMode { get; init; }
    /// <summary>
    /// Average pooling only: divide by the whole window including explicit pads (Caffe/ONNX
    /// count_include_pad). TensorFlow SAME pooling always excludes padding.
    /// </summary>
    public bool CountIncludePad { get; init; }

    /// <summary>A <paramref name="pool"/>×<paramref name="pool"/> window, stride the window unless given, Keras's valid padding unless given.</summary>
    public static Pool2DOptions Square(int pool, int? stride = null, Padding? padding = null) =>
        new() { PoolH = pool, PoolW = pool, StrideH = stride, StrideW = stride, Padding = padding ?? Padding.Valid };
}

/// <summary>Resolved pooling window over (N,H,W,C) → (N,OH,OW,C). Padded cells never win a max.</summary>
public readonly record struct Pool2DGeometry(
    int N, int H, int W, int C,
    int PoolH, int PoolW, int StrideH, int StrideW, int DilationH, int DilationW,
    int PadTop, int PadBottom, int PadLeft, int PadRight,
    int OH, int OW, bool CountIncludePad)
{
    /// <summary>(N, H, W, C).</summary>
    public TensorShape InputShape => new(N, H, W, C);
    /// <summary>(N, OH, OW, C).</summary>
    public TensorShape OutputShape => new(N, OH, OW, C);

    /// <summary>
    /// The divisor of an average window that starts at (ih0, iw0) in input coordinates
    /// (may be negative). Excluding pads: the cells inside the input. Including pads: the
    /// cells inside the padded input, never the ceil-mode overhang (ONNX/PyTorch).
    /// </summary>
    public int AverageDivisor(int ih0, int iw0)
    {
        int lowH = CountIncludePad ? -PadTop : 0, highH = CountIncludePad ? H + PadBottom : H;
        int lowW = CountIncludePad ? -PadLeft : 0, highW = CountIncludePad ? W + PadRight : W;
        int rows = 0, cols = 0;
        for (int p = 0; p < PoolH; p++)
        {
            int ih = ih0 + p * DilationH;
            if (ih >= lowH && ih < highH) rows++;
        }
        for (int q = 0; q < PoolW; q++)
        {
            int iw = iw0 + q * DilationW;
            if (iw >= lowW && iw < highW) cols++;
        }
        return rows * cols;
    }

    /// <summary>Resolves and validates pooling <paramref name="input"/> (N, H, W, C) with <paramref name="o"/>; errors start with <paramref name="op"/>.</summary>
    public static Pool2DGeometry Create(string op, TensorShape input, Pool2DOptions o)
    {
        if (input.Rank != 4)
            throw new ShapeException($"{op}: input must be (N, H, W, C); got {input}.");
        int sh = o.StrideH ?? o.PoolH, sw = o.StrideW ?? o.PoolW;
        if (o.PoolH <= 0 || o.PoolW <= 0)
            throw new ShapeException($"{op}: pool size must be positive, got ({o.PoolH}, {o.PoolW}); input {input}.");
        if (sh <= 0 || sw <= 0)
            throw new ShapeException($"{op}: strides must be positive, got ({sh}, {sw}); input {input}, pool ({o.PoolH}, {o.PoolW}).");
        if (o.DilationH <= 0 || o.DilationW <= 0)
            throw new ShapeException($"{op}: dilation must be positive, got ({o.DilationH}, {o.DilationW}); input {input}.");
        if (o.Padding.Mode == PaddingMode.Causal)
            throw new ShapeException($"{op}: causal padding applies to Conv1D only; input {input}.");
        if (o.Padding.Mode == PaddingMode.Explicit &&
            (o.Padding.Top >= WindowMath.DilatedExtent(o.PoolH, o.DilationH) || o.Padding.Bottom >= WindowMath.DilatedExtent(o.PoolH, o.DilationH) ||
             o.Padding.Left >= WindowMath.DilatedExtent(o.PoolW, o.DilationW) || o.Padding.Right >= WindowMath.DilatedExtent(o.PoolW, o.DilationW) ||
             o.Padding.Top < 0 || o.Padding.Bottom < 0 || o.Padding.Left < 0 || o.Padding.Right < 0))
            throw new ShapeException($"{op}: pads {o.Padding} must be non-negative and smaller than the pool window ({o.PoolH}, {o.PoolW}); input {input}.");

        var (top, bottom, oh) = WindowMath.Resolve(input[1], o.PoolH, sh, o.DilationH, o.Padding.Mode, o.Padding.Top, o.Padding.Bottom, o.CeilMode, $"{op} (height)");
        var (left, right, ow) = WindowMath.Resolve(input[2], o.PoolW, sw, o.DilationW, o.Padding.Mode, o.Padding.Left, o.Padding.Right, o.CeilMode, $"{op} (width)");
        if (oh <= 0 || ow <= 0)
            throw new ShapeException($"{op}: pool ({o.PoolH}, {o.PoolW}) is larger than the {o.Padding} input {input[1]}x{input[2]}; input {input}.");
        return new Pool2DGeometry(input[0], input[1], input[2], input[3], o.PoolH, o.PoolW, sh, sw, o.DilationH, o.DilationW,
            top, bottom, left, right, oh, ow, o.CountIncludePad && o.Padding.Mode == PaddingMode.Explicit);
    }
}
