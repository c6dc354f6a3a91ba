using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ConvEngine.Benchmarks.Training;

/// <summary>Adds the images/s column and the side-by-side table; jobs come from the command line (see Program: --quick).</summary>
public sealed class TrainingStepConfig : ManualConfig
{
    public TrainingStepConfig()
    {
        AddColumn(new ImagesPerSecondColumn());
        AddExporter(new TrainingSideBySideExporter());
    }
}

/// <summary>Training throughput: the net's batch size divided by the mean step time.</summary>
public sealed class ImagesPerSecondColumn : IColumn
{
    public string Id => nameof(ImagesPerSecondColumn);
    public string ColumnName => "images/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Training images per second (batch size / mean step time)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var net = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<TrainingNet>().FirstOrDefault();
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (net is null || meanNs is not > 0) return "-";
        return (net.BatchSize / (meanNs.Value / 1e9)).ToString("F1", CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public override string ToString() => ColumnName;
}

/// <summary>
/// Writes TrainingStepBenchmarks as one row per net, ours and TorchSharp (NCHW and channels-last, "CL") side by
/// side (ms/step, images/s, ours/torch). Lands in BenchmarkDotNet.Artifacts/results/*-side-by-side.md, ready for RESULTS.md.
/// </summary>
public sealed class TrainingSideBySideExporter : ExporterBase
{
    protected override string FileExtension => "md";
    protected override string FileCaption => "side-by-side";

    public override void ExportToLog(Summary summary, ILogger logger)
    {
        logger.WriteLine("| Net | Batch | Ours ms/step | Torch NCHW ms/step | Torch CL ms/step | Ours images/s | Torch NCHW images/s | Torch CL images/s | Ours/Torch NCHW | Ours/Torch CL |");
        logger.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var byNet = summary.Reports
            .Where(r => r.Success && r.ResultStatistics is not null && r.BenchmarkCase.Descriptor.Type == typeof(TrainingStepBenchmarks))
            .GroupBy(r => (TrainingNet)r.BenchmarkCase.Parameters[nameof(TrainingStepBenchmarks.Net)]);
        foreach (var group in byNet)
        {
            double? Mean(string method) => group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method)?.ResultStatistics!.Mean;
            double? ours = Mean(nameof(TrainingStepBenchmarks.ConvEngineCpu));
            // By name, so the table builds without TorchSharp too (-p:ConvEngineTorch=false); those columns are then "-".
            double? nchw = Mean("TorchSharp"), channelsLast = Mean("TorchSharpChannelsLast");
            var net = group.Key;
            string Ms(double? ns) => ns is { } v ? (v / 1e6).ToString("F1", CultureInfo.InvariantCulture) : "-";
            string Images(double? ns) => ns is { } v ? (net.BatchSize / (v / 1e9)).ToString("F1", CultureInfo.InvariantCulture) : "-";
            string Ratio(double? ns) => ours is { } o && ns is { } v ? (o / v).ToString("F2", CultureInfo.InvariantCulture) : "-";
            logger.WriteLine($"| {net.Title} | {net.BatchSize} | {Ms(ours)} | {Ms(nchw)} | {Ms(channelsLast)} | " +
                             $"{Images(ours)} | {Images(nchw)} | {Images(channelsLast)} | {Ratio(nchw)} | {Ratio(channelsLast)} |");
        }
    }
}
