using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The machine's measured float32 FMA peak: every thread runs twelve independent FMA chains at the SIMD level
/// (more chains than FMA latency × FMA ports on any x86 core so far, so the ports never wait), started together.
/// The figure every "% of peak" in the benchmarks and `convengine bench` divides by. Takes about a tenth of a second.
/// </summary>
internal static class CpuFmaPeak
{
    private const int Chains = 12;

    /// <summary>GFLOP/s (a multiply-add counts 2) of <paramref name="threads"/> threads at <paramref name="simd"/>; the best of three runs.</summary>
    public static double Measure(int threads, SimdLevel simd, TimeSpan? duration = null)
    {
        if (threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), $"CpuFmaPeak: needs at least one thread, got {threads}.");
        long iterations = Calibrate(simd, duration ?? TimeSpan.FromMilliseconds(30));
        double best = 0;
        for (int run = 0; run < 3; run++)
        {
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                Chain(simd, iterations);
            }) { IsBackground = true }).ToList();
            workers.ForEach(w => w.Start());
            start.SignalAndWait();
            long t0 = Stopwatch.GetTimestamp();
            workers.ForEach(w => w.Join());
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            best = Math.Max(best, threads * FlopsPerIteration(simd) * iterations / seconds / 1e9);
        }
        return best;
    }

    private static double FlopsPerIteration(SimdLevel simd) => 2.0 * Chains * SimdSupport.FloatsPerVector(simd);

    /// <summary>Iterations that take about <paramref name="target"/> on one thread (after a warm-up, so the clock has ramped).</summary>
    private static long Calibrate(SimdLevel simd, TimeSpan target)
    {
        long n = 1 << 16;
        Chain(simd, n);
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            Chain(simd, n);
            var elapsed = Stopwatch.GetElapsedTime(t0);
            if (elapsed >= target / 4 || n > 1L << 40) return (long)(n * (target / elapsed));
            n *= 4;
        }
    }

    /// <summary>Returns a value that depends on every chain, so the JIT cannot drop the loop.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain(SimdLevel simd, long iterations)
    {
        switch (simd)
        {
            case SimdLevel.Avx512:
            {
                var m = Vector512.Create(0.999999f);
                var a = Vector512.Create(1e-7f);
                Vector512<float> c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, c10 = m, c11 = m;
                for (long i = 0; i < iterations; i++)
                {
                    c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a);
                    c2 = Avx512F.FusedMultiplyAdd(c2, m, a); c3 = Avx512F.FusedMultiplyAdd(c3, m, a);
                    c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
                    c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a);
                    c8 = Avx512F.FusedMultiplyAdd(c8, m, a); c9 = Avx512F.FusedMultiplyAdd(c9, m, a);
                    c10 = Avx512F.FusedMultiplyAdd(c10, m, a); c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
                }
                return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
            }
            case SimdLevel.Avx2:
            {
                var m = Vector256.Create(0.999999f);
                var a = Vector256.Create(1e-7f);
                Vector256<float> c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, c10 = m, c11 = m;
                for (long i = 0; i < iterations; i++)
                {
                    c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a);
                    c2 = Fma.MultiplyAdd(c2, m, a); c3 = Fma.MultiplyAdd(c3, m, a);
                    c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
                    c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a);
                    c8 = Fma.MultiplyAdd(c8, m, a); c9 = Fma.MultiplyAdd(c9, m, a);
                    c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
                }
                return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
            }
            default:
            {
                float m = 0.999999f, a = 1e-7f;
                float c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, c10 = m, c11 = m;
                for (long i = 0; i < iterations; i++)
                {
                    c0 = MathF.FusedMultiplyAdd(c0, m, a); c1 = MathF.FusedMultiplyAdd(c1, m, a);
                    c2 = MathF.FusedMultiplyAdd(c2, m, a); c3 = MathF.FusedMultiplyAdd(c3, m, a);
                    c4 = MathF.FusedMultiplyAdd(c4, m, a); c5 = MathF.FusedMultiplyAdd(c5, m, a);
                    c6 = MathF.FusedMultiplyAdd(c6, m, a); c7 = MathF.FusedMultiplyAdd(c7, m, a);
                    c8 = MathF.FusedMultiplyAdd(c8, m, a); c9 = MathF.FusedMultiplyAdd(c9, m, a);
                    c10 = MathF.FusedMultiplyAdd(c10, m, a); c11 = MathF.FusedMultiplyAdd(c11, m, a);
                }
                return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
            }
        }
    }
}
