using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Matrix products (row-major): Dense, MatMul with transposes, and the bias gradient.</summary>
internal static class IlgpuGemmKernels
{
    /// <summary>One thread per output (r,c): out = act(bias[c] + Σ_t in[r,t]·w[t,c]), in (M,K), w (K,N).</summary>
    public static void DenseDirect(Index1D index, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias, int hasBias,
        ArrayView<float> output, int k, int n, KernelActivation activation)
    {
        int c = index % n, r = index / n;
        float sum = hasBias != 0 ? bias[c] : 0f;
        for (int t = 0; t < k; t++) sum += input[r * k + t] * weights[t * n + c];
        output[index] = IlgpuKernelMath.Activate(sum, activation);
    }

    /// <summary>
    /// One thread per output (r,c): C = op(A)·op(B) [+ C]. A is (M,K), or (K,M) when transposed;
    /// B is (K,N), or (N,K) when transposed.
    /// </summary>
    public static void MatMulDirect(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        int m, int k, int n, int transposeA, int transposeB, int accumulate)
    {
        int col = index % n, row = index / n;
        float sum = 0f;
        for (int t = 0; t < k; t++)
        {
            float av = transposeA != 0 ? a[t * m + row] : a[row * k + t];
            float bv = transposeB != 0 ? b[col * k + t] : b[t * n + col];
            sum += av * bv;
        }
        c[index] = accumulate != 0 ? c[index] + sum : sum;
    }

    /// <summary>
    /// Column sums in chunks, one thread per (chunk, channel): dest[chunk, c] = Σ source[r, c] over the chunk's rows.
    /// BiasBackward runs it twice (rows → chunk partials → totals) so a GPU has chunks × channels threads, not just channels.
    /// </summary>
    public static void ColumnSums(Index1D index, ArrayView<float> source, ArrayView<float> destination, int rows, int channels, int rowsPerChunk)
    {
        int c = index % channels, chunk = index / channels;
        int end = Math.Min(rows, (chunk + 1) * rowsPerChunk);
        float sum = 0f;
        for (int r = chunk * rowsPerChunk; r < end; r++) sum += source[r * channels + c];
        destination[index] = sum;
    }

    /// <summary>
    /// Finishes a split-K GEMM, one thread per element of C: c = act(Σ_s partial[s·stride + i] + [bias] + [c]).
    /// Every output the GEMM writes has its channel on the fastest axis, so the bias index is i mod biasLength.
    /// </summary>
    public static void ReduceSlices(Index1D index, ArrayView<float> partial, ArrayView<float> c, int slices, int sliceStride,
        ArrayView<float> bias, int hasBias, int biasLength, int accumulate, KernelActivation activation)
    {
        float sum = 0f;
        for (int s = 0; s < slices; s++) sum += partial[s * sliceStride + index];
        if (hasBias != 0) sum += bias[index % biasLength];
        if (accumulate != 0) sum += c[index];
        c[index] = IlgpuKernelMath.Activate(sum, activation);
    }
}

/// <summary>
/// How the tiled GEMM reads its operands and where it writes: C (M,N) = A (M,K) · B (K,N), per group.
/// Implementations are blittable structs passed as kernel arguments; ILGPU specialises the kernel per type.
/// </summary>
internal interface IGemmOperands
{
    int M { get; }
    int N { get; }
    int K { get; }
    /// <summary>A[row, kk] of group <paramref name="group"/>; callers keep row &lt; M and kk &lt; K.</summary>
    float LoadA(ArrayView<float> a, int row, int kk, int group);
    float LoadB(ArrayView<float> b, int kk, int col, int group);
    int OutputIndex(int row, int col, int group);
    int BiasIndex(int col, int group);
}

/// <summary>Row-major matrices: A (M,K) or, transposed, (K,M); B (K,N) or, transposed, (N,K); C (M,N).</summary>
internal readonly struct MatrixOperands(int m, int k, int n, int transposeA, int transposeB) : IGemmOperands
{
    public int M { get; } = m;
    public int N { get; } = n;
    public int K { get; } = k;
    public int TransposeA { get; } = transposeA;
    public int TransposeB { get; } = transposeB;
    public float LoadA(ArrayView<float> a, int row, int kk, int group) => TransposeA != 0 ? a[kk * M + row] : a[row * K + kk];
    public float LoadB(ArrayView<float> b, int kk, int col, int group) => TransposeB != 0 ? b[col * K + kk] : b[kk * N + col];
    public int OutputIndex(int row, int col, int group) => row * N + col;
    public int BiasIndex(int col, int group) => col;
}

