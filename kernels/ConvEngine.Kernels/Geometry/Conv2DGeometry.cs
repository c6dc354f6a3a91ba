namespace ConvEngine.Kernels.Geometry;

/// <summary>Options of a 2-D convolution, with Keras defaults (strides 1, valid, dilation 1, groups 1).</summary>
public sealed record Conv2DOptions
{
    /// <summary>Vertical stride.</summary>
    public int StrideH { get; init; } = 1;
    /// <summary>Horizontal stride.</summary>
    public int StrideW { get; init; } = 1;
    /// <summary>Vertical dilation: the distance between the rows a window reads.</summary>
    public int DilationH { get; init; } = 1;
    /// <summary>Horizontal dilation: the distance between the columns a window reads.</summary>
    public int DilationW { get; init; } = 1;
    /// <summary>Valid, same, causal or explicit pads.</summary>
    public Padding Padding { get; init; } = Padding.Valid;
    /// <summary>Input and output channels split into this many independent groups; groups = C is depthwise.</summary>
    public int Groups { get; init; } = 1;
    /// <summary>The activation fused into the kernel's output (none by default).</summary>
    public KernelActivation Activation { get; init; } = KernelActivation.None;

    /// <summary>These options with stride <paramref name="s"/> on both axes.</summary>
    public Conv2DOptions WithStrides(int s) => this with { StrideH = s, StrideW = s };
    /// <summary>These options with dilation <paramref name="d"/> on both axes.</summary>
    public Conv2DOptions WithDilation(int d) => this with { DilationH = d, DilationW = d };
}

/// <summary>
/// Everything a conv kernel needs, resolved and validated once: input (N,H,W,C), filter
/// (KH,KW,C/groups,OC) in Keras's HWIO layout, output (N,OH,OW,OC), pads per side.
/// Output channel o belongs to group o / (OC/groups), which matches Keras's depthwise order.
/// </summary>
public readonly record struct Conv2DGeometry(
    int N, int H, int W, int C,
    int KH, int KW, int OC, int Groups,
    int StrideH, int StrideW, int DilationH, int DilationW,
    int PadTop, int PadBottom, int PadLeft, int PadRight,
    int OH, int OW)
{
    /// <summary>Input channels each group reads.</summary>
    public int InChannelsPerGroup => C / Groups;
    /// <summary>Output channels each group writes.</summary>
    public int OutChannelsPerGroup => OC / Groups;
    /// <summary>(N, H, W, C).</summary>
    public TensorShape InputShape => new(N, H, W, C);
    /// <summary>(KH, KW, C/groups, OC).</summary>
    public TensorShape FilterShape => new(KH, KW, C / Groups, OC);
    /// <summary>(N, OH, OW, OC).</summary>
    public TensorShape OutputShape => new(N, OH, OW, OC);
    /// <summary>Multiply-adds × 2.</summary>
    public double Flops => 2.0 * N * OH * OW * OC * KH * KW * InChannelsPerGroup;

    /// <param name="shapes">How errors describe the operands, when the caller's shapes differ from the 4-D view (Conv1D).</param>
    /// <param name="op">The op, starting every error message ("Conv2D 'conv2d_1'").</param>
    /// <param name="input">(N, H, W, C).</param>
    /// <param name="filter">(KH, KW, C/groups, OC).</param>
    /// <param name="o">Strides, dilation, padding, groups and the fused activation.</param>
    public static Conv2DGeometry Create(string op, TensorShape input, TensorShape filter, Conv2DOptions o, string? shapes = null)
    {
        string Shapes() => shapes ?? $"input {input}, filter {filter}";
        if (input.Rank != 4)
            throw new ShapeException($"{op}: input must be (N, H, W, C); got {Shapes()}.");
        if (filter.Rank != 4)
            throw new ShapeException($"{op}: filter must be (KH, KW, C/groups, OC); got {Shapes()}.");
        if (o.StrideH <= 0 || o.StrideW <= 0)
            throw new ShapeException($"{op}: strides must be positive, got ({o.StrideH}, {o.StrideW}); {Shapes()}.");
        if (o.DilationH <= 0 || o.DilationW <= 0)
            throw new ShapeException($"{op}: dilation must be positive, got ({o.DilationH}, {o.DilationW}); {Shapes()}.");
        if ((o.StrideH > 1 || o.StrideW > 1) && (o.DilationH > 1 || o.DilationW > 1) && o.Padding.Mode == PaddingMode.Same)
        {
            // Keras rejects strides > 1 with dilation > 1; TF's SAME arithmetic is still defined, so we allow it.
        }
        int groups = o.Groups;
        int c = input[3], oc = filter[3];
        if (groups <= 0 || c % groups != 0 || oc % groups != 0)
            throw new ShapeException($"{op}: groups {groups} must divide input channels {c} and output channels {oc}; {Shapes()}.");
        if (filter[2] != c / groups)
            throw new ShapeException($"{op}: channel mismatch, filter expects {filter[2]} input channels per group but input has {c} channels in {groups} group(s); {Shapes()}.");
        if (o.Padding.Mode == PaddingMode.Explicit && (o.Padding.Top < 0 || o.Padding.Bottom < 0 || o.Padding.Left < 0 || o.Padding.Right < 0))
            throw new ShapeException($"{op}: pads must be non-negative, got {o.Padding}; {Shapes()}.");

        var (top, bottom, oh) = WindowMath.Resolve(input[1], filter[0], o.StrideH, o.DilationH, o.Padding.Mode, o.Padding.Top, o.Padding.Bottom, op: $"{op} (height)");
        var (left, right, ow) = WindowMath.Resolve(input[2], filter[1], o.StrideW, o.DilationW, o.Padding.Mode, o.Padding.Left, o.Padding.Right, op: $"{op} (width)");
        if (o.Padding.Mode == PaddingMode.Causal)
            (top, bottom, oh) = WindowMath.Resolve(input[1], filter[0], o.StrideH, o.DilationH, PaddingMode.Valid, op: $"{op} (height)");
        if (oh <= 0 || ow <= 0)
            throw new ShapeException($"{op}: kernel {filter[0]}x{filter[1]} (dilation {o.DilationH}x{o.DilationW}) is larger than the {o.Padding} input {input[1]}x{input[2]}; {Shapes()}.");

        return new Conv2DGeometry(input[0], input[1], input[2], c, filter[0], filter[1], oc, groups,
            o.StrideH, o.StrideW, o.DilationH, o.DilationW, top, bottom, left, right, oh, ow);
    }
}
