using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using ConvEngine.Benchmarks;

// Extra options, read before BenchmarkDotNet sees the rest of the command line:
//   --check  run every conv shape once in ConvEngine and ONNX Runtime and compare outputs, then exit
//   --quick  one launch, 2 warm-up and 5 measured iterations per benchmark (instead of BDN's adaptive default)
if (args.Contains("--check"))
    return ConvCrossCheck.Run(Console.Out);

IConfig? config = null;
if (args.Contains("--quick"))
{
    config = DefaultConfig.Instance.AddJob(Job.Default
        .WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5)
        .WithId("Quick"));
    args = args.Where(a => a != "--quick").ToArray();
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(ConvForwardBenchmarks).Assembly).Run(args, config);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
