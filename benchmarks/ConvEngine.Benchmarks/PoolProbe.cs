using System.Globalization;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks;

/// <summary>`--probe-pool N,H,W,C,pool,stride …`: a quick Stopwatch pass of the cpu max pool (development only).</summary>
public static class PoolProbe
{
    public static int Run(string[] args, TextWriter log)
    {
        int threads = BenchmarkThreads.Count;
        using var cpu = new CpuBackend(threads);
        foreach (string arg in args)
        {
            int[] v = arg.Split(',').Select(int.Parse).ToArray();
            var g = Pool2DGeometry.Create("MaxPool2D", new TensorShape(v[0], v[1], v[2], v[3]), Pool2DOptions.Square(v[4], v[5]));
            using var x = cpu.Allocate(g.InputShape.Length);
            using var y = cpu.Allocate(g.OutputShape.Length);
            var data = new float[g.InputShape.Length];
            for (int i = 0; i < data.Length; i++) data[i] = (i * 7919 % 1000) / 1000f;
            cpu.Upload(data, x);
            var times = new List<double>();
            for (int r = 0; r < 15; r++) times.Add(ProbeClock.Milliseconds(() => cpu.Pool2D(x, y, g, PoolKind.Max), threads));
            double ms = times.Order().ElementAt(7);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{arg}: {ms:F3} ms, {g.OutputShape.Length * g.PoolH * g.PoolW / ms / 1e6:F2} G taps/s"));
        }
        return 0;
    }
}
