using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks;

/// <summary>
/// The cpu backend's GEMM and its im2col+GEMM conv on VGG16 shapes, with a GFLOP/s column.
/// Run: dotnet run -c Release --project benchmarks/ConvEngine.Benchmarks -- --filter '*CpuGemm*' --job short
/// </summary>
[Config(typeof(GflopsConfig))]
public unsafe class CpuGemmBenchmarks
{
    /// <summary>m×n×k: conv3_x of VGG16 at 56×56 as a GEMM (pixels × OC × 9·C), conv4_x at 28×28, conv1_2 at 112×112 per quarter.</summary>
    [Params("3136x256x2304", "784x512x4608", "3136x64x576")]
    public string Gemm { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] _a = [], _b = [], _c = [];
    private int _m, _n, _k;

    [GlobalSetup]
    public void Setup()
    {
        (_m, _n, _k) = GflopsColumn.ParseGemm(Gemm);
        _a = Filled((long)_m * _k);
        _b = Filled((long)_k * _n);
        _c = Filled((long)_m * _n);
    }

    [Benchmark]
    public void Multiply()
    {
        fixed (float* a = _a, b = _b, c = _c)
            CpuGemm.Multiply(SimdSupport.Detected, Threads, false, false, _m, _n, _k, a, _k, b, _n, c, _n, accumulate: false);
    }

    internal static float[] Filled(long length)
    {
        var rng = new Random(1);
        var data = GC.AllocateUninitializedArray<float>((int)length, pinned: true);
        for (long i = 0; i < length; i++) data[i] = (float)(rng.NextDouble() - 0.5);
        return data;
    }
}

/// <summary>Conv2D forward (3×3, SAME, bias, ReLU) on VGG16 layers with ≥ 64 channels, batch 1.</summary>
[Config(typeof(GflopsConfig))]
public class CpuGemmConvBenchmarks
{
    /// <summary>H×W×C→OC.</summary>
    [Params("56x56x256->256", "28x28x512->512", "112x112x128->128", "224x224x64->64", "14x14x512->512")]
    public string Conv { get; set; } = "";

    [Params(2)]
    public int Threads { get; set; }

    [Params("im2col-gemm")]
    public string Variant { get; set; } = "";

    private CpuBackend _cpu = null!;
    private DeviceBuffer _x = null!, _f = null!, _bias = null!, _y = null!;
    private Conv2DGeometry _g;

    [GlobalSetup]
    public void Setup()
    {
        _g = GflopsColumn.ParseConv(Conv);
        _cpu = new CpuBackend(Threads);
        _cpu.Variants.Select("conv2d", Variant);
        _x = Upload(_g.InputShape.Length);
        _f = Upload(_g.FilterShape.Length);
        _bias = Upload(_g.OC);
        _y = _cpu.Allocate(_g.OutputShape.Length);
    }

    private DeviceBuffer Upload(long length)
    {
        var buffer = _cpu.Allocate(length);
        _cpu.Upload(CpuGemmBenchmarks.Filled(length), buffer);
        return buffer;
    }

    [Benchmark]
    public void Conv2D() => _cpu.Conv2D(_x, _f, _bias, _y, _g, Activation.Relu);

    [GlobalCleanup]
    public void Cleanup() => _cpu.Dispose();
}

/// <summary>Adds the GFLOP/s column (2 flops per multiply-add, from the Gemm or Conv parameter and the mean time).</summary>
public sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new GflopsColumn());
}

public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Billions of floating-point operations per second (2 per multiply-add), from the mean";

    public static (int M, int N, int K) ParseGemm(string text)
    {
        var parts = text.Split('x').Select(int.Parse).ToArray();
        return (parts[0], parts[1], parts[2]);
    }

    public static Conv2DGeometry ParseConv(string text)
    {
        var sides = text.Split("->");
        var hwc = sides[0].Split('x').Select(int.Parse).ToArray();
        int oc = int.Parse(sides[1]);
        return Conv2DGeometry.Create("Conv2D", new TensorShape(1, hwc[0], hwc[1], hwc[2]), new TensorShape(3, 3, hwc[2], oc),
            new Conv2DOptions { Padding = Padding.Same });
    }

    private static double? Flops(BenchmarkCase benchmark)
    {
        foreach (var p in benchmark.Parameters.Items)
        {
            if (p.Name == "Gemm") { var (m, n, k) = ParseGemm((string)p.Value); return 2.0 * m * n * k; }
            if (p.Name == "Conv") return ParseConv((string)p.Value).Flops;
        }
        return null;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        double? flops = Flops(benchmarkCase);
        return stats is null || flops is null ? "-" : $"{flops.Value / stats.Mean:F1}";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
