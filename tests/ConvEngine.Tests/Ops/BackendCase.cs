using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// One backend configuration an op test runs on: "cpu" at one SIMD level with one variant of the op
/// under test selected, or "ilgpu-cpu". Backends are created once per configuration and shared by
/// the tests (ILGPU compiles its kernels once per backend); <see cref="Acquire"/> resets the variants.
/// </summary>
public sealed class BackendCase
{
    private static readonly Dictionary<string, IBackend> Created = new();
    private static readonly object Gate = new();

    private BackendCase(string backend, SimdLevel? simd, string? op, string? variant)
    {
        Backend = backend;
        Simd = simd;
        Op = op;
        Variant = variant;
    }

    /// <summary>"cpu" or "ilgpu-cpu".</summary>
    public string Backend { get; }
    public SimdLevel? Simd { get; }
    public string? Op { get; }
    public string? Variant { get; }
    public bool IsCpu => Backend == "cpu";

    public static BackendCase Cpu(SimdLevel simd, string? op = null, string? variant = null) => new("cpu", simd, op, variant);
    public static BackendCase IlgpuCpu(string? op = null, string? variant = null) => new("ilgpu-cpu", null, op, variant);

    /// <summary>The shared backend of this configuration, with every op on its default variant except the one under test.</summary>
    public IBackend Acquire()
    {
        var backend = Shared(Key, Create);
        foreach (var (op, variants) in backend.Variants.Available) backend.Variants.Select(op, variants[0]);
        if (Op is not null && Variant is not null) backend.Variants.Select(Op, Variant);
        return backend;
    }

    private string Key => IsCpu ? $"cpu/{Simd}" : Backend;

    private IBackend Create() => IsCpu ? new CpuBackend(simd: Simd) : Backends.Create(Backend);

    internal static IBackend Shared(string key, Func<IBackend> create)
    {
        lock (Gate)
        {
            if (!Created.TryGetValue(key, out var backend)) Created[key] = backend = create();
            return backend;
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
        Backend + (Simd is { } s ? "/" + s.ToString().ToLowerInvariant() : "") + (Variant is not null ? $"/{Op}={Variant}" : "");
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

    public static IEnumerable<BackendCase> Ilgpu(string op)
    {
        string[] variants = IlgpuVariants(op);
        if (variants.Length == 0) yield return BackendCase.IlgpuCpu();
        foreach (string v in variants) yield return BackendCase.IlgpuCpu(op, v);
    }

    /// <summary>Pairs each backend case with each data case, keeping the large data cases off ilgpu-cpu (slow).</summary>
    public static IEnumerable<TestCaseData> Cross<T>(string op, IEnumerable<T> cases, Func<T, bool> smallEnoughForIlgpu) where T : notnull
    {
        var all = cases.ToArray();
        foreach (var backend in For(op))
            foreach (var c in all.Where(c => backend.IsCpu || smallEnoughForIlgpu(c)))
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

    private static string[] IlgpuVariants(string op)
    {
        try
        {
            var backend = BackendCase.Shared("ilgpu-cpu", () => Backends.Create("ilgpu-cpu"));
            return backend.Variants.Available.TryGetValue(op, out var v) ? v : [];
        }
        catch (Exception e) when (e is NotImplementedException or BackendUnavailableException)
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
