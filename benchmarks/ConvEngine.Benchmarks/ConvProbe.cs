using System.Diagnostics;
using System.Globalization;
using ConvEngine.Benchmarks.Onnx;
using ConvEngine.Kernels.Cpu;

namespace ConvEngine.Benchmarks;

/// <summary>
/// `--probe-conv [--rounds N] [--packed] [--ours-only] [N,S,Cin,Cout …]`: a quick Stopwatch pass over 3×3 conv shapes (default: the
/// benchmarked VGG16 layers), ours and ONNX Runtime alternating in this process, medians side by side; `--packed` runs
/// ours on a filter packed once ahead, as inference does; `--ours-only` leaves ONNX Runtime out (its threads, alternating in
/// this process, slow ours down by up to 2× on a 2-core machine). For development between BenchmarkDotNet runs (use 30+ rounds:
/// the first ones run before the JIT's optimized code); ConvForwardBenchmarks is the measurement.
/// </summary>
public static class ConvProbe
{
    public static int Run(string[] args, TextWriter log)
    {
        int rounds = 7;
        GemmBlocking? blocking = null;
        bool packed = false, oursOnly = false;
        var shapes = new List<ConvShape>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--cpu-time") ProbeClock.CpuTime = true;
            else if (args[i] == "--packed") packed = true;
            else if (args[i] == "--ours-only") oursOnly = true;
            else if (args[i] == "--rounds") rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--blocking")
            {
                int[] b = args[++i].Split(',').Select(int.Parse).ToArray();
                blocking = new GemmBlocking(b[0], b[1], b[2]);
            }
            else if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                int[] v = args[i].Split(',').Select(int.Parse).ToArray();
                shapes.Add(new ConvShape(v[0], v[1], v[2], v[3]));
            }
        }
        if (shapes.Count == 0) shapes.AddRange(Vgg16ConvShapes.Benchmarked);
        int threads = BenchmarkThreads.Count;
        log.WriteLine($"# {ProbeClock.Name}, {threads} threads; load {File.ReadAllText("/proc/loadavg").Trim()}; caches {CpuCaches.Current}; blocking {blocking ?? GemmBlocking.Default(SimdSupport.Resolve())}");
        log.WriteLine("| shape | ours ms | ORT ms | ours GFLOP/s | ORT GFLOP/s | ours/ORT (throughput) |");
        log.WriteLine("|---|---:|---:|---:|---:|---:|");
        double oursTotal = 0, ortTotal = 0, flopsTotal = 0;
        foreach (var shape in shapes)
        {
            var problem = new ConvProblem(shape);
            using var ours = new CpuConvRunner(problem, threads);
            using var ort = oursOnly ? null : new OrtConvRunner(problem, threads);
            ours.Run();
            ort?.Run();
            var a = new List<double>();
            var b = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                ProbeClock.Settle();
                a.Add(ProbeClock.Milliseconds(blocking is { } bl ? () => ours.Run(bl) : packed ? ours.RunPacked : ours.Run, threads));
                if (oursOnly) continue;
                ProbeClock.Settle();
                b.Add(ProbeClock.Milliseconds(ort!.Run, threads));
            }
            double oursMs = a.Order().ElementAt(rounds / 2), ortMs = oursOnly ? double.NaN : b.Order().ElementAt(rounds / 2);
            int count = Math.Max(1, Vgg16ConvShapes.LayerCount(shape, shape.Batch == 1 ? 224 : 128));
            oursTotal += count * oursMs;
            ortTotal += count * ortMs;
            flopsTotal += count * shape.Flops;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {shape} | {oursMs:F2} | {ortMs:F2} | {shape.Flops / oursMs / 1e6:F1} | {shape.Flops / ortMs / 1e6:F1} | {ortMs / oursMs:F2} |"));
            log.Flush();
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| all (VGG16 layer counts) | {oursTotal:F1} | {ortTotal:F1} | {flopsTotal / oursTotal / 1e6:F1} | {flopsTotal / ortTotal / 1e6:F1} | {ortTotal / oursTotal:F2} |"));
        return 0;
    }
}
