namespace ConvEngine.Kernels;

/// <summary>
/// The dimensions of a tensor, rank 1 to 6 (the kernels see ranks up to 4; ranks 5 and 6 are for reshapes and
/// transposes such as a channel shuffle). Image tensors are channels-last: (N, H, W, C).
/// </summary>
public readonly struct TensorShape : IEquatable<TensorShape>
{
    private readonly int[]? _dims;

    /// <summary>A shape of the given dimensions, outermost first.</summary>
    public TensorShape(params int[] dims)
    {
        if (dims.Length is < 1 or > 6)
            throw new ArgumentException($"A tensor has rank 1 to 6; got rank {dims.Length} ({string.Join(", ", dims)}).");
        foreach (int d in dims)
            if (d <= 0)
                throw new ArgumentException($"Every dimension must be positive; got ({string.Join(", ", dims)}).");
        _dims = (int[])dims.Clone();
    }

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;
    /// <summary>Dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => Dims[axis < 0 ? Rank + axis : axis];
    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Dims => _dims ?? [];

    /// <summary>Number of elements.</summary>
    public long Length
    {
        get
        {
            long n = 1;
            foreach (int d in Dims) n *= d;
            return n;
        }
    }

    /// <summary>Product of all dimensions but the first (the features of one sample).</summary>
    public long SampleLength => Length / this[0];

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => Dims.ToArray();

    /// <summary>Whether both have the same dimensions.</summary>
    public bool Equals(TensorShape other) => Dims.SequenceEqual(other.Dims);
    /// <summary>Whether <paramref name="obj"/> is a shape with the same dimensions.</summary>
    public override bool Equals(object? obj) => obj is TensorShape s && Equals(s);
    /// <summary>A hash of the dimensions.</summary>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    /// <summary>Whether both have the same dimensions.</summary>
    public static bool operator ==(TensorShape a, TensorShape b) => a.Equals(b);
    /// <summary>Whether the dimensions differ.</summary>
    public static bool operator !=(TensorShape a, TensorShape b) => !a.Equals(b);

    /// <summary>"(d0, d1, …)".</summary>
    public override string ToString() => "(" + string.Join(", ", Dims.ToArray()) + ")";
}
