using System.Buffers;
using System.Numerics.Tensors;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The small training kernels: bias gradient, split (Concat's backward), Pad2D's backward,
/// elementwise multiply / axpy / fill and dropout. Elementwise loops use TensorPrimitives on
/// contiguous parts of the range.
/// </summary>
internal static class CpuTensorBackward
{
    /// <summary>Fewest rows per part of the bias gradient; each extra part costs one partial row and one add.</summary>
    private const long MinRowsPerBiasPart = 256;

    /// <summary>
    /// gradBias = column sums of (rows, channels). Rows are split into fixed parts; part 0 sums into
    /// gradBias, the others into pooled partials that are then added in part order.
    /// </summary>
    public static void BiasBackward(int threads, float[] gradOutput, float[] gradBias, long rows, int channels)
    {
        int parts = CpuParallel.Parts(threads, rows, Math.Max(MinRowsPerBiasPart, CpuVectorLoop.MinPerPart / Math.Max(1, channels)));
        var partials = new float[parts][];
        partials[0] = gradBias;
        for (int part = 1; part < parts; part++) partials[part] = ArrayPool<float>.Shared.Rent(channels);
        try
        {
            CpuParallel.ForEachPart(threads, parts, part =>
            {
                var sum = partials[part].AsSpan(0, channels);
                sum.Clear();
                long end = CpuParallel.Start(rows, parts, part + 1);
                for (long r = CpuParallel.Start(rows, parts, part); r < end; r++)
                    TensorPrimitives.Add(sum, gradOutput.AsSpan((int)(r * channels), channels), sum);
            });
            var total = gradBias.AsSpan(0, channels);
            for (int part = 1; part < parts; part++) TensorPrimitives.Add(total, partials[part].AsSpan(0, channels), total);
        }
        finally
        {
            for (int part = 1; part < parts; part++) ArrayPool<float>.Shared.Return(partials[part]);
        }
    }

    /// <summary>(pixels, Σ channels) → (pixels, channels[t]) for each t; pixels split over threads.</summary>
    public static void Split(int threads, float[] input, float[][] outputs, int[] channels, long pixels)
    {
        int total = channels.Sum();
        CpuParallel.For(threads, pixels, Math.Max(1, CpuVectorLoop.MinPerPart / Math.Max(1, total)), (start, end) =>
        {
            for (long p = start; p < end; p++)
            {
                int offset = 0;
                for (int t = 0; t < outputs.Length; t++)
                {
                    input.AsSpan((int)(p * total + offset), channels[t]).CopyTo(outputs[t].AsSpan((int)(p * channels[t]), channels[t]));
                    offset += channels[t];
                }
            }
        });
    }

    /// <summary>
    /// Pad2D backward, per image. Zero mode crops. Reflect/edge: each output row adds into the
    /// input row it copied, columns left to right (left border, interior as one run, right border),
    /// the reference's scan order.
    /// </summary>
    public static void Pad2DBackward(int threads, float[] gradOutput, float[] gradInput, Pad2DGeometry g, PadMode mode)
    {
        int inRow = g.W * g.C, outRow = g.OW * g.C;
        CpuParallel.For(threads, g.N, 1, (start, end) =>
        {
            for (int b = (int)start; b < end; b++)
            {
                var image = gradInput.AsSpan(b * g.H * inRow, g.H * inRow);
                if (mode == PadMode.Zero)
                {
                    for (int ih = 0; ih < g.H; ih++)
                        gradOutput.AsSpan(((b * g.OH + ih + g.Top) * g.OW + g.Left) * g.C, inRow).CopyTo(image.Slice(ih * inRow, inRow));
                    continue;
                }
                image.Clear();
                for (int i = 0; i < g.OH; i++)
                {
                    int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode);
                    var source = gradOutput.AsSpan((b * g.OH + i) * outRow, outRow);
                    var target = image.Slice(ih * inRow, inRow);
                    for (int j = 0; j < g.Left; j++) AddCell(source, target, j, g, mode);
                    TensorPrimitives.Add(target, source.Slice(g.Left * g.C, inRow), target);
                    for (int j = g.Left + g.W; j < g.OW; j++) AddCell(source, target, j, g, mode);
                }
            }
        });
    }

    private static void AddCell(ReadOnlySpan<float> sourceRow, Span<float> targetRow, int j, in Pad2DGeometry g, PadMode mode)
    {
        var target = targetRow.Slice(Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode) * g.C, g.C);
        TensorPrimitives.Add(target, sourceRow.Slice(j * g.C, g.C), target);
    }

    public static void Multiply(int threads, float[] a, float[] b, float[] output, long length) =>
        CpuParallel.For(threads, length, CpuVectorLoop.MinPerPart, (start, end) =>
        {
            int s = (int)start, n = (int)(end - start);
            TensorPrimitives.Multiply(a.AsSpan(s, n), b.AsSpan(s, n), output.AsSpan(s, n));
        });

    /// <summary>y = alpha·x + y.</summary>
    public static void Axpy(int threads, float alpha, float[] x, float[] y, long length) =>
        CpuParallel.For(threads, length, CpuVectorLoop.MinPerPart, (start, end) =>
        {
            int s = (int)start, n = (int)(end - start);
            TensorPrimitives.MultiplyAdd(x.AsSpan(s, n), alpha, y.AsSpan(s, n), y.AsSpan(s, n));
        });

    public static void Fill(int threads, float[] buffer, float value, long length) =>
        CpuParallel.For(threads, length, CpuVectorLoop.MinPerPart, (start, end) =>
            buffer.AsSpan((int)start, (int)(end - start)).Fill(value));

    /// <summary>
    /// Inverted dropout: keep element i when <see cref="CounterRng.Uniform"/>(seed, i) ≥ rate, the same
    /// function the ILGPU kernels call, so masks agree across backends and thread splits.
    /// </summary>
    public static void Dropout(int threads, float[] input, float[] mask, float[] output, long length, float rate, ulong seed)
    {
        float scale = rate < 1f ? 1f / (1f - rate) : 0f;
        CpuParallel.For(threads, length, CpuVectorLoop.MinPerPart / 4, (start, end) =>
        {
            for (long i = start; i < end; i++)
            {
                float keep = CounterRng.Uniform(seed, (ulong)i) >= rate ? scale : 0f;
                mask[i] = keep;
                output[i] = input[i] * keep;
            }
        });
    }
}
