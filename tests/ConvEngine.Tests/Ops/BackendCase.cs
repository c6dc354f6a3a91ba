using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// One backend configuration an op test runs on: "cpu" at one SIMD level with one variant of the op
/// under test selected, or an ILGPU backend ("ilgpu-cpu", and "cuda"/"opencl" when asked for through
/// CONVENGINE_TEST_BACKENDS). Backends are created once per configuration and shared by
/// the tests (ILGPU compiles its kernels once per backend); <see cref="Acquire"/> resets the variants.
/// </summary>
public sealed class BackendCase
{
    private static readonly Dictionary<string, IBackend> Created = new();
    private static readonly object Gate = new();

    private BackendCase(string backend, SimdLevel? simd, string? op, string? variant, int? threads = null)
    {
        Backend = backend;
        Simd = simd;
        Op = op;
        Variant = variant;
        Threads = threads;
    }

    /// <summary>"cpu", "ilgpu-cpu", "cuda" or "opencl".</summary>
    public string Backend { get; }
    public SimdLevel? Simd { get; }
    public string? Op { get; }
    public string? Variant { get; }
    /// <summary>cpu threads; null for the processor count (the backend's default).</summary>
    public int? Threads { get; }
    public bool IsCpu => Backend == "cpu";
    /// <summary>ILGPU's CPU accelerator simulates GPU threads (~0.6 GFLOP/s): it gets the small data cases only.</summary>
    public bool IsSlow => Backend == "ilgpu-cpu";

    public static BackendCase Cpu(SimdLevel simd, string? op = null, string? variant = null, int? threads = null) => new("cpu", simd, op, variant, threads);
    public static BackendCase IlgpuCpu(string? op = null, string? variant = null) => Ilgpu("ilgpu-cpu", op, variant);
    public static BackendCase Ilgpu(string name, string? op = null, string? variant = null) => new(name, null, op, variant);

    /// <summary>
    /// The shared backend of this configuration, with every op on its default variant except the one under test.
    /// A cuda or opencl case on a machine without that device is skipped, saying why.
    /// </summary>
    public IBackend Acquire()
    {
        IBackend backend;
        try
        {
            backend = Shared(Key, Create);
        }
        catch (BackendUnavailableException e) when (Backend is "cuda" or "opencl")
        {
            Assert.Ignore($"No {Backend} device on this machine: {e.Message}");
            throw;
        }
        foreach (var (op, variants) in backend.Variants.Available) backend.Variants.Select(op, variants[0]);
        if (Op is not null && Variant is not null) backend.Variants.Select(Op, Variant);
        return backend;
    }

    private string Key => IsCpu ? $"cpu/{Simd}/{Threads}" : Backend;

    private IBackend Create() => IsCpu ? new CpuBackend(Threads, Simd) : Backends.Create(Backend);

    /// <summary>Backends that could not be created, so the thousand cases of an absent GPU ask ILGPU once.</summary>
    private static readonly Dictionary<string, Exception> Unavailable = new();

    internal static IBackend Shared(string key, Func<IBackend> create)
    {
        lock (Gate)
        {
            if (Created.TryGetValue(key, out var backend)) return backend;
            if (Unavailable.TryGetValue(key, out var failure)) throw failure;
            try
            {
                return Created[key] = create();
            }
            catch (BackendUnavailableException e)
            {
                Unavailable[key] = e;
                throw;
            }
        }
    }

    internal static void DisposeAll()
    {
        lock (Gate)
        {
            foreach (var backend in Created.Values) backend.Dispose();
            Created.Clear();
        }
    }

    public override string ToString() =>
        Backend + (Simd is { } s ? "/" + s.ToString().ToLowerInvariant() : "") + (Threads is { } t ? $"/threads={t}" : "") +
        (Variant is not null ? $"/{Op}={Variant}" : "");
}

/// <summary>The backend configurations an op's tests run on.</summary>
public static class BackendCases
{
    /// <summary>SIMD levels this processor runs: every level up to the detected one.</summary>
    public static IEnumerable<SimdLevel> SimdLevels => Enum.GetValues<SimdLevel>().Where(l => l <= SimdSupport.Detected);

    /// <summary>
    /// cpu at every SIMD level × every registered variant of <paramref name="op"/> (the default alone
    /// when the op registers none), then ilgpu-cpu with each of its variants, or its default while it
    /// cannot be created here (its cases then fail with the creation error).
    /// </summary>
    public static IEnumerable<BackendCase> For(string op) => Cpu(op).Concat(Ilgpu(op));

