using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>
/// The tuning cache and the tuner's bookkeeping, without depending on what any timing says: keys, persistence,
/// fallback on a bad file, the choice rule (given fake timings), and that a tuned conv still computes the reference.
/// </summary>
[NonParallelizable]
public class CpuTuningTests
{
    private string _folder = "";
    private string? _savedPath, _savedMode;

    [SetUp]
    public void UseTemporaryCache()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"convengine-tuning-{Guid.NewGuid():N}");
        _savedPath = Environment.GetEnvironmentVariable("CONVENGINE_TUNING_CACHE");
        _savedMode = Environment.GetEnvironmentVariable("CONVENGINE_TUNING");
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING_CACHE", Path.Combine(_folder, "tuning.json"));
    }

    [TearDown]
    public void RestoreCache()
    {
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING_CACHE", _savedPath);
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING", _savedMode);
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private string CachePath => Path.Combine(_folder, "tuning.json");

    private static Conv2DGeometry Geometry(int n, int size, int c, int oc, int kernel = 3, int groups = 1) =>
        Conv2DGeometry.Create("Conv2D", new TensorShape(n, size, size, c), new TensorShape(kernel, kernel, c / groups, oc),
            new Conv2DOptions { Padding = Padding.Same, Groups = groups });

    [Test]
    public void Keys_NameTheShapeTheThreadsAndTheSimdLevel()
    {
        using var two = new CpuBackend(threads: 2, simd: SimdLevel.Scalar, tuning: TuningMode.Off);
        using var one = new CpuBackend(threads: 1, simd: SimdLevel.Scalar, tuning: TuningMode.Off);
        var g = Geometry(1, 20, 8, 16);
        Assert.That(CpuTuner.Key(two, g), Is.EqualTo(CpuTuner.Key(two, Geometry(1, 20, 8, 16))));
        Assert.That(CpuTuner.Key(two, g), Is.Not.EqualTo(CpuTuner.Key(one, g)));
        Assert.That(CpuTuner.Key(two, g), Is.Not.EqualTo(CpuTuner.Key(two, Geometry(2, 20, 8, 16))));
        Assert.That(CpuTuner.Key(two, g), Is.Not.EqualTo(CpuTuner.Key(two, Geometry(1, 21, 8, 16))));
        Assert.That(CpuTuner.Key(two, g), Does.Contain(CpuIdentity.ModelName).And.Contain("Scalar").And.Contain("2 threads"));
    }

    [Test]
    public void Cache_KeepsEntriesAcrossInstances_AndClearDeletesTheFile()
    {
        var cache = new TuningCache(CachePath);
        cache.Set("machine | conv2d a", new TuningEntry("im2col-gemm", new GemmBlocking(128, 512, 600), 1.5));
        cache.Set("machine | conv2d b", new TuningEntry("implicit-gemm", new GemmBlocking(256, 256, 8190), 0.25));
        var reread = new TuningCache(CachePath);
        Assert.That(reread.LoadProblem, Is.Null);
        Assert.That(reread.TryGet("machine | conv2d a", out var a), Is.True);
        Assert.That(a, Is.EqualTo(new TuningEntry("im2col-gemm", new GemmBlocking(128, 512, 600), 1.5)));
        Assert.That(reread.Count, Is.EqualTo(2));
        Assert.That(Directory.GetFiles(_folder), Is.EqualTo(new[] { CachePath }), "no temporary file is left beside the cache");
        Assert.That(reread.Clear(), Is.EqualTo(2));
        Assert.That(File.Exists(CachePath), Is.False);
    }

    [TestCase("{ not json")]
    [TestCase("{\"version\": 99, \"entries\": {}}")]
    // Version 2: chosen by the one-shot timing before the interleaved rounds; its entries are re-tuned, not trusted.
    [TestCase("{\"version\": 2, \"entries\": {\"m | conv2d x\": {\"variant\": \"im2col-gemm\", \"kc\": 256, \"nc\": 256, \"mc\": 4092, \"ms\": 1}}}")]
    // Version 3: chosen before the AVX-512 direct tile and the short GEMM edge tiles, and without timing few-channel convs.
    [TestCase("{\"version\": 3, \"entries\": {\"m | conv2d x\": {\"variant\": \"direct\", \"kc\": 256, \"nc\": 256, \"mc\": 4092, \"ms\": 1}}}")]
    [TestCase("[1, 2]")]
    public void Cache_WithAnUnreadableFile_IsIgnoredAndRewritten(string content)
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(CachePath, content);
        var cache = new TuningCache(CachePath);
        Assert.That(cache.LoadProblem, Does.Contain(CachePath));
        Assert.That(cache.Count, Is.Zero);
        cache.Set("k", new TuningEntry("implicit-gemm", new GemmBlocking(256, 256, 8190), 1));
        Assert.That(new TuningCache(CachePath).TryGet("k", out _), Is.True);
    }

    [Test]
    public void Cache_PathFollowsXdgCacheHome()
    {
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING_CACHE", null);
        string? saved = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _folder);
            Assert.That(TuningCache.DefaultPath, Is.EqualTo(Path.Combine(_folder, "convengine", "tuning.json")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved);
        }
    }

    [Test]
    public void Choose_TakesTheFastestCandidate_FirstOnATie()
    {
        var candidates = CpuTuner.Candidates(SimdLevel.Avx2);
        Assert.That(candidates, Has.Count.GreaterThan(4));
        Assert.That(candidates.Select(c => c.Variant).Distinct(), Is.EquivalentTo(new[] { "implicit-gemm", "im2col-gemm", "direct" }));
        var times = candidates.Select((c, i) => (c, ms: i == 3 || i == 5 ? 1.0 : 2.0 + i)).ToDictionary(t => t.c, t => t.ms);
        var best = CpuTuner.Choose(candidates, (v, b) => times[(v, b)]);
        Assert.That((best.Variant, best.Blocking), Is.EqualTo(candidates[3]));
        Assert.That(best.Milliseconds, Is.EqualTo(1.0));
    }

    [Test]
    public void Choose_KeepsTheDefault_UnlessAnotherBeatsItByTheMargin()
    {
        var candidates = CpuTuner.Candidates(SimdLevel.Avx2).ToList();
        double Within(int i) => i == 0 ? 1.0 : i == 2 ? 1.0 - CpuTuner.Margin / 2 : 3.0;
        var kept = CpuTuner.Choose(candidates, (v, b) => Within(candidates.IndexOf((v, b))));
        Assert.That((kept.Variant, kept.Blocking), Is.EqualTo(candidates[0]), "faster by less than the margin");
        double Beyond(int i) => i == 0 ? 1.0 : i == 2 ? 1.0 - 2 * CpuTuner.Margin : 3.0;
        var replaced = CpuTuner.Choose(candidates, (v, b) => Beyond(candidates.IndexOf((v, b))));
        Assert.That((replaced.Variant, replaced.Blocking), Is.EqualTo(candidates[2]), "faster by twice the margin");
    }

    [Test]
    public void Choose_TimesTheCandidatesInTurn_AndKeepsEachOnesFastestRound()
    {
        var candidates = CpuTuner.Candidates(SimdLevel.Avx2).ToList();
        var calls = new List<int>();
        // The default is the fastest but for one slow spell in the first round; a one-shot timing would have dropped it.
        var best = CpuTuner.Choose(candidates, (v, b) =>
        {
            int i = candidates.IndexOf((v, b));
            calls.Add(i);
            return i == 0 ? (calls.Count == 1 ? 10.0 : 1.0) : 2.0 + i;
        });
        Assert.That(calls, Is.EqualTo(Enumerable.Repeat(Enumerable.Range(0, candidates.Count), CpuTuner.Rounds).SelectMany(r => r)));
        Assert.That((best.Variant, best.Blocking), Is.EqualTo(candidates[0]));
        Assert.That(best.Milliseconds, Is.EqualTo(1.0));
    }

    [TestCase("off", TuningMode.Off)]
    [TestCase("0", TuningMode.Off)]
    [TestCase("on", TuningMode.On)]
    [TestCase("", TuningMode.On)]
    public void Mode_ComesFromTheEnvironment(string value, TuningMode expected)
    {
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING", value);
        Assert.That(CpuTuner.ModeFromEnvironment(), Is.EqualTo(expected));
    }

    [Test]
    public void Mode_RejectsAnUnknownValue()
    {
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING", "sometimes");
        Assert.That(() => CpuTuner.ModeFromEnvironment(), Throws.ArgumentException.With.Message.Contains("CONVENGINE_TUNING"));
    }

    [Test]
    public void TuningOff_UsesTheDefaults_AndWritesNothing()
    {
        using var cpu = new CpuBackend(threads: 2, tuning: TuningMode.Off);
        var g = Geometry(1, 40, 64, 64);
        Assert.That(g.Flops, Is.GreaterThan(CpuTuner.MinFlops));
        Assert.That(cpu.BlockingFor(g), Is.EqualTo(GemmBlocking.Default(cpu.Simd)));
        Assert.That(cpu.Conv2DVariantFor(g), Is.EqualTo(CpuBackend.ImplicitGemmVariant));
        Assert.That(File.Exists(CachePath), Is.False);
    }

    [Test]
    public void TuningOn_RemembersAChoiceForTheShape_AndTheTunedConvStillEqualsTheReference()
    {
        using var cpu = new CpuBackend(threads: 2, tuning: TuningMode.On);
        var g = Geometry(1, 40, 64, 64);
        var small = Geometry(1, 6, 4, 4);
        Assert.That(cpu.BlockingFor(small), Is.EqualTo(GemmBlocking.Default(cpu.Simd)), "tiny convs are not timed");
        Assert.That(File.Exists(CachePath), Is.False);

        var blocking = cpu.BlockingFor(g);
        var entries = new TuningCache(CachePath).Entries;
        Assert.That(entries.Keys, Is.EqualTo(new[] { CpuTuner.Key(cpu, g) }));
        var entry = entries.Values.Single();
        Assert.That(CpuTuner.Candidates(cpu.Simd), Does.Contain((entry.Variant, entry.Blocking)));
        Assert.That(blocking, Is.EqualTo(entry.Blocking));
        Assert.That(cpu.Conv2DVariantFor(g), Is.EqualTo(entry.Variant));

        var rng = new Random(3);
        float[] x = Values(rng, g.InputShape.Length), f = Values(rng, g.FilterShape.Length), b = Values(rng, g.OC);
        var expected = new float[g.OutputShape.Length];
        CpuReferenceKernels.Conv2D(x, f, b, expected, g, KernelActivation.Relu);
        using var bx = cpu.Allocate(x.Length); cpu.Upload(x, bx);
        using var bf = cpu.Allocate(f.Length); cpu.Upload(f, bf);
        using var bb = cpu.Allocate(b.Length); cpu.Upload(b, bb);
        using var by = cpu.Allocate(expected.Length);
        cpu.Conv2D(bx, bf, bb, by, g, KernelActivation.Relu);
        var actual = new float[expected.Length];
        cpu.Download(by, actual);
        for (int i = 0; i < actual.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-4 * (1 + Math.Abs(expected[i]))), $"element {i}");

        // A selected variant wins over the tuner's choice.
        cpu.Variants.Select("conv2d", "reference");
        Assert.That(cpu.Conv2DVariantFor(g), Is.EqualTo("reference"));
    }

    // The input gradient is the forward conv of gradOut with the flipped filter; with tuning on it runs the kernel the
    // cache names for that conv's shape (seeded here, so no timing decides), and each of them must give the chain rule.
    [TestCase(CpuBackend.ImplicitGemmVariant)]
    [TestCase(CpuBackend.Im2colGemmVariant)]
    [TestCase(CpuBackend.DirectConvVariant)]
    public void TuningOn_InputGradient_RunsTheTunedKernelOfItsFlippedConv_AndEqualsTheReference(string tuned)
    {
        var options = new Conv2DOptions { Padding = Padding.Same };
        int[] inputDims = [4, 12, 11, 40], filterDims = [3, 3, 40, 70];
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(inputDims), new TensorShape(filterDims), options);
        var flipped = CpuConvDataGradient.Flipped(g);
        Assert.That(flipped.Flops, Is.GreaterThan(CpuTuner.MinFlops), "the flipped conv is big enough to be tuned");
        using var cpu = new CpuBackend(threads: 2, tuning: TuningMode.On);
        // KC 128 and NC 16 cut the flipped GEMM (K 630, N 40) into several K and N blocks.
        new TuningCache(CachePath).Set(CpuTuner.Key(cpu, flipped), new TuningEntry(tuned, new GemmBlocking(128, 16, 600), 1));
        Assert.That(cpu.Tuning.For(cpu, flipped).Variant, Is.EqualTo(tuned));

        var rng = new Random(11);
        float[] f = Values(rng, g.FilterShape.Length), upstream = Values(rng, g.OutputShape.Length);
        var (expected, _) = DoubleReference.Conv2DBackward(new Nd(new double[g.InputShape.Length], inputDims), Nd.FromFloats(f, filterDims),
            Nd.FromFloats(upstream, g.OutputShape.ToArray()), options);
        using var bf = cpu.Allocate(f.Length); cpu.Upload(f, bf);
        using var bdy = cpu.Allocate(upstream.Length); cpu.Upload(upstream, bdy);
        using var bdx = cpu.Allocate(g.InputShape.Length);
        cpu.Conv2DBackwardData(bdy, bf, bdx, g);
        var actual = new float[g.InputShape.Length];
        cpu.Download(bdx, actual);
        Approx.AssertClose(expected.Data, actual, g.KH * g.KW * g.OC, $"input gradient on {tuned}");
    }

    // An image's first conv (3 input channels): direct where nothing is tuned, the tuner's kernel where it is (seeded here),
    // an explicit selection as selected; each of them equals the reference.
    [TestCase(TuningMode.Off, null, CpuBackend.DirectConvVariant)]
    [TestCase(TuningMode.On, CpuBackend.ImplicitGemmVariant, CpuBackend.ImplicitGemmVariant)]
    [TestCase(TuningMode.On, CpuBackend.Im2colGemmVariant, CpuBackend.Im2colGemmVariant)]
    [TestCase(TuningMode.On, CpuBackend.DirectConvVariant, CpuBackend.DirectConvVariant)]
    public void FewInputChannels_RunTheTunedKernel_AndEqualTheReference(TuningMode mode, string? tuned, string expectedKernel)
    {
        var options = new Conv2DOptions { StrideH = 2, StrideW = 2 };
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(1, 89, 87, 3), new TensorShape(7, 7, 3, 64), options);
        Assert.That(g.Flops, Is.GreaterThan(CpuTuner.MinFlops), "big enough to be tuned");
        using var cpu = new CpuBackend(threads: 2, tuning: mode);
        if (tuned is not null) new TuningCache(CachePath).Set(CpuTuner.Key(cpu, g), new TuningEntry(tuned, GemmBlocking.Default(cpu.Simd), 1));
        Assert.That(cpu.Conv2DVariantFor(g), Is.EqualTo(expectedKernel));

        var rng = new Random(5);
        float[] x = Values(rng, g.InputShape.Length), f = Values(rng, g.FilterShape.Length), b = Values(rng, g.OC);
        var expected = DoubleReference.Conv2D(Nd.FromFloats(x, 1, 89, 87, 3), Nd.FromFloats(f, 7, 7, 3, 64), Array.ConvertAll(b, v => (double)v), options);
        using var bx = cpu.Allocate(x.Length); cpu.Upload(x, bx);
        using var bf = cpu.Allocate(f.Length); cpu.Upload(f, bf);
        using var bb = cpu.Allocate(b.Length); cpu.Upload(b, bb);
        using var by = cpu.Allocate(g.OutputShape.Length);
        cpu.Conv2D(bx, bf, bb, by, g, KernelActivation.None);
        var actual = new float[g.OutputShape.Length];
        cpu.Download(by, actual);
        Approx.AssertClose(expected.Data, actual, g.KH * g.KW * g.C, $"conv on {expectedKernel}");

        cpu.Variants.Select("conv2d", CpuBackend.Im2colGemmVariant);
        Assert.That(cpu.Conv2DVariantFor(g), Is.EqualTo(CpuBackend.Im2colGemmVariant), "a selection wins over the tuner");
    }

    private static float[] Values(Random rng, long n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }
}
