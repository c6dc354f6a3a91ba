using System.Diagnostics;
using System.Runtime.InteropServices;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Whether the cpu backend times kernel candidates for new op shapes.</summary>
public enum TuningMode
{
    /// <summary>Defaults only (derived from the machine's caches), nothing timed: deterministic, what the tests use.</summary>
    Off,
    /// <summary>The first time a conv shape is seen on this machine, time the candidates once and keep the fastest in the tuning cache.</summary>
    On,
}

/// <summary>
/// Autotuning of the cpu backend's conv2d: for each conv shape it picks the variant (implicit-gemm, im2col-gemm or
/// direct, when the application left the default selected) and the GEMM blocking, by timing a few candidates once per machine and keeping the result in the
/// <see cref="TuningCache"/>. On by default; off with CONVENGINE_TUNING=off or <c>new CpuBackend(tuning: TuningMode.Off)</c>.
/// Small convs (under ~20 MFLOP) and depthwise convs keep the defaults: timing them would cost more than it saves.
/// </summary>
public sealed class CpuTuner
{
    /// <summary>Convs below this many FLOPs are not timed.</summary>
    public const double MinFlops = 2e7;
    private static readonly object s_cacheGate = new();
    private static TuningCache? s_cache;

    internal CpuTuner(TuningMode mode) => Mode = mode;

    /// <summary>Whether this backend times new shapes (On) or keeps the defaults (Off).</summary>
    public TuningMode Mode { get; }

