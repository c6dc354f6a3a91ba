using BenchmarkDotNet.Configs;

namespace ConvEngine.Benchmarks;

/// <summary>Adds the GFLOP/s and kernel columns and the side-by-side table; jobs come from the command line (see Program: --quick).</summary>
public sealed class ConvForwardConfig : ManualConfig
{
    public ConvForwardConfig()
    {
        AddColumn(new GflopsColumn(), new KernelColumn());
        AddExporter(new SideBySideExporter());
    }
}
