using System.Buffers;
using System.Numerics.Tensors;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Fast cpu versions of ChannelAffine, LRN and Transpose: rows of channels go through
/// TensorPrimitives (SIMD), work splits over threads by contiguous pixel ranges. Their readable
/// versions are in <see cref="CpuNormalizationReference"/>.
/// </summary>
internal static class CpuNormalizationKernels
{
    /// <summary>Floats per block of the affine map: scale and shift are tiled to this many, so few channels still fill vectors.</summary>
    private const int AffineBlock = 1024;

    /// <summary>
    /// y = x·scale[c] + shift[c]. Scale and shift are repeated to a whole number of pixels near
    /// <see cref="AffineBlock"/> floats, then each block is one fused multiply-add over spans.
    /// </summary>
    public static void ChannelAffine(int threads, float[] input, float[] scale, float[] shift, float[] output, long pixels, int channels)
    {
        int pixelsPerBlock = Math.Max(1, AffineBlock / channels);
        int blockLength = pixelsPerBlock * channels;
        var tiledScale = new float[blockLength];
        var tiledShift = new float[blockLength];
        for (int p = 0; p < pixelsPerBlock; p++)
        {
            scale.AsSpan(0, channels).CopyTo(tiledScale.AsSpan(p * channels));
            shift.AsSpan(0, channels).CopyTo(tiledShift.AsSpan(p * channels));
        }
        long blocks = (pixels + pixelsPerBlock - 1) / pixelsPerBlock;
        CpuParallel.For(threads, blocks, Math.Max(1, CpuVectorLoop.MinPerPart / blockLength), (start, end) =>
        {
            for (long b = start; b < end; b++)
            {
                long first = b * blockLength;
                int length = (int)Math.Min(blockLength, pixels * channels - first);
                TensorPrimitives.FusedMultiplyAdd(input.AsSpan((int)first, length), tiledScale.AsSpan(0, length),
                    tiledShift.AsSpan(0, length), output.AsSpan((int)first, length));
            }
        });
    }

    /// <summary>
    /// Per pixel: squares into a zero-padded row, the window sum as Size shifted vector adds
    /// (no prefix-sum differences, so no cancellation), then x · (bias + α/size · sum)^−β.
    /// </summary>
    public static void Lrn(int threads, float[] input, float[] output, LrnGeometry g)
    {
        int channels = g.Channels;
        CpuParallel.For(threads, g.Pixels, Math.Max(1, CpuVectorLoop.MinPerPart / (channels * Math.Max(1, g.Size))), (start, end) =>
        {
            float[] padded = ArrayPool<float>.Shared.Rent(channels + g.Size);
            float[] sum = ArrayPool<float>.Shared.Rent(channels);
            try
            {
                var squares = padded.AsSpan(0, channels + g.Size - 1);
                var window = sum.AsSpan(0, channels);
                squares.Clear();
                for (long p = start; p < end; p++)
                {
                    var x = input.AsSpan((int)(p * channels), channels);
                    var y = output.AsSpan((int)(p * channels), channels);
                    // squares[Before + c] = x[c]²; the window of c is squares[c .. c + Size).
                    TensorPrimitives.Multiply(x, x, squares.Slice(g.Before, channels));
                    squares[..channels].CopyTo(window);
                    for (int k = 1; k < g.Size; k++) TensorPrimitives.Add(window, squares.Slice(k, channels), window);
                    TensorPrimitives.Multiply(window, g.Alpha / g.Size, window);
                    TensorPrimitives.Add(window, g.Bias, window);
                    TensorPrimitives.Pow(window, -g.Beta, window);
                    TensorPrimitives.Multiply(x, window, y);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(padded);
                ArrayPool<float>.Shared.Return(sum);
            }
        });
    }

    /// <summary>Edge of the square tiles of the transpose: 32×32 floats read and written stay in L1.</summary>
    private const int Tile = 32;

    /// <summary>
    /// Axis permutation. When the last axis stays last it is a copy of contiguous rows; otherwise it
    /// is a batch of 2-D transposes between the output's last axis and the output axis that walks
    /// the input contiguously, done in tiles so reads and writes both stay in cache.
    /// </summary>
    public static void Transpose(int threads, float[] input, float[] output, TransposeGeometry g)
    {
        if (g.Length == 0) return;
        // The output axis whose input stride is 1 (the input's last axis), among those longer than 1.
        int contiguous = -1;
        for (int axis = 0; axis < 4; axis++)
            if (g.Out(axis) > 1 && g.InStride(axis) == 1) contiguous = axis;
        if (contiguous == -1 || contiguous == 3 || g.Out3 == 1)
        {
            CopyRows(threads, input, output, g);
            return;
        }
        // Outer loop over the two remaining output axes, tiles over (contiguous, 3).
        int[] outer = [.. Enumerable.Range(0, 3).Where(a => a != contiguous)];
        int outerA = g.Out(outer[0]), outerB = g.Out(outer[1]);
        int rowsA = g.Out(contiguous), cols = g.Out3;
        int tilesA = (rowsA + Tile - 1) / Tile;
        long jobs = (long)outerA * outerB * tilesA;
        int outStrideA = OutStride(g, outer[0]), outStrideB = OutStride(g, outer[1]), outStrideRow = OutStride(g, contiguous);
        int inStrideA = g.InStride(outer[0]), inStrideB = g.InStride(outer[1]), inStrideCol = g.InStride3;
        CpuParallel.For(threads, jobs, Math.Max(1, CpuVectorLoop.MinPerPart / (Tile * cols)), (start, end) =>
        {
            for (long job = start; job < end; job++)
            {
                int tile = (int)(job % tilesA);
                long rest = job / tilesA;
                int b = (int)(rest % outerB), a = (int)(rest / outerB);
                int inBase = a * inStrideA + b * inStrideB, outBase = a * outStrideA + b * outStrideB;
                int r0 = tile * Tile, r1 = Math.Min(rowsA, r0 + Tile);
                for (int c0 = 0; c0 < cols; c0 += Tile)
                {
                    int c1 = Math.Min(cols, c0 + Tile);
                    for (int r = r0; r < r1; r++)
                    {
                        int o = outBase + r * outStrideRow;
                        int i = inBase + r; // input stride of the contiguous axis is 1
                        for (int c = c0; c < c1; c++) output[o + c] = input[i + c * inStrideCol];
                    }
                }
            }
        });
    }

    /// <summary>The permutation keeps the last axis (or moves only unit axes): copy rows of Out3 floats.</summary>
    private static void CopyRows(int threads, float[] input, float[] output, TransposeGeometry g)
    {
        long rows = g.Length / g.Out3;
        CpuParallel.For(threads, rows, Math.Max(1, CpuVectorLoop.MinPerPart / g.Out3), (start, end) =>
        {
            for (long row = start; row < end; row++)
            {
                int c = (int)(row % g.Out2);
                long rest = row / g.Out2;
                int b = (int)(rest % g.Out1), a = (int)(rest / g.Out1);
                int from = a * g.InStride0 + b * g.InStride1 + c * g.InStride2;
                var destination = output.AsSpan((int)(row * g.Out3), g.Out3);
                if (g.InStride3 == 1 || g.Out3 == 1)
                    input.AsSpan(from, g.Out3).CopyTo(destination);
                else
                    for (int d = 0; d < g.Out3; d++) destination[d] = input[from + d * g.InStride3];
            }
        });
    }

    private static int OutStride(TransposeGeometry g, int axis)
    {
        int stride = 1;
        for (int a = 3; a > axis; a--) stride *= g.Out(a);
        return stride;
    }
}
