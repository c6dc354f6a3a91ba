using System.Buffers;
using System.Numerics.Tensors;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Pooling backward. Channels never mix, so work is split over (image, channel block) items that
/// write disjoint floats; within an item windows are visited in the reference's order, so every
/// input cell receives its contributions in the same order as <see cref="CpuReferenceBackward"/>.
/// </summary>
internal static class CpuPoolBackward
{
    /// <summary>Narrowest channel block an item is given when images alone cannot feed every thread.</summary>
    private const int MinChannelBlock = 8;

    public static void Pool2DBackward(int threads, float[] input, float[] gradOutput, float[] gradInput, Pool2DGeometry g, PoolKind kind)
    {
        int blocks = ChannelBlocks(threads, g.N, g.C), blockWidth = (g.C + blocks - 1) / blocks;
        blocks = (g.C + blockWidth - 1) / blockWidth;
        CpuParallel.ForEachPart(threads, g.N * blocks, item =>
        {
            int b = item / blocks, c0 = item % blocks * blockWidth, width = Math.Min(blockWidth, g.C - c0);
            if (kind == PoolKind.Max) MaxImage(input, gradOutput, gradInput, g, b, c0, width);
            else AverageImage(gradOutput, gradInput, g, b, c0, width);
        });
    }

    /// <summary>How many channel blocks each image is cut into so that N·blocks items keep the threads busy.</summary>
    private static int ChannelBlocks(int threads, int n, int channels) =>
        n >= threads ? 1 : Math.Clamp((threads + n - 1) / n, 1, Math.Max(1, channels / MinChannelBlock));

    private static void MaxImage(float[] input, float[] gradOutput, float[] gradInput, in Pool2DGeometry g, int b, int c0, int width)
    {
        float[] bestValue = ArrayPool<float>.Shared.Rent(width);
        int[] bestAt = ArrayPool<int>.Shared.Rent(width);
        try
        {
            for (int ih = 0; ih < g.H; ih++)
            for (int iw = 0; iw < g.W; iw++)
                gradInput.AsSpan(((b * g.H + ih) * g.W + iw) * g.C + c0, width).Clear();
            for (int i = 0; i < g.OH; i++)
            for (int j = 0; j < g.OW; j++)
            {
                int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
                bool first = true;
                for (int p = 0; p < g.PoolH; p++)
                {
                    int ih = ih0 + p * g.DilationH;
                    if (ih < 0 || ih >= g.H) continue;
                    for (int q = 0; q < g.PoolW; q++)
                    {
                        int iw = iw0 + q * g.DilationW;
                        if (iw < 0 || iw >= g.W) continue;
                        int at = ((b * g.H + ih) * g.W + iw) * g.C + c0;
                        var cell = input.AsSpan(at, width);
                        if (first)
                        {
                            cell.CopyTo(bestValue);
                            bestAt.AsSpan(0, width).Fill(at);
                            first = false;
                            continue;
                        }
                        // Strictly greater: a tie keeps the earlier cell in scan order.
                        for (int c = 0; c < width; c++)
                            if (cell[c] > bestValue[c]) (bestValue[c], bestAt[c]) = (cell[c], at);
                    }
                }
                if (first) continue;
                int outAt = ((b * g.OH + i) * g.OW + j) * g.C + c0;
                for (int c = 0; c < width; c++) gradInput[bestAt[c] + c] += gradOutput[outAt + c];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bestValue);
            ArrayPool<int>.Shared.Return(bestAt);
        }
    }

    private static void AverageImage(float[] gradOutput, float[] gradInput, in Pool2DGeometry g, int b, int c0, int width)
    {
        float[] shareBuffer = ArrayPool<float>.Shared.Rent(width);
        try
        {
            var share = shareBuffer.AsSpan(0, width);
            for (int ih = 0; ih < g.H; ih++)
            for (int iw = 0; iw < g.W; iw++)
                gradInput.AsSpan(((b * g.H + ih) * g.W + iw) * g.C + c0, width).Clear();
            for (int i = 0; i < g.OH; i++)
            for (int j = 0; j < g.OW; j++)
            {
                int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
                TensorPrimitives.Divide(gradOutput.AsSpan(((b * g.OH + i) * g.OW + j) * g.C + c0, width),
                    (float)g.AverageDivisor(ih0, iw0), share);
                for (int p = 0; p < g.PoolH; p++)
                {
                    int ih = ih0 + p * g.DilationH;
                    if (ih < 0 || ih >= g.H) continue;
                    for (int q = 0; q < g.PoolW; q++)
                    {
                        int iw = iw0 + q * g.DilationW;
                        if (iw < 0 || iw >= g.W) continue;
                        var cell = gradInput.AsSpan(((b * g.H + ih) * g.W + iw) * g.C + c0, width);
                        TensorPrimitives.Add(cell, share, cell);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(shareBuffer);
        }
    }

    /// <summary>(N, spatial, C): average spreads gradient / spatial; max gives it all to the first maximum. Split over images.</summary>
    public static void GlobalPoolBackward(int threads, float[] input, float[] gradOutput, float[] gradInput, int n, int spatial, int channels, PoolKind kind)
    {
        CpuParallel.For(threads, n, 1, (start, end) =>
        {
            int[] bestAt = ArrayPool<int>.Shared.Rent(channels);
            try
            {
                for (int b = (int)start; b < end; b++)
                {
                    var go = gradOutput.AsSpan(b * channels, channels);
                    var image = gradInput.AsSpan(b * spatial * channels, spatial * channels);
                    if (kind == PoolKind.Average)
                    {
                        var first = image[..channels];
                        TensorPrimitives.Divide(go, (float)spatial, first);
                        for (int s = 1; s < spatial; s++) first.CopyTo(image.Slice(s * channels, channels));
                        continue;
                    }
                    image.Clear();
                    var best = bestAt.AsSpan(0, channels);
                    best.Clear();
                    for (int s = 1; s < spatial; s++)
                    {
                        int at = (b * spatial + s) * channels;
                        for (int c = 0; c < channels; c++)
                            if (input[at + c] > input[(b * spatial + best[c]) * channels + c]) best[c] = s;
                    }
                    for (int c = 0; c < channels; c++) image[best[c] * channels + c] = go[c];
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(bestAt);
            }
        });
    }
}
