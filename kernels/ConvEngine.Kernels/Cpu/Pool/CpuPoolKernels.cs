using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Direct 2-D pooling: for each output pixel the window's kernel rows and columns that fall inside the input are
/// found once (two ranges, so interior pixels run without a bounds check per tap), then every channel vector runs
/// over them in registers. Parallel over chunks of (image, output row). Padded cells are never read, so they never
/// win a max; the average divides by <see cref="Pool2DGeometry.AverageDivisor"/>, as the reference does.
/// </summary>
internal static unsafe class CpuPoolKernels
{
    private const long MinWorkPerPart = 1L << 17;

    public static void Pool2DDirect(SimdLevel simd, int threads, float* input, float* output, Pool2DGeometry g, PoolKind kind)
    {
        int rowCount = g.N * g.OH;
        int parts = Math.Min(rowCount, CpuParallel.Parts(threads, (long)rowCount * g.OW * g.C * g.PoolH * g.PoolW, MinWorkPerPart));
        int chunks = parts == 1 ? 1 : Math.Min(rowCount, 4 * parts);
        CpuParallel.ForChunks(parts, chunks, chunk =>
        {
            var (r0, r1) = CpuParallel.Range(rowCount, chunks, chunk);
            for (int row = r0; row < r1; row++) PoolRow(simd, input, output, g, kind, row);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PoolRow(SimdLevel simd, float* input, float* output, in Pool2DGeometry g, PoolKind kind, int row)
    {
        int b = row / g.OH, i = row % g.OH, ih0 = i * g.StrideH - g.PadTop;
        int p0 = 0, p1 = g.PoolH;
        while (p0 < p1 && ih0 + p0 * g.DilationH < 0) p0++;
        while (p1 > p0 && ih0 + (p1 - 1) * g.DilationH >= g.H) p1--;
        nint rowStep = (nint)g.DilationH * g.W * g.C, tapStep = (nint)g.DilationW * g.C;
        float* image = input + (nint)b * g.H * g.W * g.C;
        for (int j = 0; j < g.OW; j++)
        {
            int iw0 = j * g.StrideW - g.PadLeft;
            int q0 = 0, q1 = g.PoolW;
            while (q0 < q1 && iw0 + q0 * g.DilationW < 0) q0++;
            while (q1 > q0 && iw0 + (q1 - 1) * g.DilationW >= g.W) q1--;
            float* window = image + ((nint)(ih0 + p0 * g.DilationH) * g.W + iw0 + q0 * g.DilationW) * g.C;
            float* dst = output + ((nint)row * g.OW + j) * g.C;
            if (kind == PoolKind.Max) MaxPixel(simd, window, p1 - p0, q1 - q0, rowStep, tapStep, dst, g.C);
            else AveragePixel(simd, window, p1 - p0, q1 - q0, rowStep, tapStep, dst, g.C, g.AverageDivisor(ih0, iw0));
        }
    }

    /// <summary>Max over a rows × cols window whose first tap is <paramref name="window"/> (an empty window gives −∞, as the reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPixel(SimdLevel simd, float* window, int rows, int cols, nint rowStep, nint tapStep, float* dst, int channels)
    {
        int c = 0;
        if (simd == SimdLevel.Avx512)
            for (; c <= channels - 16; c += 16)
            {
                var acc = Vector512.Create(float.NegativeInfinity);
                for (int p = 0; p < rows; p++)
                {
                    float* src = window + p * rowStep + c;
                    for (int q = 0; q < cols; q++, src += tapStep) acc = Vector512.Max(acc, Vector512.Load(src));
                }
                acc.Store(dst + c);
            }
        if (simd >= SimdLevel.Avx2)
            for (; c <= channels - 8; c += 8)
            {
                var acc = Vector256.Create(float.NegativeInfinity);
                for (int p = 0; p < rows; p++)
                {
                    float* src = window + p * rowStep + c;
                    for (int q = 0; q < cols; q++, src += tapStep) acc = Vector256.Max(acc, Vector256.Load(src));
                }
                acc.Store(dst + c);
            }
        for (; c < channels; c++)
        {
            float acc = float.NegativeInfinity;
            for (int p = 0; p < rows; p++)
            {
                float* src = window + p * rowStep + c;
                for (int q = 0; q < cols; q++, src += tapStep) acc = MathF.Max(acc, *src);
            }
            dst[c] = acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AveragePixel(SimdLevel simd, float* window, int rows, int cols, nint rowStep, nint tapStep, float* dst, int channels, int divisor)
    {
        int c = 0;
        if (simd == SimdLevel.Avx512)
        {
            var d = Vector512.Create((float)divisor);
            for (; c <= channels - 16; c += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int p = 0; p < rows; p++)
                {
                    float* src = window + p * rowStep + c;
                    for (int q = 0; q < cols; q++, src += tapStep) acc += Vector512.Load(src);
                }
                (acc / d).Store(dst + c);
            }
        }
        if (simd >= SimdLevel.Avx2)
        {
            var d = Vector256.Create((float)divisor);
            for (; c <= channels - 8; c += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int p = 0; p < rows; p++)
                {
                    float* src = window + p * rowStep + c;
                    for (int q = 0; q < cols; q++, src += tapStep) acc += Vector256.Load(src);
                }
                (acc / d).Store(dst + c);
            }
        }
        for (; c < channels; c++)
        {
            float acc = 0f;
            for (int p = 0; p < rows; p++)
            {
                float* src = window + p * rowStep + c;
                for (int q = 0; q < cols; q++, src += tapStep) acc += *src;
            }
            dst[c] = acc / divisor;
        }
    }
}