    /// <summary>The mode from CONVENGINE_TUNING (off/0/false, on/1/true); on when unset.</summary>
    public static TuningMode ModeFromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable("CONVENGINE_TUNING");
        if (string.IsNullOrWhiteSpace(text)) return TuningMode.On;
        return text.Trim().ToLowerInvariant() switch
        {
            "off" or "0" or "false" or "no" => TuningMode.Off,
            "on" or "1" or "true" or "yes" => TuningMode.On,
            _ => throw new ArgumentException($"CONVENGINE_TUNING='{text}' is not one of on, off."),
        };
    }

    /// <summary>The process's cache at <see cref="TuningCache.DefaultPath"/> (opened on first use).</summary>
    public static TuningCache Cache
    {
        get
        {
            lock (s_cacheGate)
            {
                string path = TuningCache.DefaultPath;
                if (s_cache is null || s_cache.Path != path) s_cache = new TuningCache(path);
                return s_cache;
            }
        }
    }

    /// <summary>This machine as the cache names it: CPU model, family and model numbers, SIMD level and threads.</summary>
    public static string MachineKey(SimdLevel simd, int threads) => $"{CpuIdentity.Description} | {simd} | {threads} threads";

    /// <summary>A conv shape as the cache names it.</summary>
    public static string Conv2DKey(in Conv2DGeometry g) =>
        $"conv2d {g.N}x{g.H}x{g.W}x{g.C} k{g.KH}x{g.KW} s{g.StrideH}x{g.StrideW} d{g.DilationH}x{g.DilationW} " +
        $"p{g.PadTop},{g.PadBottom},{g.PadLeft},{g.PadRight} g{g.Groups} oc{g.OC}";

    /// <summary>The cache key of <paramref name="g"/> on <paramref name="backend"/>.</summary>
    public static string Key(CpuBackend backend, in Conv2DGeometry g) => $"{MachineKey(backend.Simd, backend.Threads)} | {Conv2DKey(g)}";

    /// <summary>The default choice: the implicit GEMM with the blocking from the machine's caches.</summary>
    internal static TuningEntry Default(SimdLevel simd) => new(CpuBackend.ImplicitGemmVariant, GemmBlocking.Default(simd), 0);

    /// <summary>
    /// The candidates timed for a conv: both GEMM variants, each with the default blocking and with KC or NC halved
    /// or grown by half/doubled (a step either way from the cache-derived point), and the direct kernel (no blocking of
    /// its own: the entry keeps the default), which beats the GEMM on some 3×3 layers of AVX2 machines.
    /// </summary>
    internal static IReadOnlyList<(string Variant, GemmBlocking Blocking)> Candidates(SimdLevel simd)
    {
        var d = GemmBlocking.Default(simd);
        var blockings = new List<GemmBlocking> { d };
        foreach (int kc in new[] { d.KC / 2, Math.Min(GemmBlocking.PanelStride, d.KC * 3 / 2) / 16 * 16 })
            if (kc >= 64 && kc != d.KC) blockings.Add(d with { KC = kc });
        foreach (int nc in new[] { d.NC / 2, d.NC * 2 })
            if (nc >= 64 && nc <= 2048) blockings.Add(d with { NC = nc });
        return [.. from v in new[] { CpuBackend.ImplicitGemmVariant, CpuBackend.Im2colGemmVariant } from b in blockings.Distinct() select (v, b),
            (CpuBackend.DirectConvVariant, d)];
    }

    /// <summary>Timing rounds: every candidate runs once a round, and keeps its fastest round.</summary>
    internal const int Rounds = 3;

    /// <summary>
    /// How much faster than the first candidate (the default) another must be to replace it: closer than this is
    /// within a shared machine's noise, and a choice kept in the cache should not rest on noise.
    /// </summary>
    internal const double Margin = 0.03;

    /// <summary>
    /// The fastest candidate by <paramref name="measure"/> (milliseconds of one run), timed in <paramref name="rounds"/>
    /// rounds that take the candidates in turn, so a slow spell of the machine hits them all rather than one; each keeps
    /// its fastest round. The first candidate stays unless another beats it by <see cref="Margin"/>; other ties go to
    /// the earlier one.
    /// </summary>
    internal static TuningEntry Choose(IReadOnlyList<(string Variant, GemmBlocking Blocking)> candidates, Func<string, GemmBlocking, double> measure,
        int rounds = Rounds)
    {
        if (candidates.Count == 0) throw new ArgumentException("CpuTuner.Choose: no candidates.");
        var fastest = new double[candidates.Count];
        Array.Fill(fastest, double.MaxValue);
        for (int round = 0; round < Math.Max(1, rounds); round++)
            for (int i = 0; i < candidates.Count; i++)
                fastest[i] = Math.Min(fastest[i], measure(candidates[i].Variant, candidates[i].Blocking));
        int pick = 0;
        for (int i = 1; i < candidates.Count; i++)
            if (fastest[i] < fastest[pick]) pick = i;
        if (pick != 0 && fastest[pick] > fastest[0] * (1 - Margin)) pick = 0;
        return new TuningEntry(candidates[pick].Variant, candidates[pick].Blocking, fastest[pick]);
    }

    /// <summary>The choice for <paramref name="g"/>: from the cache, by timing (mode On, first time), or the default.</summary>
    internal TuningEntry For(CpuBackend backend, in Conv2DGeometry g) => Tuned(backend, g) ?? Default(backend.Simd);

    /// <summary>
    /// The tuned choice for <paramref name="g"/>, from the cache or by timing it now; null where nothing is tuned
    /// (mode Off, a depthwise conv, or one under <see cref="MinFlops"/>), so the caller applies its own default.
    /// </summary>
    internal TuningEntry? Tuned(CpuBackend backend, in Conv2DGeometry g)
    {
        if (Mode == TuningMode.Off || CpuConvKernels.IsDepthwise(g) || g.Flops < MinFlops) return null;
        string key = Key(backend, g);
        var cache = Cache;
        if (cache.TryGet(key, out var entry)) return entry;
        entry = Choose(Candidates(backend.Simd), new Conv2DTimer(backend, g).Milliseconds);
        cache.Set(key, entry);
        return entry;
    }

    internal GemmBlocking BlockingFor(CpuBackend backend, in Conv2DGeometry g) => For(backend, g).Blocking;

    /// <summary>
    /// Times one conv shape's candidates on data of its size (a fixed pattern, so subnormals and NaNs never slow one
    /// candidate down): a warm-up run, then one timed run a call (<see cref="Choose"/> calls it once a round).
    /// </summary>
    internal sealed unsafe class Conv2DTimer
    {
        private readonly CpuBackend _backend;
        private readonly Conv2DGeometry _g;
        private readonly float[] _input, _filter, _bias, _output;

        public Conv2DTimer(CpuBackend backend, Conv2DGeometry g)
        {
            _backend = backend;
            _g = g;
            _input = Pattern(g.InputShape.Length, 1f);
            _filter = Pattern(g.FilterShape.Length, 1f / MathF.Sqrt(g.KH * g.KW * g.InChannelsPerGroup));
            _bias = Pattern(g.OC, 0.1f);
            _output = GC.AllocateArray<float>(checked((int)g.OutputShape.Length), pinned: true);
        }

        private static float[] Pattern(long length, float scale)
        {
            var data = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
            for (int i = 0; i < data.Length; i++) data[i] = scale * (((i * 7919) % 2003) / 1001.5f - 1f);
            return data;
        }

        private readonly HashSet<(string, GemmBlocking)> _warm = [];

        /// <summary>One timed run, in milliseconds; the first call for a candidate runs it once untimed before.</summary>
        public double Milliseconds(string variant, GemmBlocking blocking)
        {
            if (_warm.Add((variant, blocking))) Run(variant, blocking);
            long t0 = Stopwatch.GetTimestamp();
            Run(variant, blocking);
            return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        /// <summary>One run of a candidate into the output, which <see cref="Output"/> then reads.</summary>
        public void Run(string variant, GemmBlocking blocking)
        {
            fixed (float* x = _input, f = _filter, b = _bias, y = _output)
            {
                var target = ConvTarget.Compact(y, _g);
                if (variant == CpuBackend.DirectConvVariant)
                    CpuConvDirect.Run(_backend.Simd, _backend.Threads, x, f, b, target, _g, KernelActivation.Relu);
                else if (variant == CpuBackend.Im2colGemmVariant)
                    CpuConvKernels.Im2colGemm(_backend.Simd, blocking, _backend.Threads, x, f, null, b, target, _g, KernelActivation.Relu);
                else
                    CpuConvKernels.ImplicitGemm(_backend.Simd, blocking, _backend.Threads, x, f, null, b, target, _g, KernelActivation.Relu);
            }
        }

        public ReadOnlySpan<float> Input => _input;
        public ReadOnlySpan<float> Filter => _filter;
        public ReadOnlySpan<float> Bias => _bias;
        public ReadOnlySpan<float> Output => _output;
    }
}

