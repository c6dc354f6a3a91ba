using System.Runtime.Intrinsics;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Direct 2-D pooling: for each output pixel the window's in-bounds taps are listed once, then
/// every channel vector runs over them in registers. Parallel over (image, output row).
/// Padded cells are never read, so they never win a max; the average divides by
/// <see cref="Pool2DGeometry.AverageDivisor"/>, as the reference does.
/// </summary>
internal static unsafe class CpuPoolKernels
{
    private const long MinWorkPerPart = 1L << 17;
    private const int MaxStackTaps = 1024;

    public static void Pool2DDirect(SimdLevel simd, int threads, float* input, float* output, Pool2DGeometry g, PoolKind kind)
    {
        int rowCount = g.N * g.OH;
        int parts = Math.Min(rowCount, CpuParallel.Parts(threads, (long)rowCount * g.OW * g.C * g.PoolH * g.PoolW, MinWorkPerPart));
        CpuParallel.For(parts, part =>
        {
            // Taps are the window positions inside the input, at most one per input row and column: a pool window
            // far larger than the input (a pool of 100000 on a 28x28 image) must not size this buffer.
            int windowSize = Math.Min(g.PoolH, g.H) * Math.Min(g.PoolW, g.W);
            Span<int> tapSpace = windowSize <= MaxStackTaps ? stackalloc int[windowSize] : new int[windowSize];
            fixed (int* taps = tapSpace)
            {
                var (r0, r1) = CpuParallel.Range(rowCount, parts, part);
                for (int row = r0; row < r1; row++)
                {
                    int b = row / g.OH, i = row % g.OH, ih0 = i * g.StrideH - g.PadTop;
                    for (int j = 0; j < g.OW; j++)
                    {
                        int iw0 = j * g.StrideW - g.PadLeft, count = 0;
                        for (int p = 0; p < g.PoolH; p++)
                        {
                            int ih = ih0 + p * g.DilationH;
                            if (ih < 0 || ih >= g.H) continue;
                            for (int q = 0; q < g.PoolW; q++)
                            {
                                int iw = iw0 + q * g.DilationW;
                                if (iw < 0 || iw >= g.W) continue;
                                taps[count++] = ((b * g.H + ih) * g.W + iw) * g.C;
                            }
                        }
                        float* dst = output + ((nint)row * g.OW + j) * g.C;
                        if (kind == PoolKind.Max) MaxPixel(simd, input, taps, count, dst, g.C);
                        else AveragePixel(simd, input, taps, count, dst, g.C, g.AverageDivisor(ih0, iw0));
                    }
                }
            }
        });
    }

    private static void MaxPixel(SimdLevel simd, float* input, int* taps, int count, float* dst, int channels)
    {
        int c = 0;
        if (simd == SimdLevel.Avx512)
            for (; c <= channels - 16; c += 16)
            {
                var acc = Vector512.Create(float.NegativeInfinity);
                for (int t = 0; t < count; t++) acc = Vector512.Max(acc, Vector512.Load(input + taps[t] + c));
                acc.Store(dst + c);
            }
        if (simd >= SimdLevel.Avx2)
            for (; c <= channels - 8; c += 8)
            {
                var acc = Vector256.Create(float.NegativeInfinity);
                for (int t = 0; t < count; t++) acc = Vector256.Max(acc, Vector256.Load(input + taps[t] + c));
                acc.Store(dst + c);
            }
        for (; c < channels; c++)
        {
            float acc = float.NegativeInfinity;
            for (int t = 0; t < count; t++) acc = MathF.Max(acc, input[taps[t] + c]);
            dst[c] = acc;
        }
    }

    private static void AveragePixel(SimdLevel simd, float* input, int* taps, int count, float* dst, int channels, int divisor)
    {
        int c = 0;
        if (simd == SimdLevel.Avx512)
        {
            var d = Vector512.Create((float)divisor);
            for (; c <= channels - 16; c += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int t = 0; t < count; t++) acc += Vector512.Load(input + taps[t] + c);
                (acc / d).Store(dst + c);
            }
        }
        if (simd >= SimdLevel.Avx2)
        {
            var d = Vector256.Create((float)divisor);
            for (; c <= channels - 8; c += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int t = 0; t < count; t++) acc += Vector256.Load(input + taps[t] + c);
                (acc / d).Store(dst + c);
            }
        }
        for (; c < channels; c++)
        {
            float acc = 0f;
            for (int t = 0; t < count; t++) acc += input[taps[t] + c];
            dst[c] = acc / divisor;
        }
    }
}
