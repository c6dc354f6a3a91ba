using System.Runtime.CompilerServices;
using System.Buffers;
using System.Runtime.Intrinsics;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Max-pool backward through the activation before the pool, with that layer's bias gradient, in one pass:
/// for each window the first maximum (strictly greater wins, scan order, as <see cref="CpuReferenceBackward"/>)
/// gets gradOut · act'(max) and every other cell of the window 0; cells no window reads get 0. Each input cell is
/// written once (no zero-fill pass first, no read-modify-write), vectorised over channels.
/// </summary>
/// <remarks>
/// Only for windows that never overlap (dilated pool extent ≤ stride on both axes, as in every Keras MaxPool2D with
/// default strides), so one input cell hears from one window at most. The batch's output rows are cut into fixed
/// parts, each owning whole input rows; bias partials are added in part order, so results are the same every run.
/// </remarks>
internal static unsafe class CpuPoolActivationBackward
{
    private const long MinPerPart = 1 << 15;
    private const int MaxStackTaps = 256;

    /// <summary>True when the fused kernel applies: max pooling with non-overlapping windows.</summary>
    public static bool Applies(in Pool2DGeometry g, PoolKind kind) =>
        kind == PoolKind.Max
        && WindowMath.DilatedExtent(g.PoolH, g.DilationH) <= g.StrideH
        && WindowMath.DilatedExtent(g.PoolW, g.DilationW) <= g.StrideW
        && g.PoolH * g.PoolW <= MaxStackTaps;

    public static void MaxRun(int threads, SimdLevel simd, float* input, float* gradOutput, float* gradInput, float* gradBias,
        in Pool2DGeometry g, KernelActivation activation)
    {
        if (!Applies(g, PoolKind.Max))
            throw new ArgumentException($"Pool2DActivationBackward: the fused kernel needs non-overlapping max-pool windows; got pool {g.PoolH}x{g.PoolW}, stride {g.StrideH}x{g.StrideW}.");
        long rows = (long)g.N * g.OH;
        int parts = (int)Math.Min(rows, CpuParallel.Parts(threads, g.InputShape.Length, MinPerPart));
        float[]?[] partials = new float[parts][];
        if (gradBias != null)
            for (int part = 1; part < parts; part++) partials[part] = ArrayPool<float>.Shared.Rent(g.C);
        try
        {
            var geometry = g;
            var slope = new ActivationSlope(activation);
            nint x = (nint)input, dz = (nint)gradOutput, dx = (nint)gradInput, db = (nint)gradBias;
            CpuParallel.For(parts, part =>
            {
                fixed (float* own = partials[part])
                {
                    float* sums = db == 0 ? null : part == 0 ? (float*)db : own;
                    if (sums != null) new Span<float>(sums, geometry.C).Clear();
                    Rows(simd, slope, (float*)x, (float*)dz, (float*)dx, sums, geometry,
                        CpuParallel.Start(rows, parts, part), CpuParallel.Start(rows, parts, part + 1));
                }
            });
            if (gradBias != null)
                for (int part = 1; part < parts; part++)
                    for (int c = 0; c < g.C; c++) gradBias[c] += partials[part]![c];
        }
        finally
        {
            for (int part = 1; part < parts; part++)
                if (partials[part] is { } p) ArrayPool<float>.Shared.Return(p);
        }
    }

    /// <summary>Output rows [start, end) of the batch (row = image·OH + i), each with the input rows it owns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(SimdLevel simd, in ActivationSlope slope, float* input, float* gradOutput, float* gradInput, float* sums,
        in Pool2DGeometry g, long start, long end)
    {
        int rowFloats = g.W * g.C;
        bool rowsCovered = g.DilationW == 1 && g.StrideW == g.PoolW && g.OW * g.StrideW - g.PadLeft >= g.W;
        int* taps = stackalloc int[g.PoolH * g.PoolW];
        for (long row = start; row < end; row++)
        {
            int b = (int)(row / g.OH), i = (int)(row % g.OH);
            int top = i * g.StrideH - g.PadTop;
            // Output row i owns input rows [its window's top, the next window's top), the first and last rows reaching the edges.
            int owned0 = i == 0 ? 0 : Math.Max(0, top), owned1 = i == g.OH - 1 ? g.H : Math.Min(g.H, top + g.StrideH);
            float* image = gradInput + (nint)b * g.H * rowFloats;
            for (int ih = owned0; ih < owned1; ih++)
            {
                int p = ih - top;
                bool windowRow = p >= 0 && p % g.DilationH == 0 && p / g.DilationH < g.PoolH;
                if (!windowRow || !rowsCovered) new Span<float>(image + (nint)ih * rowFloats, rowFloats).Clear();
            }

            float* x = input + (nint)b * g.H * rowFloats, dx = image;
            float* dz = gradOutput + (nint)row * g.OW * g.C;
            for (int j = 0; j < g.OW; j++, dz += g.C)
            {
                int left = j * g.StrideW - g.PadLeft, count = 0;
                for (int p = 0; p < g.PoolH; p++)
                {
                    int ih = top + p * g.DilationH;
                    if ((uint)ih >= (uint)g.H) continue;
                    for (int q = 0; q < g.PoolW; q++)
                    {
                        int iw = left + q * g.DilationW;
                        if ((uint)iw < (uint)g.W) taps[count++] = ih * rowFloats + iw * g.C;
                    }
                }
                if (count > 0) Window(simd, slope, x, dz, dx, sums, taps, count, g.C);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Window(SimdLevel simd, in ActivationSlope slope, float* x, float* dz, float* dx, float* sums, int* taps, int count, int channels)
    {
        int c = 0;
        if (simd >= SimdLevel.Avx2)
            for (; c <= channels - 8; c += 8)
            {
                var best = Vector256.Load(x + taps[0] + c);
                var at = Vector256<float>.Zero;
                for (int t = 1; t < count; t++)
                {
                    var v = Vector256.Load(x + taps[t] + c);
                    var greater = Vector256.GreaterThan(v, best);
                    best = Vector256.ConditionalSelect(greater, v, best);
                    at = Vector256.ConditionalSelect(greater, Vector256.Create((float)t), at);
                }
                var d = Vector256.Load(dz + c) * slope.At(best);
                if (sums != null) (Vector256.Load(sums + c) + d).Store(sums + c);
                for (int t = 0; t < count; t++)
                    Vector256.ConditionalSelect(Vector256.Equals(at, Vector256.Create((float)t)), d, Vector256<float>.Zero).Store(dx + taps[t] + c);
            }
        for (; c < channels; c++)
        {
            float best = x[taps[0] + c];
            int at = 0;
            for (int t = 1; t < count; t++)
            {
                float v = x[taps[t] + c];
                if (v > best) (best, at) = (v, t);
            }
            float d = dz[c] * slope.At(best);
            if (sums != null) sums[c] += d;
            for (int t = 0; t < count; t++) dx[taps[t] + c] = t == at ? d : 0f;
        }
    }
}
