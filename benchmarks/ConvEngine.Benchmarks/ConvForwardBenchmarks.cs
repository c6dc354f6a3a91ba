using BenchmarkDotNet.Attributes;
using ConvEngine.Benchmarks.Onnx;

namespace ConvEngine.Benchmarks;

/// <summary>
/// Conv2D forward (3x3, SAME, bias, ReLU) on VGG16's layer shapes: our `cpu` backend against ONNX
/// Runtime's CPU provider, same data, same thread count. ONNX Runtime is the baseline, so the Ratio
/// column reads ours/ORT (below 1 means we are faster). Both run their filter prepared once, as inference
/// does: ORT packs it at session creation, ours with PackConv2DFilter (what Model inference and the ONNX
/// plan run since 2026-12-08; earlier tables timed ours packing the filter on every call).
/// </summary>
[Config(typeof(ConvForwardConfig))]
[BenchmarkCategory("conv2d", "vgg16")]
public class ConvForwardBenchmarks
{
    private CpuConvRunner? _ours;
    private OrtConvRunner? _ort;

    public static IEnumerable<ConvShape> Shapes => Vgg16ConvShapes.Benchmarked;

    [ParamsSource(nameof(Shapes))]
    public ConvShape Shape { get; set; } = null!;

    // Each benchmark runs in its own process; set up only the engine it times.
    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetUpOnnxRuntime()
    {
        _ort = new OrtConvRunner(new ConvProblem(Shape), BenchmarkThreads.Count);
        Console.WriteLine($"// ONNX Runtime {Shape}: {BenchmarkThreads.Count} intra-op threads");
    }

    [GlobalSetup(Target = nameof(ConvEngineCpu))]
    public void SetUpConvEngineCpu()
    {
        _ours = new CpuConvRunner(new ConvProblem(Shape), BenchmarkThreads.Count);
        Console.WriteLine($"// ConvEngine cpu {Shape}: conv2d variant '{_ours.Variant}', {BenchmarkThreads.Count} threads");
    }

    [Benchmark(Baseline = true, Description = "ORT")]
    public void OnnxRuntime() => _ort!.Run();

    [Benchmark(Description = "ConvEngine cpu")]
    public void ConvEngineCpu() => _ours!.RunPacked();

    [GlobalCleanup]
    public void CleanUp()
    {
        _ours?.Dispose();
        _ort?.Dispose();
    }
}
