namespace ConvEngine.Kernels.Geometry;

/// <summary>Zero: constant 0. Reflect: mirror without repeating the edge (dcb|abcd|cba). Edge: repeat the edge (aaa|abcd|ddd).</summary>
public enum PadMode
{
    /// <summary>Zeros.</summary>
    Zero,
    /// <summary>Mirrored without repeating the edge pixel (c b | a b c d | c b), as ONNX's reflect.</summary>
    Reflect,
    /// <summary>The edge pixel repeated.</summary>
    Edge,
}

/// <summary>Spatial padding of (N,H,W,C) → (N, H+top+bottom, W+left+right, C).</summary>
public readonly record struct Pad2DGeometry(int N, int H, int W, int C, int Top, int Bottom, int Left, int Right)
{
    /// <summary>Output height: H + top + bottom.</summary>
    public int OH => H + Top + Bottom;
    /// <summary>Output width: W + left + right.</summary>
    public int OW => W + Left + Right;
    /// <summary>(N, H, W, C).</summary>
    public TensorShape InputShape => new(N, H, W, C);
    /// <summary>(N, OH, OW, C).</summary>
    public TensorShape OutputShape => new(N, OH, OW, C);

    /// <summary>Maps an output coordinate to the input coordinate it copies, or −1 for a zero cell.</summary>
    public static int SourceIndex(int i, int n, PadMode mode)
    {
        if (i >= 0 && i < n) return i;
        return mode switch
        {
            PadMode.Zero => -1,
            PadMode.Edge => i < 0 ? 0 : n - 1,
            _ => i < 0 ? -i : 2 * (n - 1) - i,
        };
    }

    /// <summary>Resolves and validates padding <paramref name="input"/> (N, H, W, C) by the given rows and columns; errors start with <paramref name="op"/>.</summary>
    public static Pad2DGeometry Create(string op, TensorShape input, int top, int bottom, int left, int right, PadMode mode)
    {
        if (input.Rank != 4)
            throw new ShapeException($"{op}: input must be (N, H, W, C); got {input}.");
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ShapeException($"{op}: pads must be non-negative, got (top {top}, bottom {bottom}, left {left}, right {right}); input {input}.");
        if (mode == PadMode.Reflect && (Math.Max(top, bottom) >= input[1] || Math.Max(left, right) >= input[2]))
            throw new ShapeException($"{op}: reflect pads (top {top}, bottom {bottom}, left {left}, right {right}) must be smaller than the input's height and width; input {input}.");
        return new Pad2DGeometry(input[0], input[1], input[2], input[3], top, bottom, left, right);
    }
}
