namespace ConvEngine.Kernels.Geometry;

/// <summary>
/// A permutation of the axes of a tensor of rank ≤ 6, reduced to rank 4: unit axes are dropped and input axes that
/// stay next to each other in order are merged (a channel shuffle's (N, g, C/g, H, W) → (N, C/g, g, H, W) moves three
/// blocks), then leading 1s pad it to rank 4. Output axis i is input axis Perm_i, so output (o0,o1,o2,o3) = input at
/// Σ o_i · InStride_i. NHWC ↔ NCHW (the ONNX import boundary) are the common cases.
/// </summary>
public readonly record struct TransposeGeometry(
    int Out0, int Out1, int Out2, int Out3,
    int InStride0, int InStride1, int InStride2, int InStride3)
{
    /// <summary>Values in the output.</summary>
    public long Length => (long)Out0 * Out1 * Out2 * Out3;
    /// <summary>The output's four dimensions.</summary>
    public TensorShape OutputShape => new(Out0, Out1, Out2, Out3);

    /// <summary>Stride in the input of a step along output axis <paramref name="axis"/>.</summary>
    public int InStride(int axis) => axis switch { 0 => InStride0, 1 => InStride1, 2 => InStride2, _ => InStride3 };
    /// <summary>Output dimension <paramref name="axis"/> (0 to 3).</summary>
    public int Out(int axis) => axis switch { 0 => Out0, 1 => Out1, 2 => Out2, _ => Out3 };

    /// <summary>(N,H,W,C) → (N,C,H,W).</summary>
    public static TransposeGeometry NhwcToNchw(int n, int h, int w, int c) => Create("Transpose", [n, h, w, c], [0, 3, 1, 2]);
    /// <summary>(N,C,H,W) → (N,H,W,C).</summary>
    public static TransposeGeometry NchwToNhwc(int n, int c, int h, int w) => Create("Transpose", [n, c, h, w], [0, 2, 3, 1]);

    /// <summary>
    /// Output axis i takes input axis <paramref name="perm"/>[i]; ranks 1 to 6, as long as at most four blocks of
    /// axes move independently (after dropping unit axes and merging neighbours that stay together).
    /// </summary>
    public static TransposeGeometry Create(string op, ReadOnlySpan<int> inputDims, ReadOnlySpan<int> perm)
    {
        string Describe(ReadOnlySpan<int> dims, ReadOnlySpan<int> p) => $"input ({string.Join(", ", dims.ToArray())}), perm ({string.Join(", ", p.ToArray())})";
        int rank = inputDims.Length;
        if (rank is < 1 or > 6 || perm.Length != rank)
            throw new ShapeException($"{op}: needs rank 1 to 6 and one perm entry per axis; got {Describe(inputDims, perm)}.");
        Span<bool> seen = stackalloc bool[rank];
        foreach (int p in perm)
        {
            if (p < 0 || p >= rank || seen[p])
                throw new ShapeException($"{op}: perm must list each axis 0..{rank - 1} once; got {Describe(inputDims, perm)}.");
            seen[p] = true;
        }
        long total = 1;
        foreach (int d in inputDims)
        {
            if (d <= 0) throw new ShapeException($"{op}: every dimension must be positive; got {Describe(inputDims, perm)}.");
            total *= d;
        }
        if (total > int.MaxValue)
            throw new ShapeException($"{op}: {total} elements exceed 2^31−1; {Describe(inputDims, perm)}.");

        // Blocks: runs of output axes (unit axes skipped) whose input axes are consecutive and ascending move as one.
        Span<int> blockStart = stackalloc int[rank];   // first input axis of each block, in output order
        Span<int> blockLength = stackalloc int[rank];  // elements in the block
        int blocks = 0, last = -2;
        foreach (int p in perm)
        {
            if (inputDims[p] == 1) continue;
            if (blocks > 0 && p == NextAxis(inputDims, last)) blockLength[blocks - 1] *= inputDims[p];
            else
            {
                blockStart[blocks] = p;
                blockLength[blocks] = inputDims[p];
                blocks++;
            }
            last = p;
        }
        if (blocks > 4)
            throw new ShapeException($"{op}: the permutation moves {blocks} separate blocks of axes; the transpose kernels move at most 4; {Describe(inputDims, perm)}.");

        // Input strides of each block: the product of the sizes of the input axes after its first.
        Span<int> dims = stackalloc int[4];
        Span<int> stride = stackalloc int[4];
        int pad = 4 - blocks;
        for (int i = 0; i < 4; i++)
        {
            if (i < pad) { dims[i] = 1; stride[i] = 0; continue; }
            int b = i - pad;
            dims[i] = blockLength[b];
            long s = 1;
            for (int a = blockStart[b] + 1; a < rank; a++) s *= inputDims[a];
            s /= blockLength[b] / inputDims[blockStart[b]];
            stride[i] = (int)s;
        }
        return new TransposeGeometry(dims[0], dims[1], dims[2], dims[3], stride[0], stride[1], stride[2], stride[3]);
    }

    /// <summary>The next input axis after <paramref name="axis"/> that is longer than 1 (unit axes do not break a block).</summary>
    private static int NextAxis(ReadOnlySpan<int> dims, int axis)
    {
        for (int a = axis + 1; a < dims.Length; a++)
            if (dims[a] > 1) return a;
        return -1;
    }
}
