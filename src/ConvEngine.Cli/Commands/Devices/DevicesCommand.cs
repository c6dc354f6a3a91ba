using System.Globalization;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine devices`: what exists here, honestly — absent backends are listed as absent. Each CPU backend also
/// gets its measured float32 FMA peak (a fraction of a second per backend), the figure `convengine bench` divides by.
/// </summary>
internal sealed class DevicesCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumns("backend", "device", "kind", "memory", "parallelism", "FMA peak (measured)");
        var cpuPeak = new Lazy<double>(() => CpuFmaPeak.Measure(Environment.ProcessorCount, SimdSupport.Resolve()));
        foreach (var d in Backends.ListDevices())
            table.AddRow(d.Backend, Markup.Escape(d.Name), d.Kind, $"{d.MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB", Markup.Escape(d.Parallelism), Peak(d, cpuPeak));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>
    /// The machine's peak at every logical processor and the widest SIMD level (what the cpu backend uses by default,
    /// CONVENGINE_SIMD aside); ILGPU's CPU accelerator runs on the same cores, so it shows the same bound. GPUs: not measured.
    /// </summary>
    private static string Peak(DeviceInfo d, Lazy<double> cpuPeak) =>
        d.Kind.StartsWith("CPU", StringComparison.OrdinalIgnoreCase) ? cpuPeak.Value.ToString("F1", CultureInfo.InvariantCulture) + " GFLOP/s" : "-";
}