/// <summary>
/// Convolution as an implicit GEMM (no im2col buffer): row = output pixel (b,i,j), kk = (p,q,c) with c fastest,
/// col = output channel within the group. A[row,kk] is the input cell under filter tap (p,q), 0 in the padding;
/// B is the HWIO filter read as a (KH·KW·Cg, OC) matrix, restricted to the group's columns.
/// </summary>
internal readonly struct ConvOperands(Conv2DGeometry g) : IGemmOperands
{
    public Conv2DGeometry G { get; } = g;
    public int M => G.N * G.OH * G.OW;
    public int N => G.OC / G.Groups;
    public int K => G.KH * G.KW * (G.C / G.Groups);

    public float LoadA(ArrayView<float> input, int row, int kk, int group)
    {
        int cg = G.C / G.Groups;
        int c = kk % cg, tap = kk / cg;
        int q = tap % G.KW, p = tap / G.KW;
        int j = row % G.OW, i = row / G.OW % G.OH, b = row / (G.OW * G.OH);
        int ih = i * G.StrideH + p * G.DilationH - G.PadTop;
        int iw = j * G.StrideW + q * G.DilationW - G.PadLeft;
        if (ih < 0 || ih >= G.H || iw < 0 || iw >= G.W) return 0f;
        return input[((b * G.H + ih) * G.W + iw) * G.C + group * cg + c];
    }

    public float LoadB(ArrayView<float> filter, int kk, int col, int group) => filter[kk * G.OC + group * N + col];
    public int OutputIndex(int row, int col, int group) => row * G.OC + group * N + col;
    public int BiasIndex(int col, int group) => group * N + col;
}

/// <summary>
/// Conv2DBackwardData as an implicit GEMM: row = input pixel (b,h,w), col = input channel c within the group,
/// kk = (p,q,o) with o fastest. A[row,kk] = gOut[b,i,j,o] for the output pixel whose tap (p,q) reads (h,w),
/// or 0 when no output pixel does (stride gaps, borders); B[kk,c] = f[p,q,c,o]. No atomics: each gIn cell is one C cell.
/// </summary>
internal readonly struct ConvBackwardDataOperands(Conv2DGeometry g) : IGemmOperands
{
    public Conv2DGeometry G { get; } = g;
    public int M => G.N * G.H * G.W;
    public int N => G.C / G.Groups;
    public int K => G.KH * G.KW * (G.OC / G.Groups);

    public float LoadA(ArrayView<float> gradOutput, int row, int kk, int group)
    {
        int ocg = G.OC / G.Groups;
        int o = kk % ocg, tap = kk / ocg;
        int q = tap % G.KW, p = tap / G.KW;
        int w = row % G.W, h = row / G.W % G.H, b = row / (G.W * G.H);
        int ti = h + G.PadTop - p * G.DilationH, tj = w + G.PadLeft - q * G.DilationW;
        if (ti < 0 || tj < 0 || ti % G.StrideH != 0 || tj % G.StrideW != 0) return 0f;
        int i = ti / G.StrideH, j = tj / G.StrideW;
        if (i >= G.OH || j >= G.OW) return 0f;
        return gradOutput[((b * G.OH + i) * G.OW + j) * G.OC + group * ocg + o];
    }

    public float LoadB(ArrayView<float> filter, int kk, int col, int group)
    {
        int ocg = G.OC / G.Groups;
        int o = kk % ocg, tap = kk / ocg;
        return filter[(tap * N + col) * G.OC + group * ocg + o];
    }

    public int OutputIndex(int row, int col, int group) => row * G.C + group * N + col;
    public int BiasIndex(int col, int group) => 0;
}

/// <summary>
/// Conv2DBackwardFilter as a GEMM over output pixels: gF (KH·KW·Cg, OCg) = im2col(input)ᵀ · gOut, per group.
/// row = filter row kk = (p,q,c), col = o within the group, inner index = output pixel.
/// </summary>
internal readonly struct ConvBackwardFilterOperands(Conv2DGeometry g) : IGemmOperands
{
    public ConvOperands Forward { get; } = new(g);
    public int M => Forward.K;
    public int N => Forward.N;
    public int K => Forward.M;
    public float LoadA(ArrayView<float> input, int row, int pixel, int group) => Forward.LoadA(input, pixel, row, group);
    public float LoadB(ArrayView<float> gradOutput, int pixel, int col, int group) => gradOutput[pixel * Forward.G.OC + group * N + col];
    public int OutputIndex(int row, int col, int group) => row * Forward.G.OC + group * N + col;
    public int BiasIndex(int col, int group) => 0;
}

/// <summary>
/// How a tiled GEMM launch is split along K ("split-K"): grid z enumerates (slice, group). With one slice the
/// kernel finishes C itself; with several, slice s sums only K range [s·KPerSlice, (s+1)·KPerSlice) and writes its
/// raw partial C at s·SliceStride, and <see cref="IlgpuGemmKernels.ReduceSlices"/> adds them up. Split-K keeps a GPU
/// busy when M·N is small but K is long (a Dense layer on a small batch, a conv's filter gradient).
/// </summary>
internal readonly struct TiledGemmSlices(int groups, int count, int kPerSlice, int sliceStride)
{
    public int Groups { get; } = groups;
    public int Count { get; } = count;
    public int KPerSlice { get; } = kPerSlice;
    public int SliceStride { get; } = sliceStride;
}

