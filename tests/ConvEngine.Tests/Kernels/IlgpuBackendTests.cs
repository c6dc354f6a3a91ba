using System.Reflection;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Kernels.Ilgpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>
/// The ILGPU kernels: forward ops against the cpu backend's reference kernels on the same random data;
/// backward ops, losses and optimizers against double-precision references and finite differences
/// written here. Here (no GPU) they run on ILGPU's CPU accelerator; on a machine with a GPU the cuda
/// and opencl fixtures run the very same checks on it. Shapes stay small: the CPU accelerator
/// simulates every GPU thread.
/// </summary>
[TestFixture(IlgpuDeviceKind.Cpu)]
[TestFixture(IlgpuDeviceKind.Cuda)]
[TestFixture(IlgpuDeviceKind.OpenCL)]
public class IlgpuBackendTests(IlgpuDeviceKind kind)
{
    private IlgpuBackend _ilgpu = null!;
    private CpuBackend _cpu = null!;

    [OneTimeSetUp]
    public void Open()
    {
        try
        {
            _ilgpu = IlgpuBackend.Create(kind);
        }
        catch (BackendUnavailableException e) when (kind != IlgpuDeviceKind.Cpu)
        {
            Assert.Ignore($"No {kind} device on this machine: {e.Message}");
        }
        _cpu = new CpuBackend(threads: 1);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _ilgpu?.Dispose();
        _cpu?.Dispose();
    }

    // ---------------------------------------------------------------- creation and listing

    [Test]
    public void Backend_IsNamedAndDescribed()
    {
        string name = kind switch { IlgpuDeviceKind.Cuda => "cuda", IlgpuDeviceKind.OpenCL => "opencl", _ => "ilgpu-cpu" };
        Assert.That(_ilgpu.Name, Is.EqualTo(name));
        Assert.That(_ilgpu.Device.Backend, Is.EqualTo(name));
        Assert.That(_ilgpu.Device.Parallelism, Does.Contain(kind == IlgpuDeviceKind.Cpu ? "threads" : kind == IlgpuDeviceKind.Cuda ? "multiprocessors" : "compute units"));
        Assert.That(_ilgpu.Device.MemoryBytes, Is.GreaterThan(0));
    }

    [Test]
    public void ListDevices_DoesNotThrow_AndIncludesTheCpuAccelerator()
    {
        IReadOnlyList<DeviceInfo> devices = [];
        Assert.DoesNotThrow(() => devices = IlgpuBackend.ListDevices());
        Assert.That(devices.Select(d => d.Backend), Does.Contain("ilgpu-cpu"));
        Assert.DoesNotThrow(() => Backends.ListDevices());
    }

    [TestCase("cuda", "CUDA")]
    [TestCase("opencl", "OpenCL")]
    public void MissingAccelerator_ThrowsBackendUnavailable_NamingWhatWasSought_NoFallback(string name, string sought)
    {
        if (IlgpuBackend.ListDevices().Any(d => d.Backend == name))
            Assert.Ignore($"This machine has a {sought} device; the refusal cannot be observed here.");
        var error = Assert.Throws<BackendUnavailableException>(() => Backends.Create(name).Dispose())!;
        Assert.That(error.Message, Does.Contain($"'{name}'").And.Contain(sought).And.Contain("ILGPU sees"));
    }

    [Test]
    public void BuffersOfAnotherBackend_AreRefusedWithAClearMessage()
    {
        using var foreign = _cpu.Allocate(4);
        using var own = _ilgpu.Allocate(4);
        var error = Assert.Throws<ArgumentException>(() => _ilgpu.Add(foreign, own, own, 4))!;
        Assert.That(error.Message, Does.Contain("'cpu'").And.Contain(_ilgpu.Name));
    }

