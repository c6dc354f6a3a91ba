using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ConvEngine.Benchmarks;

/// <summary>Which implementation a row timed: our cpu conv2d variant, or ONNX Runtime's CPU provider.</summary>
public sealed class KernelColumn : IColumn
{
    // Resolved the same way the benchmark process resolves it (default variant, or the environment override).
    private readonly Lazy<string> _ourVariant = new(() =>
    {
        using var backend = CpuConvRunner.CreateBackend(threads: 1);
        return $"cpu/{backend.Variants["conv2d"]}";
    });

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
            : _ourVariant.Value;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;
}
