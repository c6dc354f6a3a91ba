using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using System.Globalization;
using ConvEngine.Kernels.Cpu;

namespace ConvEngine.Benchmarks.Models;

/// <summary>
/// Whole models (issue 12 item 1, the cases of <see cref="ModelCase.All"/>): ours on a backend against ONNX Runtime's
/// CPU provider on the same graph, weights and input, both with <see cref="BenchmarkThreads.Count"/> threads. Each
/// setup first runs both engines once and refuses to time a case whose outputs differ by more than
/// <see cref="ModelProbe.Tolerance"/> relative. ORT is the baseline, so Ratio reads ours/ORT time (below 1: we are faster).
/// Backends come from CONVENGINE_BENCH_BACKENDS (comma-separated, default cpu); the ORT row repeats per backend.
/// </summary>
[Config(typeof(ModelBenchmarkConfig))]
[BenchmarkCategory("models")]
public class ModelBenchmarks
{
    public const string BackendsVariable = "CONVENGINE_BENCH_BACKENDS";
    private ModelPair? _pair;

    public static IEnumerable<ModelCase> Cases => ModelCase.All;

    public static IEnumerable<string> BackendNames =>
        (Environment.GetEnvironmentVariable(BackendsVariable) is { Length: > 0 } text ? text : "cpu")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    [ParamsSource(nameof(Cases))]
    public ModelCase Case { get; set; } = null!;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "cpu";

    [GlobalSetup(Target = nameof(Ours))]
    public void SetUpOurs()
    {
        SetUp();
        WarmUp(_pair!.Ours!.Run, "ConvEngine");
    }

    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetUpOrt()
    {
        SetUp();
        WarmUp(_pair!.Ort!.Run, "ORT");
    }

    private void SetUp()
    {
        _pair = ModelPair.Create(Case, Backend, BenchmarkThreads.Count);
        var (diff, maxAbs, relative) = _pair.Compare();
        if (!(relative <= ModelProbe.Tolerance))
            throw new InvalidOperationException($"{Case.Id} on {Backend}: outputs differ from ONNX Runtime's by {diff:G3} (max |ORT| {maxAbs:G3}, relative {relative:G3}); not timed.");
        Console.WriteLine($"// {Case.Id} on {Backend}: outputs agree with ONNX Runtime to {relative:G2} relative; {BenchmarkThreads.Count} threads each");
    }

    /// <summary>
    /// Runs an engine until the JIT has promoted our managed kernels to tier 1 (30 calls per method, then a background
    /// recompile), at most <see cref="WarmUpRuns"/> runs or <see cref="WarmUpSeconds"/> s: the quick job's two warm-up
    /// iterations are a single run each for the big models, which would time tier-0 code that no served model runs.
    /// ORT (native) gets the same runs in its own process, for symmetry.
    /// </summary>
    private static void WarmUp(Action run, string engine)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int runs = 0;
        while (runs < WarmUpRuns && clock.Elapsed.TotalSeconds < WarmUpSeconds) { run(); runs++; }
        Thread.Sleep(300);
        Console.WriteLine($"// warm-up: {engine} {runs} runs in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private const int WarmUpRuns = 40;
    private const double WarmUpSeconds = 25;

    [Benchmark(Baseline = true, Description = "ORT")]
    public void OnnxRuntime() => _pair!.Ort!.Run();

    [Benchmark(Description = "ConvEngine")]
    public void Ours()
    {
        _pair!.Ours!.Run();
        _pair.Backend.Synchronize();
    }

    [GlobalCleanup]
    public void CleanUp() => _pair?.Dispose();
}

/// <summary>GFLOP/s, images/s and % of the measured FMA peak columns, and the side-by-side table.</summary>
public sealed class ModelBenchmarkConfig : ManualConfig
{
    public ModelBenchmarkConfig()
    {
        AddColumn(new GflopsColumn(), new ImagesPerSecondColumn(), new PeakShareColumn());
        AddExporter(new ModelSideBySideExporter());
    }
}

/// <summary>The machine's float32 FMA peak at the benchmark's threads, measured once in the host process (after the runs, at summary time).</summary>
internal static class MeasuredPeak
{
    private static readonly Lazy<double> s_gflops = new(() => CpuFmaPeak.Measure(BenchmarkThreads.Count, SimdSupport.Resolve()));
    public static double Gflops => s_gflops.Value;
}

/// <summary>Images per second: the case's batch divided by the mean time.</summary>
public sealed class ImagesPerSecondColumn : IColumn
{
    public string Id => nameof(ImagesPerSecondColumn);
    public string ColumnName => "images/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Images per second (batch / mean time)";
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var c = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<ModelCase>().FirstOrDefault();
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return c is null || meanNs is not > 0 ? "-" : (c.Batch / (meanNs.Value / 1e9)).ToString("F1", CultureInfo.InvariantCulture);
    }
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;
}

