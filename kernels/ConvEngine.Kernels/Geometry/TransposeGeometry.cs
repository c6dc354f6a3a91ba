namespace ConvEngine.Kernels.Geometry;

/// <summary>
/// A permutation of the axes of a tensor of rank ≤ 4, padded to rank 4 with leading 1s:
/// output axis i is input axis Perm_i, so output (o0,o1,o2,o3) = input at Σ o_i · InStride_i.
/// NHWC ↔ NCHW (the ONNX import boundary) are the common cases.
/// </summary>
public readonly record struct TransposeGeometry(
    int Out0, int Out1, int Out2, int Out3,
    int InStride0, int InStride1, int InStride2, int InStride3)
{
    public long Length => (long)Out0 * Out1 * Out2 * Out3;
    public TensorShape OutputShape => new(Out0, Out1, Out2, Out3);

    /// <summary>Stride in the input of a step along output axis <paramref name="axis"/>.</summary>
    public int InStride(int axis) => axis switch { 0 => InStride0, 1 => InStride1, 2 => InStride2, _ => InStride3 };
    public int Out(int axis) => axis switch { 0 => Out0, 1 => Out1, 2 => Out2, _ => Out3 };

    /// <summary>(N,H,W,C) → (N,C,H,W).</summary>
    public static TransposeGeometry NhwcToNchw(int n, int h, int w, int c) => Create("Transpose", [n, h, w, c], [0, 3, 1, 2]);
    /// <summary>(N,C,H,W) → (N,H,W,C).</summary>
    public static TransposeGeometry NchwToNhwc(int n, int c, int h, int w) => Create("Transpose", [n, c, h, w], [0, 2, 3, 1]);

    /// <summary>Output axis i takes input axis <paramref name="perm"/>[i]; ranks 1 to 4.</summary>
    public static TransposeGeometry Create(string op, ReadOnlySpan<int> inputDims, ReadOnlySpan<int> perm)
    {
        string Describe(ReadOnlySpan<int> dims, ReadOnlySpan<int> p) => $"input ({string.Join(", ", dims.ToArray())}), perm ({string.Join(", ", p.ToArray())})";
        int rank = inputDims.Length;
        if (rank is < 1 or > 4 || perm.Length != rank)
            throw new ShapeException($"{op}: needs rank 1 to 4 and one perm entry per axis; got {Describe(inputDims, perm)}.");
        Span<bool> seen = stackalloc bool[rank];
        foreach (int p in perm)
        {
            if (p < 0 || p >= rank || seen[p])
                throw new ShapeException($"{op}: perm must list each axis 0..{rank - 1} once; got {Describe(inputDims, perm)}.");
            seen[p] = true;
        }
        foreach (int d in inputDims)
            if (d <= 0) throw new ShapeException($"{op}: every dimension must be positive; got {Describe(inputDims, perm)}.");

        // Pad to rank 4: leading unit axes map to themselves.
        Span<int> dims = stackalloc int[4];
        Span<int> fullPerm = stackalloc int[4];
        int pad = 4 - rank;
        for (int i = 0; i < 4; i++)
        {
            dims[i] = i < pad ? 1 : inputDims[i - pad];
            fullPerm[i] = i < pad ? i : perm[i - pad] + pad;
        }
        Span<long> stride = stackalloc long[4];
        stride[3] = 1;
        for (int i = 2; i >= 0; i--) stride[i] = stride[i + 1] * dims[i + 1];
        if (stride[0] * dims[0] > int.MaxValue)
            throw new ShapeException($"{op}: {stride[0] * dims[0]} elements exceed 2^31−1; {Describe(inputDims, perm)}.");
        return new TransposeGeometry(
            dims[fullPerm[0]], dims[fullPerm[1]], dims[fullPerm[2]], dims[fullPerm[3]],
            (int)stride[fullPerm[0]], (int)stride[fullPerm[1]], (int)stride[fullPerm[2]], (int)stride[fullPerm[3]]);
    }
}
