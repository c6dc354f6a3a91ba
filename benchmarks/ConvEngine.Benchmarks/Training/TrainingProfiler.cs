using System.Diagnostics;
using System.Globalization;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Benchmarks.Training;

/// <summary>
/// `--profile-training [a|b] [steps]`: runs our training step on a <see cref="TimingBackend"/> and prints, as
/// markdown, where a step's time goes: per layer (forward, backward, Adam) and per kernel call. A Stopwatch
/// harness for finding hot spots, not a benchmark: it adds a synchronize and a timestamp per call. Every figure
/// is the median over the measured steps, which resists the odd step slowed by other processes.
/// </summary>
public static class TrainingProfiler
{
    private const int WarmupSteps = 2;

    private enum Phase { Forward, Loss, Backward, Optimizer }

    /// <summary>The calls of one kernel on one shape in one layer and phase: their time and work in each measured step.</summary>
    private sealed record Row(Phase Phase, string Layer, string Kernel, string Shape, int Steps)
    {
        public double[] Ms { get; } = new double[Steps];
        public double FlopsPerStep { get; set; }
    }

    public static int Run(string[] args, TextWriter log)
    {
        var net = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? TrainingNet.Find(args[0]) : TrainingNet.Custom128;
        int steps = args.Length > 1 && int.TryParse(args[1], out int s) && s > 0 ? s : 5;
        int threads = BenchmarkThreads.Count;

        using var timing = new TimingBackend(new CpuBackend(threads));
        using var ours = new OurTrainingStep(new TrainingData(net), threads, timing);
        for (int i = 0; i < WarmupSteps; i++) ours.Step();
        timing.TakeCalls();
        var layerOf = new LayerMatcher(ours.Model, net.BatchSize);

        var rows = new Dictionary<(Phase, string, string, string), Row>();
        var stepMs = new double[steps];
        for (int step = 0; step < steps; step++)
        {
            long start = Stopwatch.GetTimestamp();
            ours.Step();
            stepMs[step] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var phase = Phase.Forward;
            foreach (var call in timing.TakeCalls())
            {
                phase = PhaseOf(call, phase);
                var key = (phase, layerOf.Name(call), call.Kernel, call.Shape);
                if (!rows.TryGetValue(key, out var row)) rows[key] = row = new Row(key.Item1, key.Item2, key.Item3, key.Item4, steps);
                row.Ms[step] += call.Elapsed.TotalMilliseconds;
                if (step == 0) row.FlopsPerStep += call.Flops;
            }
        }

        Print(log, net, timing.Inner, steps, stepMs, rows.Values.ToList(), layerOf.Order);
        return 0;
    }

