using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>
/// Every fast cpu kernel against the readable "reference" variant (CpuReferenceKernels), at every
/// SIMD level this processor has, on odd shapes that cut vectors and tiles and cross image and
/// thread boundaries, and the reference variants themselves against DoubleReference (an independent scalar double
/// implementation with its own window arithmetic), so a bug the variants share cannot pass.
/// </summary>
public unsafe class CpuKernelVariantTests
{
    public static IEnumerable<SimdLevel> Levels() => Enum.GetValues<SimdLevel>().Where(l => l <= SimdSupport.Detected);

    [Test]
    public void Variants_AreRegistered_FastOneFirst()
    {
        using var cpu = new CpuBackend();
        Assert.That(cpu.Variants.Available["conv2d"], Is.EqualTo(new[] { "implicit-gemm", "im2col-gemm", "direct", "reference" }));
        Assert.That(cpu.Variants.Available["dense"], Is.EqualTo(new[] { "gemm", "reference" }));
        Assert.That(cpu.Variants.Available["pool2d"], Is.EqualTo(new[] { "direct", "reference" }));
        Assert.That(cpu.Variants["conv2d"], Is.EqualTo("implicit-gemm"));
    }

    // The fast kernels write through pointers, so a short buffer must be refused up front.
    [Test]
    public void ShortOutputBuffer_IsRefused_NamingOpAndBuffer()
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(1, 4, 4, 2), new TensorShape(3, 3, 2, 3), new Conv2DOptions());
        using var cpu = new CpuBackend(threads: 1);
        using var x = cpu.Allocate(g.InputShape.Length);
        using var f = cpu.Allocate(g.FilterShape.Length);
        using var y = cpu.Allocate(g.OutputShape.Length - 1);
        var error = Assert.Throws<ArgumentException>(() => cpu.Conv2D(x, f, null, y, g, KernelActivation.None))!;
        Assert.That(error.Message, Does.Contain("Conv2D").And.Contain("output").And.Contain($"{g.OutputShape.Length}"));
    }

    // ---- Conv2D ----

    public sealed record ConvCase(int N, int H, int W, int C, int KH, int KW, int OC, Conv2DOptions Options, bool Bias = true)
    {
        public override string ToString() =>
            $"{N}x{H}x{W}x{C} k{KH}x{KW}->{OC} s{Options.StrideH}x{Options.StrideW} d{Options.DilationH}x{Options.DilationW} g{Options.Groups} {Options.Padding} {Options.Activation}";
    }

    private static Conv2DOptions Opt(int stride = 1, int dilation = 1, Padding? padding = null, int groups = 1, KernelActivation act = default) =>
        new() { StrideH = stride, StrideW = stride, DilationH = dilation, DilationW = dilation, Padding = padding ?? Padding.Valid, Groups = groups, Activation = act };

    private static readonly ConvCase[] ConvCases =
    [
        new(1, 9, 11, 5, 3, 3, 7, Opt(padding: Padding.Same, act: KernelActivation.Relu)),
        new(3, 10, 7, 6, 5, 5, 9, Opt(stride: 2), Bias: false),
        new(1, 13, 13, 3, 7, 7, 33, Opt(stride: 3, padding: Padding.Same, act: KernelActivation.LeakyRelu())),
        new(3, 8, 9, 4, 3, 3, 5, Opt(dilation: 2, padding: Padding.Same, act: KernelActivation.Sigmoid)),
        new(1, 7, 7, 8, 1, 1, 17, Opt(act: KernelActivation.Tanh)),                                  // pointwise: no im2col
        new(3, 6, 5, 8, 1, 1, 12, Opt(groups: 2)),                                            // grouped pointwise
        new(1, 9, 9, 6, 3, 3, 9, Opt(padding: Padding.Explicit(1, 2, 0, 1), groups: 3, act: KernelActivation.Relu)),
        new(3, 9, 8, 5, 3, 3, 5, Opt(stride: 2, padding: Padding.Same, groups: 5)),           // depthwise
        new(1, 8, 8, 4, 3, 3, 8, Opt(padding: Padding.Same, groups: 4, act: KernelActivation.Relu)), // depthwise, multiplier 2
        new(1, 11, 11, 19, 5, 5, 19, Opt(dilation: 2, padding: Padding.Same, groups: 19)),    // depthwise, vector + tail
        new(2, 15, 15, 40, 3, 3, 70, Opt(padding: Padding.Same, act: KernelActivation.Relu)),       // K 360 crosses a K block, 450 rows an M block
        new(1, 5, 12, 3, 1, 3, 4, Opt(dilation: 2, padding: Padding.Causal)),
        new(3, 12, 10, 7, 2, 4, 6, new Conv2DOptions { StrideH = 2, StrideW = 3, Padding = Padding.Same }),
        new(1, 4, 4, 2, 1, 1, 3, Opt(stride: 2)),                                             // strided 1×1 still needs im2col
    ];

    public static IEnumerable<TestCaseData> ConvCaseData() =>
        from variant in new[] { "implicit-gemm", "im2col-gemm" } from level in Levels() from c in ConvCases
        select new TestCaseData(variant, level, c).SetArgDisplayNames(variant, level.ToString(), c.ToString());

    [TestCaseSource(nameof(ConvCaseData))]
    public void Conv2D_GemmVariants_EqualReference(string variant, SimdLevel simd, ConvCase c)
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.N, c.H, c.W, c.C), new TensorShape(c.KH, c.KW, c.C / c.Options.Groups, c.OC), c.Options);
        var rng = new Random(42);
        float[] x = Random(rng, g.InputShape.Length), f = Random(rng, g.FilterShape.Length);
        float[]? bias = c.Bias ? Random(rng, g.OC) : null;
        int k = g.KH * g.KW * g.InChannelsPerGroup;

        var expected = RunConv(simd, "reference", x, f, bias, g, c.Options.Activation);
        var actual = RunConv(simd, variant, x, f, bias, g, c.Options.Activation);
        AssertClose(actual, expected, k, $"{variant} {simd} {c}");
    }

    // The variants are compared with the "reference" variant above; that one is checked here against DoubleReference,
    // whose window arithmetic is its own, so a bug in Conv2DGeometry shared by every variant cannot pass.
    [TestCaseSource(nameof(ConvCases))]
    public void Conv2D_ReferenceVariant_MatchesDoubleReference(ConvCase c)
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.N, c.H, c.W, c.C), new TensorShape(c.KH, c.KW, c.C / c.Options.Groups, c.OC), c.Options);
        var rng = new Random(43);
        float[] x = Random(rng, g.InputShape.Length), f = Random(rng, g.FilterShape.Length);
        float[]? bias = c.Bias ? Random(rng, g.OC) : null;
        var expected = DoubleReference.Conv2D(Nd.FromFloats(x, c.N, c.H, c.W, c.C), Nd.FromFloats(f, c.KH, c.KW, c.C / c.Options.Groups, c.OC),
            bias is null ? null : Array.ConvertAll(bias, v => (double)v), c.Options);
        Assert.That(g.OutputShape.ToArray(), Is.EqualTo(expected.Shape), $"output shape {c}");
        AssertClose(RunConv(SimdLevel.Scalar, "reference", x, f, bias, g, c.Options.Activation), Array.ConvertAll(expected.Data, v => (float)v),
            g.KH * g.KW * g.InChannelsPerGroup, $"reference variant {c}");
    }

    // The backend routes depthwise convs to the direct kernel; the GEMM paths must still be right for them.
    [TestCaseSource(nameof(Levels))]
    public void Conv2D_GemmKernels_OnDepthwiseConv_EqualReference(SimdLevel simd)
    {
        var o = Opt(stride: 2, padding: Padding.Same, groups: 6, act: KernelActivation.Relu);
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(2, 9, 7, 6), new TensorShape(3, 3, 1, 12), o);
        var rng = new Random(11);
        float[] x = Random(rng, g.InputShape.Length), f = Random(rng, g.FilterShape.Length), bias = Random(rng, g.OC);
        var expected = new float[g.OutputShape.Length];
        CpuReferenceKernels.Conv2D(x, f, bias, expected, g, o.Activation);
        var implicitGemm = new float[g.OutputShape.Length];
        var buffered = new float[g.OutputShape.Length];
        fixed (float* px = x, pf = f, pb = bias, py = implicitGemm, pz = buffered)
        {
            CpuConvKernels.ImplicitGemm(simd, 2, px, pf, pb, py, g, o.Activation);
            CpuConvKernels.Im2colGemm(simd, 2, px, pf, pb, pz, g, o.Activation);
        }
        AssertClose(implicitGemm, expected, 9, $"implicit {simd}");
        AssertClose(buffered, expected, 9, $"buffered {simd}");
    }

    private static float[] RunConv(SimdLevel simd, string variant, float[] x, float[] f, float[]? bias, in Conv2DGeometry g, KernelActivation act)
    {
        using var cpu = new CpuBackend(threads: 2, simd: simd);
        cpu.Variants.Select("conv2d", variant);
        using var bx = Upload(cpu, x);
        using var bf = Upload(cpu, f);
        using var bb = bias is null ? null : Upload(cpu, bias);
        using var by = cpu.Allocate(g.OutputShape.Length);
        cpu.Conv2D(bx, bf, bb, by, g, act);
        return Download(cpu, by);
    }

    // ---- Dense ----

    public static IEnumerable<TestCaseData> DenseCases() =>
        from level in Levels()
        from shape in new[] { (1, 1, 1), (3, 17, 33), (7, 300, 5), (13, 40, 530), (65, 33, 10) }
        from act in new[] { KernelActivation.None, KernelActivation.Relu, KernelActivation.Sigmoid }
        select new TestCaseData(level, shape.Item1, shape.Item2, shape.Item3, act);

    [TestCaseSource(nameof(DenseCases))]
    public void Dense_Gemm_EqualsReference(SimdLevel simd, int m, int k, int n, KernelActivation act)
    {
        var rng = new Random(m * 1000 + k + n);
        float[] x = Random(rng, m * k), w = Random(rng, k * n), bias = Random(rng, n);
        float[] Run(string variant)
        {
            using var cpu = new CpuBackend(threads: 2, simd: simd);
            cpu.Variants.Select("dense", variant);
            using var bx = Upload(cpu, x);
            using var bw = Upload(cpu, w);
            using var bb = Upload(cpu, bias);
            using var by = cpu.Allocate(m * n);
            cpu.Dense(bx, bw, bb, by, m, k, n, act);
            return Download(cpu, by);
        }
        AssertClose(Run("gemm"), Run("reference"), k, $"{simd} {m}x{k}x{n} {act}");
    }

    [TestCase(3, 17, 33, "relu")]
    [TestCase(13, 40, 530, "sigmoid")]
    public void Dense_ReferenceVariant_MatchesDoubleReference(int m, int k, int n, string activation)
    {
        var act = activation == "relu" ? KernelActivation.Relu : KernelActivation.Sigmoid;
        var rng = new Random(m + k + n);
        float[] x = Random(rng, m * k), w = Random(rng, k * n), bias = Random(rng, n);
        using var cpu = new CpuBackend(threads: 2, simd: SimdLevel.Scalar);
        cpu.Variants.Select("dense", "reference");
        using var bx = Upload(cpu, x);
        using var bw = Upload(cpu, w);
        using var bb = Upload(cpu, bias);
        using var by = cpu.Allocate(m * n);
        cpu.Dense(bx, bw, bb, by, m, k, n, act);
        var expected = DoubleReference.Dense(Nd.FromFloats(x, m, k), Nd.FromFloats(w, k, n), Array.ConvertAll(bias, v => (double)v), act);
        AssertClose(Download(cpu, by), Array.ConvertAll(expected.Data, v => (float)v), k, $"reference variant {m}x{k}x{n} {act}");
    }

    // ---- Pooling ----

    public sealed record PoolCase(int N, int H, int W, int C, Pool2DOptions Options)
    {
        public override string ToString() =>
            $"{N}x{H}x{W}x{C} p{Options.PoolH}x{Options.PoolW} s{Options.StrideH}x{Options.StrideW} d{Options.DilationH} {Options.Padding} ceil={Options.CeilMode} includePad={Options.CountIncludePad}";
    }

    private static readonly PoolCase[] PoolCases =
    [
        new(1, 8, 8, 16, Pool2DOptions.Square(2)),
        new(3, 9, 7, 21, Pool2DOptions.Square(3, 2, Padding.Same)),                            // SAME: odd pixel bottom/right
        new(1, 10, 11, 3, Pool2DOptions.Square(3, 1, Padding.Same)),
        new(3, 7, 9, 35, Pool2DOptions.Square(2, 3)),
        new(1, 9, 9, 5, Pool2DOptions.Square(3, 2, Padding.Explicit(1)) with { CountIncludePad = true }),
        new(1, 9, 9, 5, Pool2DOptions.Square(3, 2, Padding.Explicit(1, 0, 2, 1))),
        new(3, 5, 6, 9, Pool2DOptions.Square(2, 2) with { CeilMode = true }),
        new(1, 7, 7, 17, Pool2DOptions.Square(3, 2, Padding.Explicit(1)) with { CeilMode = true, CountIncludePad = true }),
        new(1, 11, 10, 8, Pool2DOptions.Square(3, 1, Padding.Same) with { DilationH = 2, DilationW = 2 }),
    ];

    public static IEnumerable<TestCaseData> PoolCaseData() =>
        from level in Levels() from c in PoolCases from kind in new[] { PoolKind.Max, PoolKind.Average }
        select new TestCaseData(level, c, kind).SetArgDisplayNames(level.ToString(), c.ToString(), kind.ToString());

    [TestCaseSource(nameof(PoolCaseData))]
    public void Pool2D_Direct_EqualsReference(SimdLevel simd, PoolCase c, PoolKind kind)
    {
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(c.N, c.H, c.W, c.C), c.Options);
        float[] x = Random(new Random(7), g.InputShape.Length);
        float[] Run(string variant)
        {
            using var cpu = new CpuBackend(threads: 2, simd: simd);
            cpu.Variants.Select("pool2d", variant);
            using var bx = Upload(cpu, x);
            using var by = cpu.Allocate(g.OutputShape.Length);
            cpu.Pool2D(bx, by, g, kind);
            return Download(cpu, by);
        }
        AssertClose(Run("direct"), Run("reference"), g.PoolH * g.PoolW, $"{simd} {c} {kind}");
    }

    // The "reference" variant against DoubleReference's own windows and average divisor (see the conv case above).
    [TestCaseSource(nameof(PoolCases))]
    public void Pool2D_ReferenceVariant_MatchesDoubleReference(PoolCase c)
    {
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(c.N, c.H, c.W, c.C), c.Options);
        float[] x = Random(new Random(8), g.InputShape.Length);
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            var expected = DoubleReference.Pool2D(Nd.FromFloats(x, c.N, c.H, c.W, c.C), c.Options, kind);
            Assert.That(g.OutputShape.ToArray(), Is.EqualTo(expected.Shape), $"output shape {c}");
            using var cpu = new CpuBackend(threads: 2, simd: SimdLevel.Scalar);
            cpu.Variants.Select("pool2d", "reference");
            using var bx = Upload(cpu, x);
            using var by = cpu.Allocate(g.OutputShape.Length);
            cpu.Pool2D(bx, by, g, kind);
            AssertClose(Download(cpu, by), Array.ConvertAll(expected.Data, v => (float)v), g.PoolH * g.PoolW, $"reference variant {c} {kind}");
        }
    }

    public static IEnumerable<TestCaseData> GlobalPoolCases() =>
        from level in Levels() from n in new[] { 1, 3 } from kind in new[] { PoolKind.Max, PoolKind.Average }
        select new TestCaseData(level, n, kind);

    [TestCaseSource(nameof(GlobalPoolCases))]
    public void GlobalPool_EqualsReference(SimdLevel simd, int n, PoolKind kind)
    {
        const int spatial = 49, channels = 37;
        float[] x = Random(new Random(n), n * spatial * channels);
        var expected = new float[n * channels];
        CpuReferenceKernels.GlobalPool(x, expected, n, spatial, channels, kind);
        using var cpu = new CpuBackend(threads: 2, simd: simd);
        using var bx = Upload(cpu, x);
        using var by = cpu.Allocate(n * channels);
        cpu.GlobalPool(bx, by, n, spatial, channels, kind);
        AssertClose(Download(cpu, by), expected, spatial, $"{simd} n={n} {kind}");
    }

    // ---- Elementwise ----

    public static IEnumerable<TestCaseData> ActivationCases() =>
        from level in Levels()
        from act in new[] { KernelActivation.None, KernelActivation.Relu, KernelActivation.LeakyRelu(0.3f), KernelActivation.Sigmoid, KernelActivation.Tanh }
        select new TestCaseData(level, act);

    [TestCaseSource(nameof(ActivationCases))]
    public void Activate_EqualsReference(SimdLevel simd, KernelActivation act)
    {
        // 150 001 floats: two thread chunks and a ragged vector tail.
        float[] x = Random(new Random(2), 150_001, scale: 8);
        var expected = new float[x.Length];
        CpuReferenceKernels.Activate(x, expected, act);
        using var cpu = new CpuBackend(threads: 2, simd: simd);
        using var bx = Upload(cpu, x);
        using var by = cpu.Allocate(x.Length);
        cpu.Activate(bx, by, x.Length, act);
        AssertClose(Download(cpu, by), expected, 1, $"{simd} {act}");
    }

    public static IEnumerable<TestCaseData> SoftmaxCases() =>
        from level in Levels() from shape in new[] { (1, 1), (3, 10), (70, 1001) } from log in new[] { false, true }
        select new TestCaseData(level, shape.Item1, shape.Item2, log);

    [TestCaseSource(nameof(SoftmaxCases))]
    public void Softmax_EqualsReference(SimdLevel simd, int rows, int cols, bool log)
    {
        float[] x = Random(new Random(rows + cols), rows * cols, scale: 30);
        var expected = new float[x.Length];
        CpuReferenceKernels.Softmax(x, expected, rows, cols, log);
        using var cpu = new CpuBackend(threads: 2, simd: simd);
        using var bx = Upload(cpu, x);
        using var by = cpu.Allocate(x.Length);
        cpu.Softmax(bx, by, rows, cols, log);
        AssertClose(Download(cpu, by), expected, cols, $"{simd} {rows}x{cols} log={log}");
        // In place (output = input) gives the same rows.
        cpu.Softmax(bx, bx, rows, cols, log);
        AssertClose(Download(cpu, bx), expected, cols, $"{simd} {rows}x{cols} log={log} in place");
    }

    [TestCaseSource(nameof(Levels))]
    public void Add_EqualsReference(SimdLevel simd)
    {
        var rng = new Random(4);
        float[] a = Random(rng, 140_003), b = Random(rng, 140_003);
        var expected = new float[a.Length];
        CpuReferenceKernels.Add(a, b, expected);
        using var cpu = new CpuBackend(threads: 2, simd: simd);
        using var ba = Upload(cpu, a);
        using var bb = Upload(cpu, b);
        using var by = cpu.Allocate(a.Length);
        cpu.Add(ba, bb, by, a.Length);
        Assert.That(Download(cpu, by), Is.EqualTo(expected));
    }

    [Test]
    public void Concat_EqualsReference()
    {
        int[] channels = [3, 1, 17];
        const int pixels = 5003;
        var rng = new Random(9);
        float[][] inputs = channels.Select(c => Random(rng, pixels * c)).ToArray();
        var expected = new float[pixels * channels.Sum()];
        CpuReferenceKernels.Concat(inputs, channels, expected, pixels);
        using var cpu = new CpuBackend(threads: 2);
        var buffers = inputs.Select(x => Upload(cpu, x)).ToList();
        using var by = cpu.Allocate(expected.Length);
        cpu.Concat(buffers, channels, by, pixels);
        Assert.That(Download(cpu, by), Is.EqualTo(expected));
        buffers.ForEach(b => b.Dispose());
    }

    [TestCase(PadMode.Zero)]
    [TestCase(PadMode.Reflect)]
    [TestCase(PadMode.Edge)]
    public void Pad2D_EqualsReference(PadMode mode)
    {
        var g = Pad2DGeometry.Create("Pad2D", new TensorShape(3, 5, 6, 7), 2, 1, 3, 4, mode);
        float[] x = Random(new Random(1), g.InputShape.Length);
        var expected = new float[g.OutputShape.Length];
        CpuReferenceKernels.Pad2D(x, expected, g, mode);
        using var cpu = new CpuBackend(threads: 2);
        using var bx = Upload(cpu, x);
        using var by = cpu.Allocate(expected.Length);
        cpu.Pad2D(bx, by, g, mode);
        Assert.That(Download(cpu, by), Is.EqualTo(expected));
    }

    // ---- helpers ----

    private static float[] Random(Random rng, long length, float scale = 1f)
    {
        var data = new float[length];
        for (long i = 0; i < length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return data;
    }

    private static DeviceBuffer Upload(CpuBackend cpu, float[] data)
    {
        var buffer = cpu.Allocate(data.Length);
        cpu.Upload(data, buffer);
        return buffer;
    }

    private static float[] Download(CpuBackend cpu, DeviceBuffer buffer)
    {
        var data = new float[buffer.Length];
        cpu.Download(buffer, data);
        return data;
    }

    /// <summary>
    /// Relative tolerance 1e-5·√terms (at least one unit of absolute scale): different summation
    /// order and FMA rounding move a float sum of n terms by about √n ulps; a wrong index moves it by O(1).
    /// </summary>
    private static void AssertClose(float[] actual, float[] expected, int terms, string context)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), context);
        double tolerance = 1e-5 * Math.Sqrt(Math.Max(1, terms));
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i]))))
                Assert.Fail($"{context}: element {i} is {actual[i]}, reference {expected[i]}.");
    }
}
