using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ConvEngine.Benchmarks;
using ConvEngine.Benchmarks.Models;
using ConvEngine.Benchmarks.Training;

// Extra options, read before BenchmarkDotNet sees the rest of the command line:
//   --check  run every conv shape once in ConvEngine and ONNX Runtime and compare outputs, then exit
//   --check-models [ids]  run every model case (Models/ModelCase.cs) once in both engines and compare outputs
//   --probe-conv [N,S,Cin,Cout …] [--rounds N] [--packed]  a quick Stopwatch pass over 3x3 conv shapes (development only)
//   --probe-gemm M,N,K … [--blocking KC,NC,MC] [--threads T]  a quick Stopwatch pass of CpuGemm (development only)
//   --probe-models [ids] [--rounds N] [--back-to-back]  a quick Stopwatch pass over the model cases (development only)
//   --quick  one launch, 2 warm-up and 5 measured iterations per benchmark (instead of BDN's adaptive default);
//            in this process with --inProcess
//   --check-training  train both nets of TrainingStepBenchmarks a few steps in ConvEngine and TorchSharp from the
//            same weights and compare the losses, then exit
//   --profile-training [a|b] [steps]  time each kernel of our training step by layer (default: net b, 5 steps), then exit
//   --time-training-kernels [a|b] [repeats]  time every cpu variant of the conv backward ops on a net's layers, then exit
//   --compare-backends cpu,cuda[,...] [--small] [--repeats N]  the layer convs and training steps on each backend, side by side
if (args.Contains("--check"))
    return ConvCrossCheck.Run(Console.Out);
if (Array.IndexOf(args, "--check-models") is var checkModelsAt and >= 0)
    return ModelProbe.Run(args[(checkModelsAt + 1)..], Console.Out, time: false);
if (Array.IndexOf(args, "--probe-conv") is var probeConvAt and >= 0)
    return ConvProbe.Run(args[(probeConvAt + 1)..], Console.Out);
if (Array.IndexOf(args, "--probe-gemm") is var probeGemmAt and >= 0)
    return GemmProbe.Run(args[(probeGemmAt + 1)..], Console.Out);
if (Array.IndexOf(args, "--profile-model") is var profileModelAt and >= 0)
    return ModelProbe.Profile(args[(profileModelAt + 1)..], Console.Out);
if (Array.IndexOf(args, "--probe-pool") is var probePoolAt and >= 0)
    return PoolProbe.Run(args[(probePoolAt + 1)..], Console.Out);
if (Array.IndexOf(args, "--probe-models") is var probeAt and >= 0)
    return ModelProbe.Run(args[(probeAt + 1)..], Console.Out, time: true);
#if CONVENGINE_TORCH
if (args.Contains("--check-training"))
    return TrainingCrossCheck.Run(Console.Out);
#endif
if (Array.IndexOf(args, "--compare-backends") is var compareAt and >= 0)
    return BackendComparison.Run(args[(compareAt + 1)..], Console.Out);
if (Array.IndexOf(args, "--profile-training") is var profileAt and >= 0)
    return TrainingProfiler.Run(args[(profileAt + 1)..], Console.Out);
if (Array.IndexOf(args, "--time-training-kernels") is var timeAt and >= 0)
    return TrainingKernelTimer.Run(args[(timeAt + 1)..], Console.Out);

IConfig? config = null;
if (args.Contains("--quick"))
{
    var quick = Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5).WithId("Quick");
    // BDN's own --inProcess does not reach a job made here; Training/debian13-runtime.sh needs it (TorchSharp).
    if (args.Contains("--inProcess")) quick = quick.WithToolchain(InProcessEmitToolchain.Instance);
    config = DefaultConfig.Instance.AddJob(quick);
    args = args.Where(a => a is not "--quick" and not "--inProcess").ToArray();
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(ConvForwardBenchmarks).Assembly).Run(args, config);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
