using System.Buffers;
using System.Numerics.Tensors;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Conv backward as im2col + GEMM, the forward's lowering run backwards (Darknet style). The rows
/// of the column matrix are output pixels of the whole batch in order, so a block of rows may
/// span images: every block is one GEMM with as long a K (filter) or M (data) as the scratch allows.
/// </summary>
internal static unsafe class CpuConvBackward
{
    /// <summary>Floats of column-matrix scratch per worker (2 MiB of floats: a few hundred rows of a wide conv).</summary>
    private const int ScratchFloats = 1 << 19;
    /// <summary>Fewest output pixels a filter-gradient part is given: below this a private partial filter costs more than it saves.</summary>
    private const int MinRowsPerFilterPart = 64;

    /// <summary>Rows of the column matrix per GEMM call.</summary>
    public static int BlockRows(in Conv2DGeometry g) => Math.Clamp(ScratchFloats / CpuIm2Col.RowLength(g), 16, 1024);

    /// <summary>
    /// gradFilter (KH·KW·Cg × OC, i.e. HWIO) = Σ colsᵀ · gradOut. The batch's output pixels are split
    /// into fixed contiguous parts; part 0 sums into gradFilter, the others into pooled partials that
    /// are then added in part order, so the result is bit-identical run to run.
    /// </summary>
    /// <param name="blockRows">Rows per GEMM; <see cref="BlockRows"/> when null (tests pass a small one to cross block edges).</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="simd">The vector path.</param>
    /// <param name="input">The forward input (N, H, W, C).</param>
    /// <param name="gradOutput">(N, OH, OW, OC).</param>
    /// <param name="gradFilter">(KH, KW, C/groups, OC), overwritten.</param>
    /// <param name="g">The conv's geometry.</param>
    public static void BackwardFilter(int threads, SimdLevel simd, float[] input, float[] gradOutput, float[] gradFilter, Conv2DGeometry g, int? blockRows = null)
    {
        int rowsPerBlock = blockRows ?? BlockRows(g);
        long totalRows = (long)g.N * g.OH * g.OW;
        int filterLength = CpuIm2Col.RowLength(g) * g.OC;
        int parts = CpuParallel.Parts(threads, totalRows, MinRowsPerFilterPart);
        var partials = new float[parts][];
        partials[0] = gradFilter;
        for (int part = 1; part < parts; part++) partials[part] = ArrayPool<float>.Shared.Rent(filterLength);
        try
        {
            int gemmThreads = parts == 1 ? threads : 1;
            CpuParallel.ForEachPart(threads, parts, part =>
                FilterRows(simd, gemmThreads, input, gradOutput, partials[part], g, rowsPerBlock,
                    CpuParallel.Start(totalRows, parts, part), CpuParallel.Start(totalRows, parts, part + 1)));
            if (parts > 1)
                CpuParallel.For(threads, filterLength, 1 << 14, (start, end) =>
                {
                    var sum = gradFilter.AsSpan((int)start, (int)(end - start));
                    for (int part = 1; part < parts; part++)
                        TensorPrimitives.Add(sum, partials[part].AsSpan((int)start, sum.Length), sum);
                });
        }
        finally
        {
            for (int part = 1; part < parts; part++) ArrayPool<float>.Shared.Return(partials[part]);
        }
    }

