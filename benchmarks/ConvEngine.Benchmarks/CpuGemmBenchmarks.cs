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
    [ParamsSource(nameof(Gemms))]
    public GemmShape Gemm { get; set; } = null!;

    public static IEnumerable<GemmShape> Gemms => [new(3136, 256, 2304), new(784, 512, 4608), new(3136, 64, 576)];

    [Params(1, 2)]
    public int Threads { get; set; }

    private float[] _a = [], _b = [], _c = [];
    private int _m, _n, _k;

    [GlobalSetup]
    public void Setup()
    {
        (_m, _n, _k) = (Gemm.M, Gemm.N, Gemm.K);
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
    [ParamsSource(nameof(Convs))]
    public ConvShape Conv { get; set; } = null!;

    public static IEnumerable<ConvShape> Convs => [new(1, 56, 256, 256), new(1, 28, 512, 512), new(1, 112, 128, 128), new(1, 224, 64, 64), new(1, 14, 512, 512)];

    [Params(2)]
    public int Threads { get; set; }

    [Params("implicit-gemm", "im2col-gemm")]
    public string Variant { get; set; } = "";

    private CpuBackend _cpu = null!;
    private DeviceBuffer _x = null!, _f = null!, _bias = null!, _y = null!;
    private Conv2DGeometry _g;

    [GlobalSetup]
    public void Setup()
    {
        _g = Conv.Geometry;
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
    public void Conv2D() => _cpu.Conv2D(_x, _f, _bias, _y, _g, KernelActivation.Relu);

    [GlobalCleanup]
    public void Cleanup() => _cpu.Dispose();
}

/// <summary>Adds the GFLOP/s column (2 flops per multiply-add, from the IFlopCount parameter and the mean time).</summary>
public sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new GflopsColumn());
}

/// <summary>An m×n×k matrix product.</summary>
public sealed record GemmShape(int M, int N, int K) : IFlopCount
{
    public double Flops => 2.0 * M * N * K;
    public override string ToString() => $"{M}x{N}x{K}";
}