/// <summary>GFLOP/s as a share of the machine's measured FMA peak (<see cref="CpuFmaPeak"/>).</summary>
public sealed class PeakShareColumn : IColumn
{
    public string Id => nameof(PeakShareColumn);
    public string ColumnName => "% of FMA peak";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 2;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "GFLOP/s over the float32 FMA peak measured on this machine at the same threads";
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var flops = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<IFlopCount>().FirstOrDefault();
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (flops is null || meanNs is not > 0) return "-";
        return (100 * flops.Flops / meanNs.Value / MeasuredPeak.Gflops).ToString("F0", CultureInfo.InvariantCulture);
    }
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;
}

/// <summary>
/// One row per case and backend, ours and ONNX Runtime side by side: ms, images/s, GFLOP/s, % of peak, and ours/ORT as
/// a throughput ratio (above 1: we are faster), with the geometric mean; in BenchmarkDotNet.Artifacts/results/*-models.md.
/// </summary>
public sealed class ModelSideBySideExporter : ExporterBase
{
    protected override string FileExtension => "md";
    protected override string FileCaption => "models";

    public override void ExportToLog(Summary summary, ILogger logger)
    {
        double peak = MeasuredPeak.Gflops;
        logger.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Measured FMA peak {peak:F1} GFLOP/s ({BenchmarkThreads.Count} threads, {SimdSupport.Resolve()}); {CpuIdentity.Description}; load at export {File.ReadAllText("/proc/loadavg").Trim()}"));
        logger.WriteLine("| Model | Batch | Backend | Ours ms | ORT ms | Ours images/s | ORT images/s | Ours GFLOP/s | ORT GFLOP/s | Ours % peak | ORT % peak | Ours/ORT (throughput) |");
        logger.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var ratios = new List<double>();
        var groups = summary.Reports
            .Where(r => r.Success && r.ResultStatistics is not null && r.BenchmarkCase.Descriptor.Type == typeof(ModelBenchmarks))
            .GroupBy(r => ((ModelCase)r.BenchmarkCase.Parameters[nameof(ModelBenchmarks.Case)], (string)r.BenchmarkCase.Parameters[nameof(ModelBenchmarks.Backend)]));
        foreach (var group in groups.OrderBy(g => g.Key.Item1).ThenBy(g => g.Key.Item2, StringComparer.Ordinal))
        {
            double? Mean(string method) => group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method)?.ResultStatistics!.Mean;
            if (Mean(nameof(ModelBenchmarks.Ours)) is not { } ours || Mean(nameof(ModelBenchmarks.OnnxRuntime)) is not { } ort) continue;
            var (c, backend) = group.Key;
            double flops = c.Flops;
            ratios.Add(ort / ours);
            logger.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Model} | {c.Batch} | {backend} | {ours / 1e6:F2} | {ort / 1e6:F2} | {c.Batch / (ours / 1e9):F1} | {c.Batch / (ort / 1e9):F1} | " +
                $"{flops / ours:F1} | {flops / ort:F1} | {100 * flops / ours / peak:F0} | {100 * flops / ort / peak:F0} | {ort / ours:F2} |"));
        }
        if (ratios.Count > 0)
            logger.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| **geometric mean** | | | | | | | | | | | **{Math.Exp(ratios.Average(Math.Log)):F2}** |"));
    }
}