/// <summary>The CPU as /proc/cpuinfo names it: model name, family and model numbers.</summary>
public static class CpuIdentity
{
    private static readonly Lazy<(string Model, int? Family, int? ModelNumber)> s_info = new(Read);

    /// <summary>"model name" of the first processor in /proc/cpuinfo (the architecture where it is missing).</summary>
    public static string ModelName => s_info.Value.Model;
    /// <summary>"cpu family" (25 for Zen 3/4), or null.</summary>
    public static int? Family => s_info.Value.Family;
    /// <summary>"model" within the family, or null.</summary>
    public static int? ModelNumber => s_info.Value.ModelNumber;

    /// <summary>"AMD EPYC (family 25, model 1)", or the architecture where /proc/cpuinfo is missing.</summary>
    public static string Description => Family is { } f && ModelNumber is { } m ? $"{ModelName} (family {f}, model {m})" : ModelName;

    private static (string, int?, int?) Read()
    {
        string model = RuntimeInformation.ProcessArchitecture.ToString();
        int? family = null, number = null;
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                if (name == "model name") model = value;
                else if (name == "cpu family" && int.TryParse(value, out int f)) family = f;
                else if (name == "model" && int.TryParse(value, out int m)) number = m;
                if (name == "flags") break;   // the first processor's block is enough
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return (model, family, number);
    }
}
