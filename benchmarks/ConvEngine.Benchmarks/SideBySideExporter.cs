using System.Globalization;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;

namespace ConvEngine.Benchmarks;

/// <summary>
/// Writes ConvForwardBenchmarks as one row per shape, ours and ONNX Runtime side by side (mean ms,
/// GFLOP/s, ours/ORT), plus the whole VGG16 conv base estimated from its distinct layers when all
/// were run. Lands in BenchmarkDotNet.Artifacts/results/*-side-by-side.md, ready for RESULTS.md.
/// </summary>
public sealed class SideBySideExporter : ExporterBase
{
    protected override string FileExtension => "md";
    protected override string FileCaption => "side-by-side";

    public override void ExportToLog(Summary summary, ILogger logger)
    {
        var rows = Rows(summary);
        logger.WriteLine("| Shape (N, HxW, Cin->Cout) | Batch | Ours ms | ORT ms | Ours GFLOP/s | ORT GFLOP/s | Ours/ORT |");
        logger.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
            logger.WriteLine(Line(row.Shape.ToString(), row.Shape.Batch, row.Shape.Flops, row.OursNs, row.OrtNs));

        // VGG16's conv base = its distinct layers, repeated ones counted again (13 layers in all).
        foreach (int inputSize in new[] { 224, 128 })
        foreach (int batch in rows.Select(r => r.Shape.Batch).Distinct())
        {
            var layers = Vgg16ConvShapes.All(inputSize, batch);
            var measured = layers.Select(l => rows.FirstOrDefault(r => r.Shape == l)).ToArray();
            if (measured.Any(m => m is null)) continue;
            double flops = 0, ours = 0, ort = 0;
            foreach (var m in measured)
            {
                int count = Vgg16ConvShapes.LayerCount(m!.Shape, inputSize);
                flops += count * m.Shape.Flops;
                ours += count * m.OursNs;
                ort += count * m.OrtNs;
            }
            logger.WriteLine(Line($"**VGG16 conv base, {inputSize}x{inputSize} (13 layers, estimated)**", batch, flops, ours, ort));
        }
    }

    private sealed record Row(ConvShape Shape, double OursNs, double OrtNs);

    private static List<Row> Rows(Summary summary)
    {
        var rows = new List<Row>();
        var byShape = summary.Reports
            .Where(r => r.Success && r.ResultStatistics is not null && r.BenchmarkCase.Descriptor.Type == typeof(ConvForwardBenchmarks))
            .GroupBy(r => (ConvShape)r.BenchmarkCase.Parameters[nameof(ConvForwardBenchmarks.Shape)]);
        foreach (var group in byShape.OrderBy(g => g.Key))
        {
            double? Mean(string method) => group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method)?.ResultStatistics!.Mean;
            double? ours = Mean(nameof(ConvForwardBenchmarks.ConvEngineCpu)), ort = Mean(nameof(ConvForwardBenchmarks.OnnxRuntime));
            if (ours is not null && ort is not null) rows.Add(new Row(group.Key, ours.Value, ort.Value));
        }
        return rows;
    }

    private static string Line(string name, int batch, double flops, double oursNs, double ortNs) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {batch} | {oursNs / 1e6:F2} | {ortNs / 1e6:F2} | {flops / oursNs:F1} | {flops / ortNs:F1} | {oursNs / ortNs:F2} |");
}