    /// <summary>Forward until the loss kernel, backward after it, the optimizer from the first weight update on.
    /// Host copies (the batch in, the loss out) stay in the phase they happen in.</summary>
    private static Phase PhaseOf(KernelCall call, Phase current) => call.Kernel switch
    {
        "Upload" or "Download" or "Allocate" => current,
        "Loss" => Phase.Loss,
        "AdamUpdate" or "SgdUpdate" => Phase.Optimizer,
        _ when current == Phase.Loss => Phase.Backward,
        _ => current,
    };

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static void Print(TextWriter log, TrainingNet net, IBackend backend, int steps, double[] stepMs,
        List<Row> rows, IReadOnlyList<string> layerOrder)
    {
        string F(double v, string format = "F1") => v.ToString(format, CultureInfo.InvariantCulture);
        double step = Median(stepMs);
        double kernels = Median(Enumerable.Range(0, steps).Select(i => rows.Sum(r => r.Ms[i])));
        log.WriteLine($"### Training-step profile: {net.Title}, batch {net.BatchSize}");
        log.WriteLine();
        log.WriteLine($"- backend `{backend.Name}`: {backend.Device.Name}, {backend.Device.Parallelism}, conv2d variant `{backend.Variants["conv2d"]}`");
        log.WriteLine($"- {steps} measured steps after {WarmupSteps} warm-up steps; step time median {F(step)} ms " +
                      $"(min {F(stepMs.Min())}, max {F(stepMs.Max())}); all figures below are medians over the steps");
        log.WriteLine($"- time inside backend calls {F(kernels)} ms/step ({F(100 * kernels / step)} % of the step); " +
                      "the rest is the model's own C# work between calls");
        log.WriteLine();

        log.WriteLine("| Layer | Forward ms | Backward ms | Adam ms | Total ms | % of step |");
        log.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (string layer in layerOrder.Concat(rows.Select(r => r.Layer)).Distinct())
        {
            var own = rows.Where(r => r.Layer == layer).ToList();
            if (own.Count == 0) continue;
            double Ms(params Phase[] phases) =>
                Median(Enumerable.Range(0, steps).Select(i => own.Where(r => phases.Contains(r.Phase)).Sum(r => r.Ms[i])));
            double total = Ms(Enum.GetValues<Phase>());
            log.WriteLine($"| {layer} | {F(Ms(Phase.Forward, Phase.Loss))} | {F(Ms(Phase.Backward))} | {F(Ms(Phase.Optimizer), "F2")} | {F(total)} | {F(100 * total / step)} |");
        }
        log.WriteLine();

        log.WriteLine("| Phase | Layer | Kernel | Shape | ms/step | % of step | GFLOP/s |");
        log.WriteLine("|---|---|---|---|---:|---:|---:|");
        foreach (var row in rows.OrderBy(r => r.Phase).ThenBy(r => Position(r, layerOrder)))
        {
            double ms = Median(row.Ms);
            string gflops = row.FlopsPerStep > 0 ? F(row.FlopsPerStep / ms / 1e6) : "";
            log.WriteLine($"| {row.Phase} | {row.Layer} | {row.Kernel} | {row.Shape} | {F(ms, "F2")} | {F(100 * ms / step)} | {gflops} |");
        }
    }

    // Forward rows in layer order, backward rows in reverse, as they run.
    private static int Position(Row row, IReadOnlyList<string> layerOrder)
    {
        int index = layerOrder.ToList().IndexOf(row.Layer);
        if (index < 0) index = layerOrder.Count;
        return row.Phase == Phase.Backward ? -index : index;
    }

    /// <summary>
    /// Names the layer a call belongs to: the owner of a weight (or weight gradient) it touches; else, for
    /// pooling, dropout and activations, the layer of that kind whose input/output has the call's size.
    /// </summary>
    private sealed class LayerMatcher
    {
        private readonly Dictionary<DeviceBuffer, Layer> _weightOwners = new(ReferenceEqualityComparer.Instance);
        private readonly IReadOnlyList<Layer> _layers;
        private readonly int _batch;

        public LayerMatcher(Sequential model, int batch)
        {
            _layers = model.Layers;
            _batch = batch;
            foreach (var p in model.Parameters)
            {
                if (p.Value is { } value) _weightOwners[value.Buffer] = p.Owner;
                if (p.Gradient is { } gradient) _weightOwners[gradient.Buffer] = p.Owner;
            }
            Order = _layers.Select(l => l.Name).Append("loss").ToList();
        }

        public IReadOnlyList<string> Order { get; }

        public string Name(KernelCall call)
        {
            foreach (var buffer in call.Buffers)
                if (buffer is not null && _weightOwners.TryGetValue(buffer, out var owner)) return owner.Name;
            if (call.Kernel == "Loss") return "loss";
            var candidates = call.Kernel switch
            {
                "Pool2D" or "Pool2DBackward" or "Pool2DActivationBackward" => _layers.Where(l => l is Pooling2DLayer && InputSample(l) == call.PoolInput),
                "Dropout" or "Multiply" => _layers.Where(l => l is Dropout && OutputLength(l) == call.Elements),
                "Activate" or "ActivationBackward" or "ActivationBiasBackward" or "Softmax" or "SoftmaxBackward" =>
                    _layers.Where(l => l is ActivatedLayer && OutputLength(l) == call.Elements),
                _ => Enumerable.Empty<Layer>(),
            };
            var names = candidates.Select(l => l.Name).ToList();
            return names.Count > 0 ? string.Join(" or ", names) : "(model)";
        }

        private static (int, int, int)? InputSample(Layer layer) =>
            layer.Node?.Inputs[0].Shape is [int h, int w, int c] ? (h, w, c) : null;

        private long OutputLength(Layer layer) => _batch * layer.OutputShape.Aggregate(1L, (a, d) => a * d);
    }
}
