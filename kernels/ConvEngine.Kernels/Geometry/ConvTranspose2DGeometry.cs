namespace ConvEngine.Kernels.Geometry;

/// <summary>
/// Options of a 2-D transposed convolution (Keras Conv2DTranspose, ONNX ConvTranspose), with Keras's defaults:
/// strides 1, padding "valid", no output padding, dilation 1, one group.
/// </summary>
public sealed record ConvTranspose2DOptions
{
    /// <summary>Vertical stride.</summary>
    public int StrideH { get; init; } = 1;
    /// <summary>Horizontal stride.</summary>
    public int StrideW { get; init; } = 1;
    /// <summary>Vertical dilation.</summary>
    public int DilationH { get; init; } = 1;
    /// <summary>Horizontal dilation.</summary>
    public int DilationW { get; init; } = 1;
    /// <summary>
    /// Valid or Same as Keras sizes them (conv_utils.deconv_output_length, TensorFlow's pads for that size), or
    /// Explicit pads cropped from the full output (ONNX pads: output = s(n − 1) + output_padding + dk − pads).
    /// </summary>
    public Padding Padding { get; init; } = Padding.Valid;
    /// <summary>Extra rows/columns at the bottom/right; null is Keras's output_padding=None (Explicit padding reads it as 0).</summary>
    public int? OutputPaddingH { get; init; }
    /// <summary>Extra columns at the right; null is Keras's output_padding=None.</summary>
    public int? OutputPaddingW { get; init; }
    /// <summary>Input and output channels split into this many independent groups (ONNX group).</summary>
    public int Groups { get; init; } = 1;
    /// <summary>The activation fused into the kernel's output (none by default).</summary>
    public KernelActivation Activation { get; init; } = KernelActivation.None;
}

