namespace ConvEngine.Kernels.Geometry;

/// <summary>
/// Local response normalisation across channels (ONNX LRN, Caffe ACROSS_CHANNELS, AlexNet/GoogLeNet)
/// over (pixels, channels) data: y = x / (Bias + Alpha/Size · Σ x²)^Beta, the sum over channels
/// [c − ⌊(Size−1)/2⌋, c + ⌈(Size−1)/2⌉] clipped to the channel range.
/// </summary>
public readonly record struct LrnGeometry(long Pixels, int Channels, int Size, float Alpha, float Beta, float Bias)
{
    /// <summary>Channels before c in the window: ⌊(size−1)/2⌋.</summary>
    public int Before => (Size - 1) / 2;
    /// <summary>Channels after c in the window: ⌈(size−1)/2⌉.</summary>
    public int After => Size - 1 - Before;

    /// <summary>Resolves and validates local response normalisation over <paramref name="size"/> channels of <paramref name="input"/> (N, H, W, C); errors start with <paramref name="op"/>.</summary>
    public static LrnGeometry Create(string op, TensorShape input, int size, float alpha, float beta, float bias)
    {
        if (size <= 0)
            throw new ShapeException($"{op}: size must be positive, got {size}; input {input}.");
        if (!float.IsFinite(alpha) || !float.IsFinite(beta) || !float.IsFinite(bias))
            throw new ShapeException($"{op}: alpha {alpha}, beta {beta} and bias {bias} must be finite; input {input}.");
        int channels = input[-1];
        return new LrnGeometry(input.Length / channels, channels, size, alpha, beta, bias);
    }
}