    /// <summary>target = Σ over output pixels [start, end) of the batch of (im2col row)ᵀ · (gradOut row), per group.</summary>
    private static void FilterRows(SimdLevel simd, int gemmThreads, float[] input, float[] gradOutput, float[] target, in Conv2DGeometry g, int blockRows, long start, long end)
    {
        int rowLength = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup;
        target.AsSpan(0, rowLength * g.OC).Clear();
        float[] columns = ArrayPool<float>.Shared.Rent(blockRows * rowLength);
        try
        {
            fixed (float* cols = columns, gradOut = gradOutput, filterGrad = target)
            {
                for (long row = start; row < end; row += blockRows)
                {
                    int count = (int)Math.Min(blockRows, end - row);
                    for (int group = 0; group < g.Groups; group++)
                    {
                        for (int offset = 0; offset < count;)
                        {
                            var (b, pixel, length) = ImageSegment(g, row + offset, count - offset);
                            CpuIm2Col.Im2Col(input, columns.AsSpan(offset * rowLength, length * rowLength), g, b, group, pixel, length);
                            offset += length;
                        }
                        CpuGemm.Multiply(simd, gemmThreads, transposeA: true, transposeB: false,
                            m: rowLength, n: ocg, k: count,
                            a: cols, lda: rowLength,
                            b: gradOut + row * g.OC + group * ocg, ldb: g.OC,
                            c: filterGrad + group * ocg, ldc: g.OC, accumulate: true);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(columns);
        }
    }

    /// <summary>
    /// gradInput = Col2Im(gradOut · W_gᵀ) per group. Work items never add into the same input rows
    /// at the same time: whole images when there are enough of them; otherwise each image's output
    /// rows are cut into chunks and the even chunks run before the odd ones, with chunks tall enough
    /// that two chunks of the same parity never reach the same input row. The order in which the
    /// contributions to any one input value are added is therefore fixed.
    /// </summary>
    /// <param name="blockRows">Rows per GEMM; <see cref="BlockRows"/> when null.</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="simd">The vector path.</param>
    /// <param name="gradOutput">(N, OH, OW, OC).</param>
    /// <param name="filter">(KH, KW, C/groups, OC).</param>
    /// <param name="gradInput">(N, H, W, C), overwritten.</param>
    /// <param name="g">The conv's geometry.</param>
    public static void BackwardData(int threads, SimdLevel simd, float[] gradOutput, float[] filter, float[] gradInput, Conv2DGeometry g, int? blockRows = null)
    {
        int rowsPerBlock = blockRows ?? BlockRows(g);
        gradInput.AsSpan(0, g.N * g.H * g.W * g.C).Clear();
        int pixelsPerImage = g.OH * g.OW;
        int chunks = ChunksPerImage(threads, g);
        if (chunks == 1)
        {
            int parts = Math.Min(threads, g.N);
            int gemmThreads = parts == 1 ? threads : 1;
            CpuParallel.ForEachPart(threads, parts, part =>
                DataRows(simd, gemmThreads, gradOutput, filter, gradInput, g, rowsPerBlock,
                    CpuParallel.Start(g.N, parts, part) * pixelsPerImage, CpuParallel.Start(g.N, parts, part + 1) * pixelsPerImage));
            return;
        }
        for (int parity = 0; parity < 2; parity++)
        {
            int phaseChunks = (chunks - parity + 1) / 2;
            CpuParallel.ForEachPart(threads, g.N * phaseChunks, item =>
            {
                int b = item / phaseChunks, chunk = 2 * (item % phaseChunks) + parity;
                long imageStart = (long)b * pixelsPerImage;
                DataRows(simd, 1, gradOutput, filter, gradInput, g, rowsPerBlock,
                    imageStart + CpuParallel.Start(g.OH, chunks, chunk) * g.OW,
                    imageStart + CpuParallel.Start(g.OH, chunks, chunk + 1) * g.OW);
            });
        }
    }

    /// <summary>
    /// How many row chunks each image's output is cut into for <see cref="BackwardData"/>: 1 when the
    /// images alone keep every thread busy, else enough for two rounds of work per thread, as long as
    /// each chunk keeps at least ⌈dk/s⌉ − 1 output rows (so chunks t and t+2 touch disjoint input rows).
    /// </summary>
    public static int ChunksPerImage(int threads, in Conv2DGeometry g)
    {
        if (threads == 1 || g.N >= 2 * threads) return 1;
        int dilatedKernel = WindowMath.DilatedExtent(g.KH, g.DilationH);
        int minRows = Math.Max(1, (dilatedKernel + g.StrideH - 1) / g.StrideH - 1);
        int wanted = (2 * threads + g.N - 1) / g.N;
        int chunks = Math.Min(2 * ((wanted + 1) / 2), g.OH / minRows);
        return chunks < 2 ? 1 : chunks;
    }

    /// <summary>Adds the gradient of output pixels [start, end) of the batch into gradInput, a block of rows at a time.</summary>
    private static void DataRows(SimdLevel simd, int gemmThreads, float[] gradOutput, float[] filter, float[] gradInput, in Conv2DGeometry g, int blockRows, long start, long end)
    {
        int rowLength = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup;
        float[] columns = ArrayPool<float>.Shared.Rent(blockRows * rowLength);
        try
        {
            fixed (float* cols = columns, gradOut = gradOutput, weights = filter)
            {
                for (long row = start; row < end; row += blockRows)
                {
                    int count = (int)Math.Min(blockRows, end - row);
                    for (int group = 0; group < g.Groups; group++)
                    {
                        CpuGemm.Multiply(simd, gemmThreads, transposeA: false, transposeB: true,
                            m: count, n: rowLength, k: ocg,
                            a: gradOut + row * g.OC + group * ocg, lda: g.OC,
                            b: weights + group * ocg, ldb: g.OC,
                            c: cols, ldc: rowLength, accumulate: false);
                        for (int offset = 0; offset < count;)
                        {
                            var (b, pixel, length) = ImageSegment(g, row + offset, count - offset);
                            CpuCol2Im.Col2Im(columns.AsSpan(offset * rowLength, length * rowLength), gradInput, g, b, group, pixel, length);
                            offset += length;
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(columns);
        }
    }

    /// <summary>Batch row <paramref name="row"/> as (image, pixel in it) and how many of the next <paramref name="count"/> rows stay in that image.</summary>
    private static (int Batch, int Pixel, int Length) ImageSegment(in Conv2DGeometry g, long row, int count)
    {
        int pixelsPerImage = g.OH * g.OW;
        int pixel = (int)(row % pixelsPerImage);
        return ((int)(row / pixelsPerImage), pixel, Math.Min(count, pixelsPerImage - pixel));
    }
}
