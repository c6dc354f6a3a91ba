using ConvEngine.Kernels.Cpu;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ConvEngine.Benchmarks;

/// <summary>
/// Which implementation a row timed: our cpu conv2d kernel for the row's shape, or ONNX Runtime's CPU provider. Ours is
/// resolved as the benchmark process resolved it: the environment's variant, else the tuning cache's choice for the
/// shape (the benchmark process tuned it and wrote the cache), else the default; the host process times nothing.
/// </summary>
public sealed class KernelColumn : IColumn
{
    private static string OurKernel(ConvShape? shape)
    {
        using var backend = CpuConvRunner.CreateBackend(BenchmarkThreads.Count);
        if (shape is null || backend.Variants.IsSelected("conv2d")) return $"cpu/{backend.Variants["conv2d"]}";
        var g = shape.Geometry;
        if (CpuConvDirect.PreferredFor(g)) return $"cpu/{CpuBackend.DirectConvVariant}";
        return CpuTuner.Cache.TryGet(CpuTuner.Key(backend, g), out var entry) ? $"cpu/{entry.Variant} (tuned)" : $"cpu/{backend.Variants["conv2d"]}";
    }

    public string Id => nameof(KernelColumn);
    public string ColumnName => "Kernel";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Implementation timed: our cpu backend's conv2d variant, or ONNX Runtime's CPU execution provider";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ConvForwardBenchmarks.OnnxRuntime)
            ? "ORT CPU EP"
            : OurKernel(benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<ConvShape>().FirstOrDefault());

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;
}
