using System.Diagnostics;

namespace ConvEngine.Benchmarks;

/// <summary>
/// The clock of the development probes: wall time, or with `--cpu-time` (or CONVENGINE_PROBE_CPU_TIME=1) the process's
/// CPU time divided by the threads in use, which leaves out the time this process waits while other jobs hold the
/// cores (the shared machine's load). Only for comparing one kernel change against another; BenchmarkDotNet reports wall time.
/// </summary>
public static class ProbeClock
{
    public static bool CpuTime { get; set; } = Environment.GetEnvironmentVariable("CONVENGINE_PROBE_CPU_TIME") == "1";

    /// <summary>Milliseconds one call of <paramref name="run"/> takes on <paramref name="threads"/> threads.</summary>
    public static double Milliseconds(Action run, int threads)
    {
        if (!CpuTime)
        {
            long t0 = Stopwatch.GetTimestamp();
            run();
            return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        using var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        run();
        process.Refresh();
        return (process.TotalProcessorTime - before).TotalMilliseconds / threads;
    }

    /// <summary>
    /// Lets the other engine's worker threads go idle before the next measurement: ONNX Runtime's intra-op threads
    /// spin for a while after a run and would take the core our second thread needs (and ours spin 0.2 ms).
    /// BenchmarkDotNet runs each engine in its own process, so it needs no such pause.
    /// </summary>
    public static void Settle() => Thread.Sleep(30);

    public static string Name => CpuTime ? "CPU time / threads" : "wall time";
}
