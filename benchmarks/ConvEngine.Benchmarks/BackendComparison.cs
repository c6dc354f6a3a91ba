using System.Diagnostics;
using System.Globalization;
using ConvEngine.Benchmarks.Training;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks;

/// <summary>
/// `--compare-backends cpu,cuda[,…] [--small] [--repeats N]`: the layer benchmark's convs (the VGG16 3×3 layers of
/// ConvForwardBenchmarks; with --small, four small ones that ILGPU's CPU accelerator finishes in seconds) and the
/// training steps of both benchmark nets (with --small, <see cref="TrainingNet.Small"/>), on each backend in turn, side by side: median ms,
/// GFLOP/s, and each backend's largest difference from the first backend's output. Each call is followed by a
/// Synchronize, so an asynchronous GPU backend is timed to completion; inputs are uploaded once.
/// </summary>
public static class BackendComparison
{
    private static readonly ConvShape[] SmallShapes = [new(1, 16, 3, 16), new(1, 16, 16, 32), new(2, 8, 32, 32), new(1, 4, 64, 64)];

    public static int Run(string[] args, TextWriter log)
    {
        string[] names = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0].Split(',') : ["cpu"];
        bool small = args.Contains("--small");
        int at = Array.IndexOf(args, "--repeats");
        int repeats = at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : small ? 3 : 10;
        var backends = new List<IBackend>();
        try
        {
            foreach (string name in names)
                backends.Add(name == "cpu" ? new CpuBackend(BenchmarkThreads.Count) : Backends.Create(name));
            foreach (var b in backends) log.WriteLine($"# {b.Name}: {b.Device.Name}, {b.Device.Parallelism}");
            log.WriteLine($"# {repeats} repeats, median; load {File.ReadAllText("/proc/loadavg").Trim()}");
            log.WriteLine();
            log.WriteLine("| conv (N, HxW, Cin->Cout, 3x3 same + relu) | " + string.Join(" | ", backends.Select(b => $"{b.Name} ms | {b.Name} GFLOP/s")) + " | max rel. diff vs " + backends[0].Name + " |");
            log.WriteLine("|---|" + string.Concat(backends.Select(_ => "---:|---:|")) + "---:|");
            foreach (var shape in small ? SmallShapes : Vgg16ConvShapes.Benchmarked)
                log.WriteLine(ConvRow(shape, backends, repeats));
            log.WriteLine();
            log.WriteLine("| training step (forward, loss, backward, Adam) | " + string.Join(" | ", backends.Select(b => $"{b.Name} ms | {b.Name} images/s")) + " | loss diff vs " + backends[0].Name + " |");
            log.WriteLine("|---|" + string.Concat(backends.Select(_ => "---:|---:|")) + "---:|");
            var nets = small ? [TrainingNet.Small] : TrainingNet.All;
            foreach (var net in nets) log.WriteLine(StepRow(net, backends, repeats));
            return 0;
        }
        finally
        {
            foreach (var b in backends) b.Dispose();
        }
    }

    private static string ConvRow(ConvShape shape, List<IBackend> backends, int repeats)
    {
        var g = shape.Geometry;
        var random = new Random(7);
        float[] x = Values(g.InputShape.Length, random), f = Values(g.FilterShape.Length, random), bias = Values(g.OC, random);
        var cells = new List<string>();
        float[]? first = null;
        double worst = 0;
        foreach (var backend in backends)
        {
            using var xb = Upload(backend, x);
            using var fb = Upload(backend, f);
            using var bb = Upload(backend, bias);
            using var yb = backend.Allocate(g.OutputShape.Length);
            void Call()
            {
                backend.Conv2D(xb, fb, bb, yb, g, KernelActivation.Relu);
                backend.Synchronize();
            }
            double ms = Median(Call, repeats);
            var y = new float[g.OutputShape.Length];
            backend.Download(yb, y);
            if (first is null) first = y;
            else worst = Math.Max(worst, RelativeDifference(first, y));
            cells.Add(string.Create(CultureInfo.InvariantCulture, $"{ms:F2} | {g.Flops / ms / 1e6:F1}"));
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"| N{shape.Batch} {shape.Size}x{shape.Size} {shape.InChannels}->{shape.OutChannels} | {string.Join(" | ", cells)} | {worst:E1} |");
    }

    private static string StepRow(TrainingNet net, List<IBackend> backends, int repeats)
    {
        var cells = new List<string>();
        double? firstLoss = null, worst = 0;
        foreach (var backend in backends)
        {
            using var step = new OurTrainingStep(new TrainingData(net), BenchmarkThreads.Count, backend);
            double loss = step.InferenceLoss();
            firstLoss ??= loss;
            worst = Math.Max(worst.Value, Math.Abs(loss - firstLoss.Value) / Math.Max(1e-12, Math.Abs(firstLoss.Value)));
            step.Step();
            double ms = Median(() => step.Step(), repeats);
            cells.Add(string.Create(CultureInfo.InvariantCulture, $"{ms:F1} | {net.BatchSize / (ms / 1e3):F1}"));
        }
        return string.Create(CultureInfo.InvariantCulture, $"| {net.Title}, batch {net.BatchSize} | {string.Join(" | ", cells)} | {worst:E1} |");
    }

    private static double Median(Action call, int repeats)
    {
        call();
        var ms = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(ms);
        return ms[repeats / 2];
    }

    private static float[] Values(long length, Random random)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    private static DeviceBuffer Upload(IBackend backend, float[] values)
    {
        var buffer = backend.Allocate(values.Length);
        backend.Upload(values, buffer);
        return buffer;
    }

    private static double RelativeDifference(float[] expected, float[] actual)
    {
        double scale = 0, worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        }
        return scale == 0 ? worst : worst / scale;
    }
}