    public static IEnumerable<BackendCase> Cpu(string op)
    {
        string[] variants = CpuVariants(op);
        foreach (var level in SimdLevels)
        {
            if (variants.Length == 0) yield return BackendCase.Cpu(level);
            foreach (string v in variants) yield return BackendCase.Cpu(level, op, v);
        }
    }

    /// <summary>
    /// cpu only, for shapes large enough to engage the kernels' blocking and thread splits: every SIMD level
    /// and variant at the default thread count, plus the detected level with 1 thread and with 3 (an odd
    /// split, more threads than this 2-core machine has) so that every split path runs whatever the machine.
    /// </summary>
    public static IEnumerable<BackendCase> CpuThreaded(string op)
    {
        foreach (var c in Cpu(op)) yield return c;
        string[] variants = CpuVariants(op);
        foreach (int threads in new[] { 1, 3 })
        {
            if (variants.Length == 0) yield return BackendCase.Cpu(SimdSupport.Detected, threads: threads);
            foreach (string v in variants) yield return BackendCase.Cpu(SimdSupport.Detected, op, v, threads);
        }
    }

    /// <summary>Pairs each threaded cpu configuration (<see cref="CpuThreaded"/>) with each data case.</summary>
    public static IEnumerable<TestCaseData> CrossThreaded<T>(string op, IEnumerable<T> cases) where T : notnull
    {
        var all = cases.ToArray();
        foreach (var backend in CpuThreaded(op))
            foreach (var c in all)
                yield return new TestCaseData(backend, c).SetArgDisplayNames(backend.ToString(), c.ToString()!);
    }

    /// <summary>
    /// The ILGPU backends to test: ilgpu-cpu, cuda and opencl. The op tests check each against the double reference
    /// on its own (not against the cpu backend); a GPU backend whose device this machine lacks skips its cases, saying
    /// why. CONVENGINE_TEST_BACKENDS (comma-separated names) narrows the list, e.g. to "cuda" on a GPU machine.
    /// </summary>
    public static IReadOnlyList<string> IlgpuNames =>
        Environment.GetEnvironmentVariable("CONVENGINE_TEST_BACKENDS") is { Length: > 0 } only
            ? only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(n => n.ToLowerInvariant()).Where(n => n is "ilgpu-cpu" or "cuda" or "opencl").Distinct().ToArray()
            : ["ilgpu-cpu", "cuda", "opencl"];

    /// <summary>A new backend of that name, or null where this machine lacks its device (for fixtures that own their backends).</summary>
    public static IBackend? TryCreate(string name)
    {
        try
        {
            return Backends.Create(name);
        }
        catch (BackendUnavailableException)
        {
            return null;
        }
    }

    public static IEnumerable<BackendCase> Ilgpu(string op)
    {
        foreach (string name in IlgpuNames)
        {
            string[] variants = IlgpuVariants(name, op);
            if (variants.Length == 0) yield return BackendCase.Ilgpu(name);
            foreach (string v in variants) yield return BackendCase.Ilgpu(name, op, v);
        }
    }

    /// <summary>Pairs each backend case with each data case, keeping the large data cases off ilgpu-cpu (slow).</summary>
    public static IEnumerable<TestCaseData> Cross<T>(string op, IEnumerable<T> cases, Func<T, bool> smallEnoughForIlgpu) where T : notnull
    {
        var all = cases.ToArray();
        foreach (var backend in For(op))
            foreach (var c in all.Where(c => !backend.IsSlow || smallEnoughForIlgpu(c)))
                yield return new TestCaseData(backend, c).SetArgDisplayNames(backend.ToString(), c.ToString()!);
    }

    /// <summary>One test case per backend configuration.</summary>
    public static IEnumerable<TestCaseData> Each(string op) =>
        For(op).Select(b => new TestCaseData(b).SetArgDisplayNames(b.ToString()));

    private static string[] CpuVariants(string op)
    {
        using var probe = new CpuBackend();
        return probe.Variants.Available.TryGetValue(op, out var v) ? v : [];
    }

    private static string[] IlgpuVariants(string name, string op)
    {
        try
        {
            var backend = BackendCase.Shared(name, () => Backends.Create(name));
            return backend.Variants.Available.TryGetValue(op, out var v) ? v : [];
        }
        catch (BackendUnavailableException)
        {
            return [];
        }
    }
}

/// <summary>Releases the shared backends once the op tests have run.</summary>
[SetUpFixture]
public sealed class SharedBackendsTeardown
{
    [OneTimeTearDown]
    public void DisposeBackends() => BackendCase.DisposeAll();
}
