using System.Diagnostics;
using System.Globalization;
using ConvEngine.Kernels.Cpu;

namespace ConvEngine.Benchmarks.Models;

/// <summary>
/// `--check-models [ids…]`: both engines once on every case, outputs compared (the benchmark's cross-check).
/// `--probe-models [ids…] [--rounds N]`: a quick Stopwatch pass for development: after the check, ours and ONNX
/// Runtime alternate N rounds in this process and the medians are printed side by side. Not a substitute for the
/// BenchmarkDotNet run (ModelBenchmarks); run it on a quiet machine.
/// </summary>
public static class ModelProbe
{
    /// <summary>Pass threshold of the cross-check: the largest difference relative to the largest output.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>`--profile-model id [runs]`: every plan step of an OnnxImporter case (every node of an engine-layer case) with its median time, slowest first.</summary>
    public static int Profile(string[] args, TextWriter output)
    {
        var c = ModelCase.Select([args[0]]).First();
        int runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        using var pair = ModelPair.Create(c, "cpu", BenchmarkThreads.Count, ort: false);
        var steps = pair.Ours!.Onnx is { } onnx ? onnx.ProfileChannelsLast(pair.Ours.Input, runs).ToList()
            : pair.Ours.Engine!.ProfilePredict(pair.Ours.Input, runs).Select(t => new ConvEngine.Import.Onnx.OnnxStepProfile(
                t.RunsIn is null ? $"{t.Layer} ({t.ClassName})" : $"{t.Layer} ({t.ClassName}) [in {t.RunsIn}]", t.Milliseconds, 0)).ToList();
        double total = steps.Sum(s => s.Milliseconds);
        var whole = new List<double>();
        for (int r = 0; r < runs; r++) whole.Add(ProbeClock.Milliseconds(pair.Ours.Run, BenchmarkThreads.Count));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# {c.Id}: {steps.Count} steps, {total:F2} ms in steps (medians), a whole run {Median(whole):F2} ms (median); load {File.ReadAllText("/proc/loadavg").Trim()}"));
        foreach (var s in steps.OrderByDescending(s => s.Milliseconds).Take(int.Parse(Environment.GetEnvironmentVariable("PROFILE_TOP") ?? "40", CultureInfo.InvariantCulture)))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Milliseconds,8:F3} ms {100 * s.Milliseconds / total,5:F1} % {(s.Flops > 0 ? $"{s.Flops / s.Milliseconds / 1e6,7:F1} GFLOP/s" : ""),-15} {s.Label}"));
        return 0;
    }

    public static int Run(string[] args, TextWriter output, bool time)
    {
        int rounds = 7;
        var ids = new List<string>();
        string backend = "cpu";
        bool backToBack = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--cpu-time") ProbeClock.CpuTime = true;
            else if (args[i] == "--back-to-back") backToBack = true;
            else if (args[i] == "--rounds") rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--backend") backend = args[++i];
            else if (!args[i].StartsWith("--", StringComparison.Ordinal)) ids.Add(args[i]);
        }
        int threads = BenchmarkThreads.Count;
        double peak = time ? CpuFmaPeak.Measure(threads, SimdSupport.Resolve()) : 0;
        if (time) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {ProbeClock.Name}; FMA peak {peak:F1} GFLOP/s ({threads} threads, {SimdSupport.Resolve()}); load {File.ReadAllText("/proc/loadavg").Trim()}"));
        output.WriteLine(time
            ? "| model | batch | ours ms | ORT ms | ours GFLOP/s | ORT GFLOP/s | ours % peak | ours/ORT (throughput) | max rel diff |"
            : "| model | batch | max |diff| | max |ORT| | relative | status |");
        output.WriteLine(time ? "|---|---:|---:|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---|");
        int failures = 0;
        foreach (var c in ModelCase.Select(ids))
        {
            using var pair = ModelPair.Create(c, backend, threads);
            var (diff, maxAbs, relative) = pair.Compare();
            bool ok = relative <= Tolerance;
            if (!ok) failures++;
            if (!time)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {c.Model} | {c.Batch} | {diff:G3} | {maxAbs:G3} | {relative:G3} | {(ok ? "pass" : "FAIL")} |"));
                continue;
            }
            var ours = new List<double>();
            var ort = new List<double>();
            // Warm-up: enough runs for the JIT to finish tiering up both engines' managed code.
            for (int w = 0; w < 3; w++) { pair.Ours!.Run(); pair.Ort!.Run(); }
            if (backToBack)
            {
                // Each engine's rounds in a row, as BenchmarkDotNet times them (each in its own process there).
                for (int r = 0; r < rounds; r++) ours.Add(ProbeClock.Milliseconds(pair.Ours!.Run, threads));
                ProbeClock.Settle();
                for (int r = 0; r < rounds; r++) ort.Add(ProbeClock.Milliseconds(pair.Ort!.Run, threads));
            }
            else for (int r = 0; r < rounds; r++)
            {
                ProbeClock.Settle();
                ours.Add(ProbeClock.Milliseconds(pair.Ours!.Run, threads));
                ProbeClock.Settle();
                ort.Add(ProbeClock.Milliseconds(pair.Ort!.Run, threads));
            }
            double oursMs = Median(ours), ortMs = Median(ort), flops = c.Flops;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Model} | {c.Batch} | {oursMs:F2} | {ortMs:F2} | {flops / oursMs / 1e6:F1} | {flops / ortMs / 1e6:F1} | {100 * flops / oursMs / 1e6 / peak:F0} | {ortMs / oursMs:F2} | {relative:G2}{(ok ? "" : " FAIL")} |"));
            output.Flush();
        }
        return failures == 0 ? 0 : 1;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
