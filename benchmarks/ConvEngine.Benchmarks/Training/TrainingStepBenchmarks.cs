using BenchmarkDotNet.Attributes;

namespace ConvEngine.Benchmarks.Training;

/// <summary>
/// One training step (forward, loss, backward, Adam) at batch 64 on the two nets of <see cref="TrainingNet"/>:
/// our `cpu` backend against TorchSharp (libtorch CPU; NCHW, its default, and channels-last), same random batch,
/// same thread count. TorchSharp NCHW is the baseline, so the Ratio column reads x/torch (below 1 means faster).
/// </summary>
[Config(typeof(TrainingStepConfig))]
[BenchmarkCategory("training")]
public class TrainingStepBenchmarks
{
    private OurTrainingStep? _ours;
#if CONVENGINE_TORCH
    private TorchTrainingStep? _torch, _torchChannelsLast;
#endif

    public static IEnumerable<TrainingNet> Nets => TrainingNet.All;

    [ParamsSource(nameof(Nets))]
    public TrainingNet Net { get; set; } = null!;

#if CONVENGINE_TORCH
    // Each benchmark runs in its own process; set up only the engine it times.
    [GlobalSetup(Target = nameof(TorchSharp))]
    public void SetUpTorchSharp()
    {
        _torch = new TorchTrainingStep(new TrainingData(Net), BenchmarkThreads.Count);
        Console.WriteLine($"// TorchSharp {Net}: {TorchTrainingStep.ThreadsText}");
    }

    [GlobalSetup(Target = nameof(TorchSharpChannelsLast))]
    public void SetUpTorchSharpChannelsLast()
    {
        _torchChannelsLast = new TorchTrainingStep(new TrainingData(Net), BenchmarkThreads.Count, TorchLayout.ChannelsLast);
        Console.WriteLine($"// TorchSharp channels-last {Net}: {TorchTrainingStep.ThreadsText}");
    }

#endif

    [GlobalSetup(Target = nameof(ConvEngineCpu))]
    public void SetUpConvEngineCpu()
    {
        _ours = new OurTrainingStep(new TrainingData(Net), BenchmarkThreads.Count);
        Console.WriteLine($"// ConvEngine cpu {Net}: {_ours.Backend.Device.Parallelism}, conv2d variant '{_ours.Backend.Variants["conv2d"]}'");
    }

#if CONVENGINE_TORCH
    [Benchmark(Baseline = true, Description = "TorchSharp")]
    public double TorchSharp() => _torch!.Step();

    [Benchmark(Description = "TorchSharp channels-last")]
    public double TorchSharpChannelsLast() => _torchChannelsLast!.Step();
#endif

    [Benchmark(Description = "ConvEngine cpu")]
    public double ConvEngineCpu() => _ours!.Step();

    [GlobalCleanup]
    public void CleanUp()
    {
        _ours?.Dispose();
#if CONVENGINE_TORCH
        _torch?.Dispose();
        _torchChannelsLast?.Dispose();
#endif
    }
}
