using System.Diagnostics;
using System.Globalization;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks.Training;

/// <summary>
/// `--time-training-kernels [a|b] [repeats]`: every registered cpu variant of the conv backward ops (and the forward
/// conv, for scale) on each conv layer of a training net, timed with a Stopwatch (fastest and median of the repeats
/// after one warm-up call, the variants taking turns; on a shared machine the fastest is the steadier figure), and each variant's output compared with the first variant's. A harness for choosing between
/// variants while working on them; the BenchmarkDotNet benchmarks are the record.
/// </summary>
public static class TrainingKernelTimer
{
    private static readonly string[] Ops = ["conv2d", "conv2d-backward-filter", "conv2d-backward-data"];

    public static int Run(string[] args, TextWriter log)
    {
        var net = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? TrainingNet.Find(args[0]) : TrainingNet.Custom128;
        int repeats = args.Length > 1 && int.TryParse(args[1], out int r) && r > 0 ? r : 5;
        using var backend = new CpuBackend(BenchmarkThreads.Count);
        log.WriteLine($"{net.Title}, batch {net.BatchSize}; {backend.Device.Name}, {backend.Device.Parallelism}; {repeats} repeats");
        log.WriteLine("| Layer | Op | Variant | min ms | median ms | GFLOP/s (min) | max rel. diff vs first |");
        log.WriteLine("|---|---|---|---:|---:|---:|---:|");
        int h = net.Height, w = net.Width, c = net.Channels;
        foreach (var spec in net.Layers)
        {
            if (spec is PoolSpec) { h /= 2; w /= 2; continue; }
            if (spec is not ConvSpec conv) continue;
            var g = Conv2DGeometry.Create("Conv2D", new TensorShape(net.BatchSize, h, w, c), new TensorShape(conv.Kernel, conv.Kernel, c, conv.Filters),
                new Conv2DOptions { Padding = Padding.Same });
            bool firstLayer = c == net.Channels;
            var random = new Random(1);
            using var x = Filled(backend, g.InputShape.Length, random);
            using var f = Filled(backend, g.FilterShape.Length, random);
            using var dy = Filled(backend, g.OutputShape.Length, random);
            using var y = backend.Allocate(g.OutputShape.Length);
            using var dw = backend.Allocate(g.FilterShape.Length);
            using var dx = backend.Allocate(g.InputShape.Length);
            string layer = $"{h}x{w}x{c} -> {conv.Filters}, {conv.Kernel}x{conv.Kernel}";
            foreach (string op in Ops)
            {
                if (op == "conv2d-backward-data" && firstLayer) continue;   // training never asks for the image's gradient
                if (!backend.Variants.Available.TryGetValue(op, out var variants)) continue;
                var (output, length) = op switch { "conv2d" => (y, g.OutputShape.Length), "conv2d-backward-filter" => (dw, g.FilterShape.Length), _ => (dx, g.InputShape.Length) };
                // Variants take turns, repeat after repeat, so a burst of load on the shared machine hits them all alike.
                var names = variants.Where(v => v != CpuBackend.ReferenceVariant).ToArray();
                var ms = names.Select(_ => new double[repeats]).ToArray();
                var results = new float[names.Length][];
                for (int i = -1; i < repeats; i++)
                    for (int v = 0; v < names.Length; v++)
                    {
                        backend.Variants.Select(op, names[v]);
                        long start = Stopwatch.GetTimestamp();
                        switch (op)
                        {
                            case "conv2d": backend.Conv2D(x, f, null, y, g, KernelActivation.Relu); break;
                            case "conv2d-backward-filter": backend.Conv2DBackwardFilter(x, dy, dw, g); break;
                            default: backend.Conv2DBackwardData(dy, f, dx, g); break;
                        }
                        if (i < 0)
                        {
                            results[v] = new float[length];
                            backend.Download(output, results[v]);
                        }
                        else ms[v][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    }
                for (int v = 0; v < names.Length; v++)
                {
                    double median = ms[v].Order().ElementAt(repeats / 2), fastest = ms[v].Min();
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {layer} | {op} | {names[v]} | {fastest:F2} | {median:F2} | {g.Flops / fastest / 1e6:F1} | {MaxRelativeDifference(results[0], results[v]):E1} |"));
                }
                backend.Variants.Select(op, variants[0]);
            }
            c = conv.Filters;
        }
        return 0;
    }

    private static DeviceBuffer Filled(IBackend backend, long length, Random random)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        var buffer = backend.Allocate(length);
        backend.Upload(values, buffer);
        return buffer;
    }

    private static double MaxRelativeDifference(float[] expected, float[] actual)
    {
        double scale = expected.Max(v => Math.Abs((double)v)), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        return scale == 0 ? worst : worst / scale;
    }
}