/// <summary>
/// The tiled GEMM for real GPUs: a 16×16 group computes a 64×64 tile of C, staging 64×16 slices of A and
/// 16×64 slices of B in shared memory; each thread accumulates a 4×4 block (rows ty+16r, cols tx+16c).
/// C = act([C if accumulate] + [bias] + A·B). Grid: (⌈M/64⌉, ⌈N/64⌉, groups × K slices): M, the long side
/// (pixels), goes on x because CUDA caps grid y and z at 65,535.
/// </summary>
internal static class IlgpuTiledGemmKernel
{
    public const int Tile = 64, TileK = 16, Threads = 16, PerThread = Tile / Threads;

    public static void Run<TOperands>(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias, int hasBias,
        int accumulate, KernelActivation activation, TOperands operands, TiledGemmSlices slices) where TOperands : struct, IGemmOperands
    {
        var tileA = SharedMemory.Allocate<float>(TileK * Tile);   // [kk][row]
        var tileB = SharedMemory.Allocate<float>(TileK * Tile);   // [kk][col]
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * Threads + tx;
        int rowBase = Grid.IdxX * Tile, colBase = Grid.IdxY * Tile;
        int group = Grid.IdxZ % slices.Groups, slice = Grid.IdxZ / slices.Groups;
        int m = operands.M, n = operands.N;
        int kBegin = slice * slices.KPerSlice, kEnd = Math.Min(operands.K, kBegin + slices.KPerSlice);
        var acc = new Accumulator4x4();

        for (int k0 = kBegin; k0 < kEnd; k0 += TileK)
        {
            for (int l = 0; l < TileK * Tile / (Threads * Threads); l++)
            {
                int e = thread + l * Threads * Threads;
                // A: consecutive threads take consecutive kk (contiguous channels in NHWC, contiguous columns of A).
                int kkA = e % TileK, rowA = e / TileK;
                int gRow = rowBase + rowA, gK = k0 + kkA;
                tileA[kkA * Tile + rowA] = gRow < m && gK < kEnd ? operands.LoadA(a, gRow, gK, group) : 0f;
                // B: consecutive threads take consecutive columns (contiguous output channels).
                int colB = e % Tile, kkB = e / Tile;
                int gCol = colBase + colB, gKB = k0 + kkB;
                tileB[kkB * Tile + colB] = gCol < n && gKB < kEnd ? operands.LoadB(b, gKB, gCol, group) : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < TileK; kk++)
            {
                int ra = kk * Tile + ty, rb = kk * Tile + tx;
                acc.Add(tileA[ra], tileA[ra + 16], tileA[ra + 32], tileA[ra + 48],
                        tileB[rb], tileB[rb + 16], tileB[rb + 32], tileB[rb + 48]);
            }
            Group.Barrier();
        }

        for (int r = 0; r < PerThread; r++)
        {
            int row = rowBase + ty + r * Threads;
            if (row >= m) continue;
            for (int col4 = 0; col4 < PerThread; col4++)
            {
                int col = colBase + tx + col4 * Threads;
                if (col >= n) continue;
                int index = operands.OutputIndex(row, col, group);
                float value = acc.Get(r, col4);
                if (slices.Count > 1)
                {
                    c[slice * slices.SliceStride + index] = value;   // a raw partial; ReduceSlices finishes C
                    continue;
                }
                if (hasBias != 0) value += bias[operands.BiasIndex(col, group)];
                if (accumulate != 0) value += c[index];
                c[index] = IlgpuKernelMath.Activate(value, activation);
            }
        }
    }

    /// <summary>A thread's 4×4 block of C in named registers (a local array would spill to memory).</summary>
    private struct Accumulator4x4
    {
        private float _c00, _c01, _c02, _c03, _c10, _c11, _c12, _c13, _c20, _c21, _c22, _c23, _c30, _c31, _c32, _c33;

        /// <summary>Outer product of a column of A (a0..a3) and a row of B (b0..b3).</summary>
        public void Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
        {
            _c00 += a0 * b0; _c01 += a0 * b1; _c02 += a0 * b2; _c03 += a0 * b3;
            _c10 += a1 * b0; _c11 += a1 * b1; _c12 += a1 * b2; _c13 += a1 * b3;
            _c20 += a2 * b0; _c21 += a2 * b1; _c22 += a2 * b2; _c23 += a2 * b3;
            _c30 += a3 * b0; _c31 += a3 * b1; _c32 += a3 * b2; _c33 += a3 * b3;
        }

        public readonly float Get(int r, int c)
        {
            float c0, c1, c2, c3;
            if (r == 0) (c0, c1, c2, c3) = (_c00, _c01, _c02, _c03);
            else if (r == 1) (c0, c1, c2, c3) = (_c10, _c11, _c12, _c13);
            else if (r == 2) (c0, c1, c2, c3) = (_c20, _c21, _c22, _c23);
            else (c0, c1, c2, c3) = (_c30, _c31, _c32, _c33);
            return c == 0 ? c0 : c == 1 ? c1 : c == 2 ? c2 : c3;
        }
    }
}
