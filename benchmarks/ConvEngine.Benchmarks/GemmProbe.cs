using System.Globalization;
using ConvEngine.Kernels.Cpu;

namespace ConvEngine.Benchmarks;

/// <summary>
/// `--probe-gemm M,N,K … [--blocking KC,NC,MC] [--threads T]`: a quick Stopwatch pass of CpuGemm.Multiply on row-major
/// operands (development only): the best of a few repetitions, as GFLOP/s and % of the measured FMA peak.
/// </summary>
public static class GemmProbe
{
    public static unsafe int Run(string[] args, TextWriter log)
    {
        var sizes = new List<(int M, int N, int K)>();
        GemmBlocking? blocking = null;
        int threads = BenchmarkThreads.Count;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--cpu-time") ProbeClock.CpuTime = true;
            else if (args[i] == "--blocking") { int[] b = args[++i].Split(',').Select(int.Parse).ToArray(); blocking = new GemmBlocking(b[0], b[1], b[2]); }
            else if (args[i] == "--threads") threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else { int[] v = args[i].Split(',').Select(int.Parse).ToArray(); sizes.Add((v[0], v[1], v[2])); }
        }
        var simd = SimdSupport.Resolve();
        var block = blocking ?? GemmBlocking.Default(simd);
        double peak = CpuFmaPeak.Measure(threads, simd);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {ProbeClock.Name}, {simd}, {threads} threads, blocking {block}, peak {peak:F1} GFLOP/s, load {File.ReadAllText("/proc/loadavg").Trim()}"));
        foreach (var (m, n, k) in sizes)
        {
            var rng = new Random(1);
            float[] a = new float[(long)m * k], b = new float[(long)k * n], c = new float[(long)m * n];
            for (int i = 0; i < a.Length; i++) a[i] = rng.NextSingle();
            for (int i = 0; i < b.Length; i++) b[i] = rng.NextSingle();
            double flops = 2.0 * m * n * k;
            int reps = (int)Math.Clamp(2e9 / flops, 1, 1000);
            double best = double.MaxValue;
            fixed (float* pa = a, pb = b, pc = c)
                for (int round = 0; round < 5; round++)
                {
                    float* xa = pa, xb = pb, xc = pc;
                    double ms = ProbeClock.Milliseconds(() =>
                    {
                        for (int r = 0; r < reps; r++)
                            CpuGemm.Multiply(simd, block, threads, false, false, m, n, k, xa, k, xb, n, xc, n, false, GemmEpilogue.None);
                    }, threads);
                    best = Math.Min(best, ms / 1e3 / reps);
                }
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m}x{n}x{k}: {best * 1e3:F3} ms, {flops / best / 1e9:F1} GFLOP/s, {100 * flops / best / 1e9 / peak:F0} % of peak"));
        }
        return 0;
    }
}