    // A GPU does not bounds-check: a buffer shorter than the geometry needs must be refused before launch, by name.
    [Test]
    public void ShortBuffer_IsRefusedBeforeLaunch_NamingOpAndBuffer()
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(1, 4, 4, 2), new TensorShape(3, 3, 2, 3), new Conv2DOptions());
        using var x = _ilgpu.Allocate(g.InputShape.Length);
        using var f = _ilgpu.Allocate(g.FilterShape.Length);
        using var y = _ilgpu.Allocate(g.OutputShape.Length - 1);
        var error = Assert.Throws<ArgumentException>(() => _ilgpu.Conv2D(x, f, null, y, g, KernelActivation.None))!;
        Assert.That(error.Message, Does.Contain("Conv2D").And.Contain("output").And.Contain($"{g.OutputShape.Length}"));
    }

    [Test]
    public void UploadCopyDownload_RoundTrips()
    {
        float[] data = Random(10, seed: 1);
        using var a = Up(_ilgpu, data);
        using var b = _ilgpu.Allocate(10);
        _ilgpu.Copy(a, b, 10);
        Assert.That(Down(_ilgpu, b), Is.EqualTo(data));
    }

    // ---------------------------------------------------------------- forward ops against the cpu backend

    private static IEnumerable<TestCaseData> ConvCases()
    {
        var shapes = new (string Name, int[] Input, int[] Filter, Conv2DOptions Options)[]
        {
            ("valid relu", [2, 7, 6, 3], [3, 3, 3, 8], new Conv2DOptions { Activation = KernelActivation.Relu }),
            ("same stride 2", [1, 8, 8, 4], [3, 3, 4, 20], new Conv2DOptions { Padding = Padding.Same, Activation = KernelActivation.None }.WithStrides(2)),
            ("same dilation 2 sigmoid", [2, 9, 7, 6], [3, 2, 6, 18], new Conv2DOptions { Padding = Padding.Same, Activation = KernelActivation.Sigmoid }.WithDilation(2)),
            ("groups 2 leaky", [1, 6, 6, 4], [3, 3, 2, 32], new Conv2DOptions { Padding = Padding.Same, Groups = 2, Activation = KernelActivation.LeakyRelu(0.2f) }),
            ("depthwise tanh", [1, 6, 5, 6], [3, 3, 1, 6], new Conv2DOptions { Padding = Padding.Same, Groups = 6, Activation = KernelActivation.Tanh }),
            ("explicit asymmetric pads", [2, 5, 5, 2], [2, 3, 2, 17], new Conv2DOptions { Padding = Padding.Explicit(1, 2, 0, 1) }),
            ("1x1 many channels", [2, 4, 4, 40], [1, 1, 40, 70], new Conv2DOptions()),
            ("few pixels long K (split-K)", [1, 3, 3, 32], [3, 3, 32, 16], new Conv2DOptions { Padding = Padding.Same, Activation = KernelActivation.Relu }),
        };
        foreach (var variant in new[] { "direct", "implicit-gemm-tiled" })
        foreach (var (name, input, filter, options) in shapes)
        foreach (bool bias in new[] { true, false })
            yield return new TestCaseData(variant, input, filter, options, bias).SetArgDisplayNames(variant, name, bias ? "bias" : "no bias");
    }

    // keras-semantics.md A: convolution is cross-correlation with the TF SAME split; the cpu reference implements it.
    [TestCaseSource(nameof(ConvCases))]
    public void Conv2D_MatchesCpuReference(string variant, int[] inputShape, int[] filterShape, Conv2DOptions options, bool withBias)
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(inputShape), new TensorShape(filterShape), options);
        float[] x = Random(g.InputShape.Length, 2), f = Random(g.FilterShape.Length, 3), bias = Random(g.OC, 4);
        _ilgpu.Variants.Select("conv2d", variant);
        try
        {
            AssertBackendsAgree(be =>
            {
                using var xb = Up(be, x);
                using var fb = Up(be, f);
                using var bb = withBias ? Up(be, bias) : null;
                using var yb = be.Allocate(g.OutputShape.Length);
                be.Conv2D(xb, fb, bb, yb, g, options.Activation);
                return Down(be, yb);
            });
        }
        finally { _ilgpu.Variants.Select("conv2d", "implicit-gemm-tiled"); }
    }

    private static IEnumerable<TestCaseData> PoolCases()
    {
        var cases = new (string Name, int[] Input, Pool2DOptions Options)[]
        {
            ("2x2 valid", [2, 5, 7, 3], Pool2DOptions.Square(2)),
            ("3x3 stride 2 same (pads excluded)", [1, 7, 8, 2], Pool2DOptions.Square(3, 2, Padding.Same)),
            ("3x3 explicit pad 1 count_include_pad", [1, 6, 6, 2], Pool2DOptions.Square(3, 2, Padding.Explicit(1)) with { CountIncludePad = true }),
            ("2x2 ceil mode", [1, 5, 5, 2], Pool2DOptions.Square(2, 2, Padding.Explicit(0)) with { CeilMode = true }),
            ("3x3 explicit pad 1 ceil mode", [1, 6, 7, 1], Pool2DOptions.Square(3, 2, Padding.Explicit(1)) with { CeilMode = true }),
            ("2x2 dilation 2 stride 1", [1, 6, 6, 2], Pool2DOptions.Square(2, 1) with { DilationH = 2, DilationW = 2 }),
        };
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        foreach (var (name, input, options) in cases)
            yield return new TestCaseData(kind, input, options).SetArgDisplayNames(kind.ToString(), name);
    }

    // keras-semantics.md A: padded cells never win a max; TF SAME average excludes padding (count_include_pad only for explicit pads).
    [TestCaseSource(nameof(PoolCases))]
    public void Pool2D_MatchesCpuReference(PoolKind kind, int[] inputShape, Pool2DOptions options)
    {
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(inputShape), options);
        float[] x = Random(g.InputShape.Length, 5);
        AssertBackendsAgree(be =>
        {
            using var xb = Up(be, x);
            using var yb = be.Allocate(g.OutputShape.Length);
            be.Pool2D(xb, yb, g, kind);
            return Down(be, yb);
        });
    }

    [TestCase(PoolKind.Max)]
    [TestCase(PoolKind.Average)]
    public void GlobalPool_MatchesCpuReference(PoolKind kind)
    {
        const int n = 3, spatial = 10, channels = 5;
        float[] x = Random(n * spatial * channels, 6);
        AssertBackendsAgree(be =>
        {
            using var xb = Up(be, x);
            using var yb = be.Allocate(n * channels);
            be.GlobalPool(xb, yb, n, spatial, channels, kind);
            return Down(be, yb);
        });
    }

    private static IEnumerable<TestCaseData> DenseCases()
    {
        foreach (var variant in new[] { "direct", "gemm-tiled" })
        {
            yield return new TestCaseData(variant, 5, 7, 3, KernelActivation.Relu, true).SetArgDisplayNames(variant, "5x7x3 relu bias");
            yield return new TestCaseData(variant, 70, 33, 65, KernelActivation.None, true).SetArgDisplayNames(variant, "70x33x65 (several tiles)");
            yield return new TestCaseData(variant, 4, 20, 10, KernelActivation.Sigmoid, false).SetArgDisplayNames(variant, "4x20x10 sigmoid no bias");
            yield return new TestCaseData(variant, 3, 300, 10, KernelActivation.Relu, true).SetArgDisplayNames(variant, "3x300x10 relu bias (split-K)");
        }
    }

    // keras-semantics.md A: Dense kernel is [in, units], y = x·W + b.
    [TestCaseSource(nameof(DenseCases))]
    public void Dense_MatchesCpuReference(string variant, int m, int k, int n, KernelActivation activation, bool withBias)
    {
        float[] x = Random(m * k, 7), w = Random(k * n, 8), bias = Random(n, 9);
        _ilgpu.Variants.Select("dense", variant);
        try
        {
            AssertBackendsAgree(be =>
            {
                using var xb = Up(be, x);
                using var wb = Up(be, w);
                using var bb = withBias ? Up(be, bias) : null;
                using var yb = be.Allocate(m * n);
                be.Dense(xb, wb, bb, yb, m, k, n, activation);
                return Down(be, yb);
            });
        }
        finally { _ilgpu.Variants.Select("dense", "gemm-tiled"); }
    }

    private static IEnumerable<TestCaseData> Activations() =>
        new[] { KernelActivation.None, KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.Sigmoid, KernelActivation.Tanh }
            .Select(a => new TestCaseData(a).SetArgDisplayNames(a.ToString()));

    [TestCaseSource(nameof(Activations))]
    public void Activate_MatchesCpuReference(KernelActivation activation)
    {
        float[] x = Random(37, 10, scale: 4f);
        AssertBackendsAgree(be =>
        {
            using var xb = Up(be, x);
            using var yb = be.Allocate(x.Length);
            be.Activate(xb, yb, x.Length, activation);
            return Down(be, yb);
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Softmax_MatchesCpuReference_EvenForLargeLogits(bool log)
    {
        const int rows = 4, cols = 9;
        float[] x = Random(rows * cols, 11, scale: 5f);
        x[3] = 500f;   // would overflow exp without the max subtraction
        AssertBackendsAgree(be =>
        {
            using var xb = Up(be, x);
            using var yb = be.Allocate(x.Length);
            be.Softmax(xb, yb, rows, cols, log);
            return Down(be, yb);
        });
    }

    [Test]
    public void Add_MatchesCpuReference()
    {
        float[] a = Random(23, 12), b = Random(23, 13);
        AssertBackendsAgree(be =>
        {
            using var ab = Up(be, a);
            using var bb = Up(be, b);
            using var yb = be.Allocate(23);
            be.Add(ab, bb, yb, 23);
            return Down(be, yb);
        });
    }

    [Test]
    public void Concat_MatchesCpuReference()
    {
        const int pixels = 6;
        int[] channels = [2, 5, 1];
        float[][] parts = channels.Select((c, t) => Random(pixels * c, 20 + t)).ToArray();
        AssertBackendsAgree(be =>
        {
            var buffers = parts.Select(p => Up(be, p)).ToList();
            using var yb = be.Allocate(pixels * channels.Sum());
            be.Concat(buffers, channels, yb, pixels);
            buffers.ForEach(b => b.Dispose());
            return Down(be, yb);
        });
    }

    [TestCase(PadMode.Zero)]
    [TestCase(PadMode.Reflect)]
    [TestCase(PadMode.Edge)]
    public void Pad2D_MatchesCpuReference(PadMode mode)
    {
        var g = Pad2DGeometry.Create("Pad2D", new TensorShape(2, 4, 5, 3), 2, 1, 3, 2, mode);
        float[] x = Random(g.InputShape.Length, 14);
        AssertBackendsAgree(be =>
        {
            using var xb = Up(be, x);
            using var yb = be.Allocate(g.OutputShape.Length);
            be.Pad2D(xb, yb, g, mode);
            return Down(be, yb);
        });
    }

    // ---------------------------------------------------------------- backward ops against double-precision references

    private static IEnumerable<TestCaseData> ConvBackwardCases()
    {
        var shapes = new (string Name, int[] Input, int[] Filter, Conv2DOptions Options)[]
        {
            ("same", [2, 6, 5, 3], [3, 3, 3, 4], new Conv2DOptions { Padding = Padding.Same }),
            ("same stride 2", [1, 7, 7, 2], [3, 3, 2, 3], new Conv2DOptions { Padding = Padding.Same }.WithStrides(2)),
            ("explicit dilation 2", [1, 8, 7, 2], [2, 3, 2, 2], new Conv2DOptions { Padding = Padding.Explicit(1, 0, 2, 1) }.WithDilation(2)),
            ("valid groups 2", [2, 5, 5, 4], [3, 3, 2, 6], new Conv2DOptions { Groups = 2 }),
            // Wide enough (≥ 16 channels per group) that the tiled variants really take the GEMM path.
            ("wide same stride 2", [2, 7, 6, 16], [3, 3, 16, 20], new Conv2DOptions { Padding = Padding.Same }.WithStrides(2)),
            ("wide groups 2 dilation 2", [1, 6, 7, 32], [3, 2, 16, 34], new Conv2DOptions { Padding = Padding.Same, Groups = 2 }.WithDilation(2)),
            // Few tiles but a long K: the tiled variants split K (data: 9 pixels, K 288; filter: 144×16, K 144 pixels).
            ("few pixels many filters (split-K data)", [1, 3, 3, 16], [3, 3, 16, 32], new Conv2DOptions { Padding = Padding.Same }),
            ("many pixels few filters (split-K filter)", [1, 9, 16, 16], [3, 3, 16, 16], new Conv2DOptions { Padding = Padding.Same }),
        };
        foreach (var variant in new[] { "gather/direct", "implicit-gemm-tiled" })
        foreach (var (name, input, filter, options) in shapes)
            yield return new TestCaseData(variant, input, filter, options).SetArgDisplayNames(variant, name);
    }

    /// <summary>Scatter formulation in double: every (output pixel, tap) adds its product to gradInput and gradFilter.</summary>
    private static (double[] GradInput, double[] GradFilter) ConvBackwardReference(float[] x, float[] f, float[] gy, in Conv2DGeometry g)
    {
        var gx = new double[x.Length];
        var gf = new double[f.Length];
        int cg = g.C / g.Groups, ocg = g.OC / g.Groups;
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        for (int o = 0; o < g.OC; o++)
        {
            double gyv = gy[((b * g.OH + i) * g.OW + j) * g.OC + o];
            for (int p = 0; p < g.KH; p++)
            for (int q = 0; q < g.KW; q++)
            {
                int ih = i * g.StrideH + p * g.DilationH - g.PadTop, iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                for (int c = 0; c < cg; c++)
                {
                    int xi = ((b * g.H + ih) * g.W + iw) * g.C + o / ocg * cg + c, fi = ((p * g.KW + q) * cg + c) * g.OC + o;
                    gx[xi] += gyv * f[fi];
                    gf[fi] += gyv * x[xi];
                }
            }
        }
        return (gx, gf);
    }

    [TestCaseSource(nameof(ConvBackwardCases))]
    public void Conv2DBackward_DataAndFilter_MatchScatterReference(string variant, int[] inputShape, int[] filterShape, Conv2DOptions options)
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(inputShape), new TensorShape(filterShape), options);
        float[] x = Random(g.InputShape.Length, 30), f = Random(g.FilterShape.Length, 31), gy = Random(g.OutputShape.Length, 32);
        var (expectedGx, expectedGf) = ConvBackwardReference(x, f, gy, g);

        bool tiled = variant == "implicit-gemm-tiled";
        _ilgpu.Variants.Select("conv2d-backward-data", tiled ? variant : "gather");
        _ilgpu.Variants.Select("conv2d-backward-filter", tiled ? variant : "direct");
        try
        {
            using var xb = Up(_ilgpu, x);
            using var fb = Up(_ilgpu, f);
            using var gyb = Up(_ilgpu, gy);
            using var gxb = _ilgpu.Allocate(x.Length);
            using var gfb = _ilgpu.Allocate(f.Length);
            _ilgpu.Conv2DBackwardData(gyb, fb, gxb, g);
            _ilgpu.Conv2DBackwardFilter(xb, gyb, gfb, g);
            AssertClose(Down(_ilgpu, gxb), expectedGx, "gradInput");
            AssertClose(Down(_ilgpu, gfb), expectedGf, "gradFilter");
        }
        finally
        {
            _ilgpu.Variants.Select("conv2d-backward-data", "implicit-gemm-tiled");
            _ilgpu.Variants.Select("conv2d-backward-filter", "implicit-gemm-tiled");
        }
    }

    // 13 rows take the one-pass path; 150 rows take the two-pass path (64-row chunk partials, then their sum).
    [TestCase(13)]
    [TestCase(150)]
    public void BiasBackward_SumsRows(int rows)
    {
        const int channels = 6;
        float[] gy = Random(rows * channels, 33);
        var expected = new double[channels];
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++) expected[c] += gy[r * channels + c];
        using var gyb = Up(_ilgpu, gy);
        using var gb = _ilgpu.Allocate(channels);
        _ilgpu.BiasBackward(gyb, gb, rows, channels);
        AssertClose(Down(_ilgpu, gb), expected, "gradBias");
    }

    /// <summary>Scatter in double: a max window sends its gradient to its first maximum (scan p then q); average spreads g/divisor.</summary>
    private static double[] PoolBackwardReference(float[] x, float[] gy, in Pool2DGeometry g, PoolKind kind)
    {
        var gx = new double[x.Length];
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        for (int c = 0; c < g.C; c++)
        {
            int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
            double gyv = gy[((b * g.OH + i) * g.OW + j) * g.C + c];
            int best = -1;
            for (int p = 0; p < g.PoolH; p++)
            for (int q = 0; q < g.PoolW; q++)
            {
                int ih = ih0 + p * g.DilationH, iw = iw0 + q * g.DilationW;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                int xi = ((b * g.H + ih) * g.W + iw) * g.C + c;
                if (kind == PoolKind.Average) gx[xi] += gyv / g.AverageDivisor(ih0, iw0);
                else if (best < 0 || x[xi] > x[best]) best = xi;
            }
            if (kind == PoolKind.Max) gx[best] += gyv;
        }
        return gx;
    }

    [TestCaseSource(nameof(PoolCases))]
    public void Pool2DBackward_MatchesScatterReference(PoolKind kind, int[] inputShape, Pool2DOptions options)
    {
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(inputShape), options);
        float[] x = Random(g.InputShape.Length, 34), gy = Random(g.OutputShape.Length, 35);
        using var xb = Up(_ilgpu, x);
        using var gyb = Up(_ilgpu, gy);
        using var gxb = _ilgpu.Allocate(x.Length);
        _ilgpu.Pool2DBackward(xb, gyb, gxb, g, kind);
        AssertClose(Down(_ilgpu, gxb), PoolBackwardReference(x, gy, g, kind), "gradInput");
    }

    // A 2×2 window of equal values: the whole gradient goes to the first cell in scan order (top-left), as TF's MaxPoolGrad.
    [Test]
    public void MaxPoolBackward_Ties_GoToTheFirstMaxInScanOrder()
    {
        var g = Pool2DGeometry.Create("MaxPool2D", new TensorShape(1, 2, 2, 1), Pool2DOptions.Square(2));
        using var xb = Up(_ilgpu, [1f, 1f, 1f, 1f]);
        using var gyb = Up(_ilgpu, [5f]);
        using var gxb = _ilgpu.Allocate(4);
        _ilgpu.Pool2DBackward(xb, gyb, gxb, g, PoolKind.Max);
        Assert.That(Down(_ilgpu, gxb), Is.EqualTo(new[] { 5f, 0f, 0f, 0f }));
    }

    [TestCase(PoolKind.Max)]
    [TestCase(PoolKind.Average)]
    public void GlobalPoolBackward_MatchesReference(PoolKind kind)
    {
        const int n = 2, spatial = 7, channels = 3;
        float[] x = Random(n * spatial * channels, 36), gy = Random(n * channels, 37);
        x[(1 * spatial + 2) * channels + 1] = x[(1 * spatial + 5) * channels + 1] = 9f;   // tie: the first (s = 2) takes it
        var expected = new double[x.Length];
        for (int b = 0; b < n; b++)
        for (int c = 0; c < channels; c++)
        {
            int best = 0;
            for (int s = 0; s < spatial; s++)
            {
                if (kind == PoolKind.Average) expected[(b * spatial + s) * channels + c] = gy[b * channels + c] / (double)spatial;
                else if (x[(b * spatial + s) * channels + c] > x[(b * spatial + best) * channels + c]) best = s;
            }
            if (kind == PoolKind.Max) expected[(b * spatial + best) * channels + c] = gy[b * channels + c];
        }
        using var xb = Up(_ilgpu, x);
        using var gyb = Up(_ilgpu, gy);
        using var gxb = _ilgpu.Allocate(x.Length);
        _ilgpu.GlobalPoolBackward(xb, gyb, gxb, n, spatial, channels, kind);
        AssertClose(Down(_ilgpu, gxb), expected, "gradInput");
    }

    private static IEnumerable<TestCaseData> MatMulCases()
    {
        foreach (var variant in new[] { "direct", "gemm-tiled" })
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        foreach (bool accumulate in new[] { false, true })
        foreach (var (m, k, n) in new[] { (67, 19, 66), (5, 300, 6) })   // crosses 64-wide tiles; a long K that is split
            yield return new TestCaseData(variant, ta, tb, accumulate, m, k, n)
                .SetArgDisplayNames(variant, ta ? "Aᵀ" : "A", tb ? "Bᵀ" : "B", accumulate ? "accumulate" : "overwrite", $"{m}x{k}x{n}");
    }

    [TestCaseSource(nameof(MatMulCases))]
    public void MatMul_MatchesDoubleReference(string variant, bool transposeA, bool transposeB, bool accumulate, int m, int k, int n)
    {
        float[] a = Random(m * k, 40), b = Random(k * n, 41), c0 = Random(m * n, 42);
        var expected = new double[m * n];
        for (int r = 0; r < m; r++)
        for (int col = 0; col < n; col++)
        {
            double sum = accumulate ? c0[r * n + col] : 0;
            for (int t = 0; t < k; t++)
                sum += (double)(transposeA ? a[t * m + r] : a[r * k + t]) * (transposeB ? b[col * k + t] : b[t * n + col]);
            expected[r * n + col] = sum;
        }
        _ilgpu.Variants.Select("matmul", variant);
        try
        {
            using var ab = Up(_ilgpu, a);
            using var bb = Up(_ilgpu, b);
            using var cb = Up(_ilgpu, c0);
            _ilgpu.MatMul(ab, bb, cb, m, k, n, transposeA, transposeB, accumulate);
            AssertClose(Down(_ilgpu, cb), expected, "C");
        }
        finally { _ilgpu.Variants.Select("matmul", "gemm-tiled"); }
    }

    // Finite differences of the scalar Activation.Apply: act'(x) recovered from y = act(x).
    [TestCaseSource(nameof(Activations))]
    public void ActivationBackward_MatchesFiniteDifferences(KernelActivation activation)
    {
        float[] x = Random(31, 43, scale: 3f).Select(v => MathF.Abs(v) < 0.05f ? v + 0.1f : v).ToArray();   // stay off relu's kink
        float[] y = x.Select(activation.Apply).ToArray(), gy = Random(31, 44);
        const double h = 1e-3;
        var expected = x.Select((v, i) => gy[i] * (activation.Apply((float)(v + h)) - (double)activation.Apply((float)(v - h))) / (2 * h)).ToArray();
        using var yb = Up(_ilgpu, y);
        using var gyb = Up(_ilgpu, gy);
        using var gxb = _ilgpu.Allocate(x.Length);
        _ilgpu.ActivationBackward(yb, gyb, gxb, x.Length, activation);
        AssertClose(Down(_ilgpu, gxb), expected, "gradInput", tolerance: 2e-3);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SoftmaxBackward_MatchesFiniteDifferences(bool log)
    {
        const int rows = 3, cols = 5;
        float[] x = Random(rows * cols, 45, scale: 2f), gy = Random(rows * cols, 46);
        // L(x) = Σ gy·softmax(x) (or log-softmax); its gradient is what the backward kernel returns.
        double Objective(double[] xs)
        {
            double total = 0;
            for (int r = 0; r < rows; r++)
            {
                double max = Enumerable.Range(0, cols).Max(c => xs[r * cols + c]);
                double sum = Enumerable.Range(0, cols).Sum(c => Math.Exp(xs[r * cols + c] - max));
                for (int c = 0; c < cols; c++)
                {
                    double z = xs[r * cols + c] - max;
                    total += gy[r * cols + c] * (log ? z - Math.Log(sum) : Math.Exp(z) / sum);
                }
            }
            return total;
        }
        double[] expected = FiniteDifferences(Objective, x);
        using var xb = Up(_ilgpu, x);
        using var yb = _ilgpu.Allocate(x.Length);
        using var gyb = Up(_ilgpu, gy);
        using var gxb = _ilgpu.Allocate(x.Length);
        _ilgpu.Softmax(xb, yb, rows, cols, log);
        _ilgpu.SoftmaxBackward(yb, gyb, gxb, rows, cols, log);
        AssertClose(Down(_ilgpu, gxb), expected, "gradInput", tolerance: 1e-4);
    }

    [Test]
    public void Split_InvertsConcat()
    {
        const int pixels = 5;
        int[] channels = [3, 1, 4];
        float[][] parts = channels.Select((c, t) => Random(pixels * c, 50 + t)).ToArray();
        var inputs = parts.Select(p => Up(_ilgpu, p)).ToList();
        var outputs = channels.Select(c => _ilgpu.Allocate(pixels * c)).ToList();
        using var wide = _ilgpu.Allocate(pixels * channels.Sum());
        _ilgpu.Concat(inputs, channels, wide, pixels);
        _ilgpu.Split(wide, outputs, channels, pixels);
        for (int t = 0; t < parts.Length; t++) Assert.That(Down(_ilgpu, outputs[t]), Is.EqualTo(parts[t]), $"part {t}");
        inputs.Concat(outputs).ToList().ForEach(b => b.Dispose());
    }

    // Pad2D's gradient: every input cell sums the output cells that copied it (reflect/edge copy cells several times).
    [TestCase(PadMode.Zero)]
    [TestCase(PadMode.Reflect)]
    [TestCase(PadMode.Edge)]
    public void Pad2DBackward_MatchesScatterReference(PadMode mode)
    {
        var g = Pad2DGeometry.Create("Pad2D", new TensorShape(2, 4, 3, 2), 2, 3, 1, 2, mode);
        float[] gy = Random(g.OutputShape.Length, 55);
        var expected = new double[g.InputShape.Length];
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode), iw = Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode);
            if (ih < 0 || iw < 0) continue;
            for (int c = 0; c < g.C; c++)
                expected[((b * g.H + ih) * g.W + iw) * g.C + c] += gy[((b * g.OH + i) * g.OW + j) * g.C + c];
        }
        using var gyb = Up(_ilgpu, gy);
        using var gxb = _ilgpu.Allocate(g.InputShape.Length);
        _ilgpu.Pad2DBackward(gyb, gxb, g, mode);
        AssertClose(Down(_ilgpu, gxb), expected, "gradInput");
    }

    [Test]
    public void MultiplyAxpyFill_ComputeTheirDefinitions()
    {
        float[] a = Random(17, 60), b = Random(17, 61);
        using var ab = Up(_ilgpu, a);
        using var bb = Up(_ilgpu, b);
        using var yb = _ilgpu.Allocate(17);
        _ilgpu.Multiply(ab, bb, yb, 17);
        AssertClose(Down(_ilgpu, yb), a.Select((v, i) => (double)v * b[i]).ToArray(), "a⊙b");
        _ilgpu.Axpy(-0.5f, ab, bb, 17);
        AssertClose(Down(_ilgpu, bb), a.Select((v, i) => -0.5 * v + b[i]).ToArray(), "axpy");
        _ilgpu.Fill(yb, 2.5f, 10);
        float[] filled = Down(_ilgpu, yb);
        Assert.That(filled.Take(10), Is.All.EqualTo(2.5f));
        Assert.That(filled.Skip(10), Is.EqualTo(a.Skip(10).Select((v, i) => v * b[i + 10])), "Fill must stop at its length");
    }

    // keras-semantics.md A: inverted dropout, kept units scaled by 1/(1−rate); the mask comes from CounterRng so every backend agrees.
    [Test]
    public void Dropout_MaskIsTheSharedCounterDraw()
    {
        const int length = 500;
        const float rate = 0.3f;
        const ulong seed = 12345;
        float[] x = Random(length, 62);
        using var xb = Up(_ilgpu, x);
        using var mb = _ilgpu.Allocate(length);
        using var yb = _ilgpu.Allocate(length);
        _ilgpu.Dropout(xb, mb, yb, length, rate, seed);
        float[] mask = Down(_ilgpu, mb), y = Down(_ilgpu, yb);
        for (int i = 0; i < length; i++)
        {
            float expected = CounterRng.Uniform(seed, (ulong)i) >= rate ? 1f / (1f - rate) : 0f;
            Assert.That(mask[i], Is.EqualTo(expected), $"mask[{i}]");
            Assert.That(y[i], Is.EqualTo(x[i] * expected), $"output[{i}]");
        }
        Assert.That(mask.Count(m => m == 0f) / (double)length, Is.EqualTo(rate).Within(0.08), "fraction dropped");
    }

    // ---------------------------------------------------------------- losses

    /// <summary>Per-row Keras losses in double (keras-semantics.md A; tf_keras backend.*_crossentropy).</summary>
    private static double[] LossReference(LossKind kind, double[] pred, float[] target, int rows, int cols)
    {
        const double eps = 1e-7;
        var loss = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double[] z = pred.Skip(r * cols).Take(cols).ToArray();
            double[] t = target.Skip(r * cols).Take(cols).Select(v => (double)v).ToArray();
            double lse = z.Max() + Math.Log(z.Sum(v => Math.Exp(v - z.Max())));
            loss[r] = kind switch
            {
                LossKind.SigmoidBinaryCrossEntropy => z.Select((v, c) => Math.Max(v, 0) - v * t[c] + Math.Log(1 + Math.Exp(-Math.Abs(v)))).Average(),
                LossKind.BinaryCrossEntropy => z.Select((v, c) =>
                {
                    double p = Math.Clamp(v, eps, 1 - eps);
                    return -(t[c] * Math.Log(p + eps) + (1 - t[c]) * Math.Log(1 - p + eps));
                }).Average(),
                LossKind.SoftmaxCategoricalCrossEntropy => -z.Select((v, c) => t[c] * (v - lse)).Sum(),
                LossKind.SoftmaxSparseCategoricalCrossEntropy => lse - z[(int)target[r]],
                LossKind.CategoricalCrossEntropy => -z.Select((v, c) => t[c] * Math.Log(Math.Clamp(v / z.Sum(), eps, 1 - eps))).Sum(),
                _ => z.Select((v, c) => (v - t[c]) * (v - t[c])).Average(),
            };
        }
        return loss;
    }

    private static IEnumerable<TestCaseData> LossKinds() => Enum.GetValues<LossKind>().Select(k => new TestCaseData(k).SetArgDisplayNames(k.ToString()));

    // Each row's loss as Keras computes it; the gradient is d(mean over rows)/d(prediction), checked by finite differences.
    [TestCaseSource(nameof(LossKinds))]
    public void Loss_RowLossesMatchKerasFormulas_GradientMatchesFiniteDifferences(LossKind kind)
    {
        const int rows = 4, cols = 5;
        var rng = new Random(70 + (int)kind);
        bool probabilities = kind is LossKind.BinaryCrossEntropy or LossKind.CategoricalCrossEntropy;
        float[] pred = Enumerable.Range(0, rows * cols).Select(_ => probabilities ? 0.05f + 0.9f * rng.NextSingle() : 4f * rng.NextSingle() - 2f).ToArray();
        bool sparse = kind == LossKind.SoftmaxSparseCategoricalCrossEntropy;
        float[] target = sparse
            ? Enumerable.Range(0, rows).Select(_ => (float)rng.Next(cols)).ToArray()
            : kind is LossKind.SoftmaxCategoricalCrossEntropy or LossKind.CategoricalCrossEntropy
                ? Enumerable.Range(0, rows * cols).Select(i => i % cols == (i / cols * 2) % cols ? 1f : 0f).ToArray()
                : Enumerable.Range(0, rows * cols).Select(_ => kind == LossKind.MeanSquaredError ? rng.NextSingle() : rng.Next(2)).ToArray();

        double[] expectedLoss = LossReference(kind, pred.Select(v => (double)v).ToArray(), target, rows, cols);
        double[] expectedGrad = FiniteDifferences(p => LossReference(kind, p, target, rows, cols).Average(), pred);

        using var pb = Up(_ilgpu, pred);
        using var tb = Up(_ilgpu, target);
        using var lb = _ilgpu.Allocate(rows);
        using var gb = _ilgpu.Allocate(rows * cols);
        _ilgpu.Loss(kind, pb, tb, lb, gb, rows, cols);
        AssertClose(Down(_ilgpu, lb), expectedLoss, "lossPerRow", tolerance: 1e-5);
        AssertClose(Down(_ilgpu, gb), expectedGrad, "gradPrediction", tolerance: 1e-4);
    }

    // keras-semantics.md A: BCE from logits uses the stable form with no clipping, so a confident wrong logit still costs |z|.
    [Test]
    public void SigmoidBinaryCrossEntropy_LargeLogits_StayFiniteAndUnclipped()
    {
        using var pb = Up(_ilgpu, [80f, -80f]);
        using var tb = Up(_ilgpu, [0f, 0f]);
        using var lb = _ilgpu.Allocate(1);
        using var gb = _ilgpu.Allocate(2);
        _ilgpu.Loss(LossKind.SigmoidBinaryCrossEntropy, pb, tb, lb, gb, 1, 2);
        Assert.That(Down(_ilgpu, lb)[0], Is.EqualTo(40f).Within(1e-4f));   // mean of 80 and ≈0
        Assert.That(Down(_ilgpu, gb), Is.EqualTo(new[] { 0.5f, 0f }).Within(1e-6f));   // (σ(z) − t)/cols
    }

    // ---------------------------------------------------------------- optimizers

    // keras-semantics.md A: Adam with ε added to √v without bias correction, α = lr·√(1−β2^t)/(1−β1^t).
    [Test]
    public void AdamUpdate_TwoSteps_MatchKerasFormula()
    {
        const int length = 9;
        const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
        float[] theta = Random(length, 80), g1 = Random(length, 81), g2 = Random(length, 82);
        double[] th = theta.Select(v => (double)v).ToArray(), m = new double[length], v = new double[length];
        using var pb = Up(_ilgpu, theta);
        using var mb = _ilgpu.Allocate(length);
        using var vb = _ilgpu.Allocate(length);
        int step = 0;
        foreach (var g in new[] { g1, g2 })
        {
            step++;
            double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, step)) / (1 - Math.Pow(b1, step));
            for (int i = 0; i < length; i++)
            {
                m[i] += (g[i] - m[i]) * (1 - b1);
                v[i] += ((double)g[i] * g[i] - v[i]) * (1 - b2);
                th[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + eps);
            }
            using var gb = Up(_ilgpu, g);
            _ilgpu.AdamUpdate(pb, gb, mb, vb, length, (float)alpha, (float)b1, (float)b2, (float)eps);
        }
        AssertClose(Down(_ilgpu, pb), th, "θ", tolerance: 1e-5);
        AssertClose(Down(_ilgpu, mb), m, "m", tolerance: 1e-5);
        AssertClose(Down(_ilgpu, vb), v, "v", tolerance: 1e-5);
    }

    // Keras SGD: velocity = momentum·velocity − lr·g; θ += velocity; Nesterov θ += momentum·velocity − lr·g.
    [TestCase(0f, false)]
    [TestCase(0.9f, false)]
    [TestCase(0.9f, true)]
    public void SgdUpdate_TwoSteps_MatchKerasFormula(float momentum, bool nesterov)
    {
        const int length = 8;
        const double lr = 0.1;
        float[] theta = Random(length, 90), g1 = Random(length, 91), g2 = Random(length, 92);
        double[] th = theta.Select(x => (double)x).ToArray(), vel = new double[length];
        using var pb = Up(_ilgpu, theta);
        using var vb = _ilgpu.Allocate(length);
        foreach (var g in new[] { g1, g2 })
        {
            for (int i = 0; i < length; i++)
            {
                vel[i] = momentum * vel[i] - lr * g[i];
                th[i] += nesterov ? momentum * vel[i] - lr * g[i] : vel[i];
            }
            using var gb = Up(_ilgpu, g);
            _ilgpu.SgdUpdate(pb, gb, vb, length, (float)lr, momentum, nesterov);
        }
        AssertClose(Down(_ilgpu, pb), th, "θ", tolerance: 1e-5);
        AssertClose(Down(_ilgpu, vb), vel, "velocity", tolerance: 1e-5);
    }

    // ---------------------------------------------------------------- training ops against the cpu backend

    /// <summary>Each training op on the same random data; run on both backends by <see cref="TrainingOp_MatchesCpuBackend"/>.</summary>
    private static IEnumerable<TestCaseData> TrainingOps()
    {
        TestCaseData Case(string name, Func<IBackend, float[]> op, double tolerance = 1e-5) =>
            new TestCaseData(op, tolerance).SetArgDisplayNames(name);

        foreach (var (name, g) in new[]
                 {
                     ("narrow same stride 2", Conv2DGeometry.Create("Conv2D", new TensorShape(2, 7, 6, 3), new TensorShape(3, 3, 3, 5), new Conv2DOptions { Padding = Padding.Same }.WithStrides(2))),
                     ("wide groups 2", Conv2DGeometry.Create("Conv2D", new TensorShape(1, 6, 5, 32), new TensorShape(3, 3, 16, 32), new Conv2DOptions { Padding = Padding.Same, Groups = 2 })),
                 })
        {
            float[] x = Random(g.InputShape.Length, 100), f = Random(g.FilterShape.Length, 101), gy = Random(g.OutputShape.Length, 102);
            yield return Case($"Conv2DBackwardData {name}", be => Run(be, g.InputShape.Length, (o, i) => be.Conv2DBackwardData(i[0], i[1], o, g), gy, f));
            yield return Case($"Conv2DBackwardFilter {name}", be => Run(be, g.FilterShape.Length, (o, i) => be.Conv2DBackwardFilter(i[0], i[1], o, g), x, gy));
        }
        float[] rowsData = Random(150 * 6, 103);
        yield return Case("BiasBackward", be => Run(be, 6, (o, i) => be.BiasBackward(i[0], o, 150, 6), rowsData));
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            var pg = Pool2DGeometry.Create("Pool2D", new TensorShape(2, 7, 6, 3), Pool2DOptions.Square(3, 2, Padding.Same));
            float[] px = Random(pg.InputShape.Length, 104), pgy = Random(pg.OutputShape.Length, 105);
            yield return Case($"Pool2DBackward {kind}", be => Run(be, px.Length, (o, i) => be.Pool2DBackward(i[0], i[1], o, pg, kind), px, pgy));
            float[] gx = Random(2 * 9 * 4, 106), ggy = Random(2 * 4, 107);
            yield return Case($"GlobalPoolBackward {kind}", be => Run(be, gx.Length, (o, i) => be.GlobalPoolBackward(i[0], i[1], o, 2, 9, 4, kind), gx, ggy));
        }
        float[] ma = Random(9 * 7, 108), mb = Random(7 * 8, 109), mc = Random(9 * 8, 110);
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
            yield return Case($"MatMul {(ta ? "Aᵀ" : "A")}{(tb ? "Bᵀ" : "B")} accumulate", be => Run(be, mc.Length, (o, i) =>
            {
                be.Copy(i[2], o, mc.Length);
                be.MatMul(i[0], i[1], o, 9, 7, 8, ta, tb, accumulate: true);
            }, ma, mb, mc));
        float[] ay = Random(40, 111).Select(v => (v + 1f) / 2f).ToArray(), agy = Random(40, 112);
        foreach (var act in new[] { KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.Sigmoid, KernelActivation.Tanh })
            yield return Case($"ActivationBackward {act}", be => Run(be, 40, (o, i) => be.ActivationBackward(i[0], i[1], o, 40, act), ay, agy));
        float[] sy = Random(4 * 6, 113).Select(MathF.Abs).ToArray(), sgy = Random(4 * 6, 114);
        foreach (bool log in new[] { false, true })
            yield return Case($"SoftmaxBackward log={log}", be => Run(be, sy.Length, (o, i) => be.SoftmaxBackward(i[0], i[1], o, 4, 6, log), sy, sgy));
        float[] wide = Random(5 * 7, 115);
        yield return Case("Split", be => Run(be, 5 * 7, (o, i) =>
        {
            using var narrow = be.Allocate(5 * 3);
            using var rest = be.Allocate(5 * 4);
            be.Split(i[0], [narrow, rest], [3, 4], 5);
            Pack(be, o, narrow, rest);
        }, wide));
        foreach (var mode in new[] { PadMode.Zero, PadMode.Reflect, PadMode.Edge })
        {
            var padG = Pad2DGeometry.Create("Pad2D", new TensorShape(1, 4, 5, 2), 2, 1, 1, 3, mode);
            float[] pgy = Random(padG.OutputShape.Length, 116);
            yield return Case($"Pad2DBackward {mode}", be => Run(be, padG.InputShape.Length, (o, i) => be.Pad2DBackward(i[0], o, padG, mode), pgy));
        }
        float[] ea = Random(30, 117), eb = Random(30, 118);
        yield return Case("Multiply", be => Run(be, 30, (o, i) => be.Multiply(i[0], i[1], o, 30), ea, eb));
        yield return Case("Axpy", be => Run(be, 30, (o, i) => { be.Copy(i[1], o, 30); be.Axpy(0.75f, i[0], o, 30); }, ea, eb));
        yield return Case("Fill", be => Run(be, 30, (o, i) => be.Fill(o, -1.5f, 20)));
        yield return Case("Dropout output and mask, bit for bit", be => Run(be, 2 * 64, (o, i) =>
        {
            using var y = be.Allocate(64);
            using var mask = be.Allocate(64);
            be.Dropout(i[0], mask, y, 64, 0.4f, 77);
            Pack(be, o, y, mask);
        }, Random(64, 119)), tolerance: 0);
        foreach (var kind in Enum.GetValues<LossKind>())
        {
            const int rows = 3, cols = 4;
            var rng = new Random(120 + (int)kind);
            bool probabilities = kind is LossKind.BinaryCrossEntropy or LossKind.CategoricalCrossEntropy;
            float[] pred = Enumerable.Range(0, rows * cols).Select(_ => probabilities ? 0.05f + 0.9f * rng.NextSingle() : 4f * rng.NextSingle() - 2f).ToArray();
            float[] target = kind == LossKind.SoftmaxSparseCategoricalCrossEntropy
                ? [2f, 0f, 3f]
                : Enumerable.Range(0, rows * cols).Select(v => kind is LossKind.SoftmaxCategoricalCrossEntropy or LossKind.CategoricalCrossEntropy
                    ? (v % cols == v / cols ? 1f : 0f) : rng.Next(2)).ToArray();
            yield return Case($"Loss {kind}", be => Run(be, rows + rows * cols, (o, i) =>
            {
                using var loss = be.Allocate(rows);
                using var grad = be.Allocate(rows * cols);
                be.Loss(kind, i[0], i[1], loss, grad, rows, cols);
                Pack(be, o, loss, grad);
            }, pred, target));
        }
        float[] theta = Random(20, 121), grad1 = Random(20, 122);
        yield return Case("AdamUpdate", be => Run(be, 20, (o, i) =>
        {
            using var m = be.Allocate(20);
            using var v = be.Allocate(20);
            be.Copy(i[0], o, 20);
            be.AdamUpdate(o, i[1], m, v, 20, 0.01f, 0.9f, 0.999f, 1e-7f);
            be.AdamUpdate(o, i[1], m, v, 20, 0.012f, 0.9f, 0.999f, 1e-7f);
        }, theta, grad1));
        foreach (bool nesterov in new[] { false, true })
            yield return Case($"SgdUpdate nesterov={nesterov}", be => Run(be, 20, (o, i) =>
            {
                using var velocity = be.Allocate(20);
                be.Copy(i[0], o, 20);
                be.SgdUpdate(o, i[1], velocity, 20, 0.1f, 0.9f, nesterov);
                be.SgdUpdate(o, i[1], velocity, 20, 0.1f, 0.9f, nesterov);
            }, theta, grad1));
    }

    /// <summary>Uploads the inputs, runs <paramref name="op"/> into a fresh output of <paramref name="length"/> floats, downloads it.</summary>
    private static float[] Run(IBackend backend, long length, Action<DeviceBuffer, DeviceBuffer[]> op, params float[][] inputs)
    {
        var buffers = inputs.Select(data => Up(backend, data)).ToArray();
        try
        {
            using var output = backend.Allocate(length);
            op(output, buffers);
            return Down(backend, output);
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    /// <summary>Lays several results end to end in <paramref name="destination"/> so one comparison covers them all.</summary>
    private static void Pack(IBackend backend, DeviceBuffer destination, params DeviceBuffer[] parts)
    {
        var host = new float[parts.Sum(p => p.Length)];
        long offset = 0;
        foreach (var part in parts)
        {
            backend.Download(part, host.AsSpan((int)offset, (int)part.Length));
            offset += part.Length;
        }
        backend.Upload(host, destination);
    }

    // Architecture decision 5: every op is checked across backends (cpu vs ilgpu) on the same data.
    [TestCaseSource(nameof(TrainingOps))]
    public void TrainingOp_MatchesCpuBackend(Func<IBackend, float[]> op, double tolerance)
    {
        float[] expected = op(_cpu);
        AssertClose(op(_ilgpu), expected.Select(v => (double)v).ToArray(), $"{_ilgpu.Name} vs cpu", tolerance);
    }

    // ---------------------------------------------------------------- helpers

    private static float[] Random(long length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, (int)length).Select(_ => scale * (2f * rng.NextSingle() - 1f)).ToArray();
    }

    private static DeviceBuffer Up(IBackend backend, float[] data)
    {
        var buffer = backend.Allocate(data.Length);
        backend.Upload(data, buffer);
        return buffer;
    }

    private static float[] Down(IBackend backend, DeviceBuffer buffer)
    {
        var data = new float[buffer.Length];
        backend.Download(buffer, data);
        return data;
    }

    /// <summary>Runs the same op on the cpu backend (reference kernels) and on the ILGPU backend, and compares.</summary>
    private void AssertBackendsAgree(Func<IBackend, float[]> op, double tolerance = 1e-5)
    {
        float[] expected = op(_cpu), actual = op(_ilgpu);
        AssertClose(actual, expected.Select(v => (double)v).ToArray(), $"{_ilgpu.Name} vs cpu", tolerance);
    }

    /// <summary>|actual − expected| ≤ tolerance·(1 + |expected|), element by element, reporting the first miss.</summary>
    private static void AssertClose(float[] actual, double[] expected, string what, double tolerance = 1e-5)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i])))
                continue;
            Assert.Fail($"{what}[{i}]: expected {expected[i]}, got {actual[i]} (tolerance {tolerance} relative).");
        }
    }

    /// <summary>Central differences of a double function at a float point, step 1e-5.</summary>
    private static double[] FiniteDifferences(Func<double[], double> f, float[] at)
    {
        const double h = 1e-5;
        double[] x = at.Select(v => (double)v).ToArray();
        var grad = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h;
            double up = f(x);
            x[i] = keep - h;
            double down = f(x);
            x[i] = keep;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }
}
