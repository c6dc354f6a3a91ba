namespace ConvEngine.Benchmarks;

/// <summary>
/// The thread count both engines get, so the comparison is like for like: CONVENGINE_BENCH_THREADS
/// if set, else every logical processor (2 on the shared CPU machines).
/// </summary>
public static class BenchmarkThreads
{
    public const string EnvironmentVariable = "CONVENGINE_BENCH_THREADS";

    public static int Count
    {
        get
        {
            string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (string.IsNullOrWhiteSpace(text)) return Environment.ProcessorCount;
            return int.TryParse(text, out int n) && n > 0 ? n
                : throw new ArgumentException($"{EnvironmentVariable} must be a positive integer; got '{text}'.");
        }
    }
}