/// <summary>
/// A transposed convolution resolved: input (N, H, W, Cin), filter (KH, KW, Cout/groups, Cin) — Keras's Conv2DTranspose
/// kernel layout, ONNX's (Cin, Cout/groups, KH, KW) permuted — and output (N, OH, OW, Cout). It is the gradient of the
/// convolution <see cref="Conv"/> whose input is this op's output and whose output is this op's input, so its forward
/// pass is that conv's backward-data pass plus a bias, and its backward passes are that conv's forward and filter gradient.
/// </summary>
public readonly record struct ConvTranspose2DGeometry(Conv2DGeometry Conv)
{
    /// <summary>(N, H, W, Cin).</summary>
    public TensorShape InputShape => Conv.OutputShape;
    /// <summary>(N, OH, OW, Cout).</summary>
    public TensorShape OutputShape => Conv.InputShape;
    /// <summary>(KH, KW, Cout/groups, Cin).</summary>
    public TensorShape FilterShape => Conv.FilterShape;
    /// <summary>Cout, the output's channels.</summary>
    public int OutputChannels => Conv.C;
    /// <summary>Multiply-adds × 2.</summary>
    public double Flops => Conv.Flops;

    /// <summary>
    /// Output length along one axis: Explicit s(n − 1) + op + dk − before − after (ONNX); Keras's deconv_output_length
    /// otherwise: valid n·s + max(dk − s, 0), same n·s without output padding; with it (n − 1)s + dk − 2·pad + op,
    /// pad = 0 (valid) or ⌊dk/2⌋ (same).
    /// </summary>
    public static int OutputLength(int n, int kernel, int stride, int dilation, PaddingMode mode, int before, int after, int? outputPadding)
    {
        int dk = WindowMath.DilatedExtent(kernel, dilation);
        long length = mode switch
        {
            PaddingMode.Explicit => (long)stride * (n - 1) + (outputPadding ?? 0) + dk - before - after,
            PaddingMode.Valid when outputPadding is null => (long)n * stride + Math.Max(dk - stride, 0),
            PaddingMode.Same when outputPadding is null => (long)n * stride,
            PaddingMode.Valid => (long)(n - 1) * stride + dk + outputPadding!.Value,
            _ => (long)(n - 1) * stride + dk - 2 * (dk / 2) + outputPadding!.Value,
        };
        return (int)Math.Clamp(length, int.MinValue, int.MaxValue);
    }

    /// <summary>Resolves and validates the op on <paramref name="input"/> (N, H, W, Cin) and <paramref name="filter"/> (KH, KW, Cout/groups, Cin); errors start with <paramref name="op"/>.</summary>
    public static ConvTranspose2DGeometry Create(string op, TensorShape input, TensorShape filter, ConvTranspose2DOptions o)
    {
        string Shapes() => $"input {input}, filter {filter}";
        if (input.Rank != 4)
            throw new ShapeException($"{op}: input must be (N, H, W, C); got {Shapes()}.");
        if (filter.Rank != 4)
            throw new ShapeException($"{op}: filter must be (KH, KW, Cout/groups, Cin); got {Shapes()}.");
        if (o.StrideH <= 0 || o.StrideW <= 0)
            throw new ShapeException($"{op}: strides must be positive, got ({o.StrideH}, {o.StrideW}); {Shapes()}.");
        if (o.DilationH <= 0 || o.DilationW <= 0)
            throw new ShapeException($"{op}: dilation must be positive, got ({o.DilationH}, {o.DilationW}); {Shapes()}.");
        if (o.Groups <= 0 || input[3] % o.Groups != 0)
            throw new ShapeException($"{op}: groups {o.Groups} must be positive and divide the input channels {input[3]}; {Shapes()}.");
        if (filter[3] != input[3])
            throw new ShapeException($"{op}: channel mismatch, filter expects {filter[3]} input channels but input has {input[3]}; {Shapes()}.");
        var p = o.Padding;
        if (p.Mode is not (PaddingMode.Valid or PaddingMode.Same or PaddingMode.Explicit))
            throw new ShapeException($"{op}: padding must be valid, same or explicit pads, got {p}; {Shapes()}.");
        if (p.Mode == PaddingMode.Explicit && (p.Top < 0 || p.Bottom < 0 || p.Left < 0 || p.Right < 0))
            throw new ShapeException($"{op}: pads must be non-negative, got {p}; {Shapes()}.");
        if (o.OutputPaddingH is < 0 || o.OutputPaddingW is < 0 || o.OutputPaddingH >= o.StrideH || o.OutputPaddingW >= o.StrideW)
            throw new ShapeException($"{op}: output padding ({o.OutputPaddingH ?? 0}, {o.OutputPaddingW ?? 0}) must be non-negative and smaller than the strides ({o.StrideH}, {o.StrideW}); {Shapes()}.");

        int oh = OutputLength(input[1], filter[0], o.StrideH, o.DilationH, p.Mode, p.Top, p.Bottom, o.OutputPaddingH);
        int ow = OutputLength(input[2], filter[1], o.StrideW, o.DilationW, p.Mode, p.Left, p.Right, o.OutputPaddingW);
        if (oh <= 0 || ow <= 0)
            throw new ShapeException($"{op}: the pads {p} leave an output of {oh}x{ow}; {Shapes()}.");
        var convOptions = new Conv2DOptions
        {
            StrideH = o.StrideH, StrideW = o.StrideW, DilationH = o.DilationH, DilationW = o.DilationW,
            Padding = p, Groups = o.Groups,
        };
        var conv = Conv2DGeometry.Create(op, new TensorShape(input[0], oh, ow, filter[2] * o.Groups), filter, convOptions, Shapes());
        // The output size and the conv that maps it back must agree (Keras: same with an even kernel and no output padding).
        if (conv.OH != input[1] || conv.OW != input[2])
            throw new ShapeException($"{op}: an output of {oh}x{ow} does not convolve back to the input's {input[1]}x{input[2]} with {p} padding " +
                $"(kernel {filter[0]}x{filter[1]}, strides ({o.StrideH}, {o.StrideW}), output padding ({o.OutputPaddingH?.ToString() ?? "None"}, {o.OutputPaddingW?.ToString() ?? "None"})); {Shapes()}.");
        return new ConvTranspose2DGeometry(conv);
    }
}
