using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Kernels.Ilgpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// The kernels the ONNX importer added (ChannelAffine, LRN, Transpose) on the cpu backend (SIMD,
/// two threads) and on ILGPU's CPU accelerator, against double-precision references written here.
/// </summary>
[TestFixture]
public class OnnxNormalizationKernelTests
{
    private IBackend[] _backends = [];

    [OneTimeSetUp]
    public void Open() => _backends = [new CpuBackend(threads: 2), IlgpuBackend.Create(IlgpuDeviceKind.Cpu)];

    [OneTimeTearDown]
    public void Close()
    {
        foreach (var b in _backends) b.Dispose();
    }

    private IEnumerable<IBackend> Backends => _backends;

    private static float[] Random(int length, int seed, float low = -2f, float high = 2f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => low + (high - low) * rng.NextSingle()).ToArray();
    }

    // ---------------------------------------------------------------- ChannelAffine

    // 3 channels (an RGB image) and 17 channels (not a multiple of any vector width); 70,000 pixels
    // span many 1,024-float blocks and both threads' parts.
    [TestCase(1, 5, 7, 3)]
    [TestCase(2, 4, 3, 17)]
    [TestCase(1, 100, 700, 3)]
    public void ChannelAffine_IsXTimesScalePlusShift_PerChannel(int n, int h, int w, int c)
    {
        float[] x = Random(n * h * w * c, 1), scale = Random(c, 2), shift = Random(c, 3);
        foreach (var backend in Backends)
        {
            using var input = Tensor.FromArray(backend, x, n, h, w, c);
            using var s = Tensor.FromArray(backend, scale, c);
            using var t = Tensor.FromArray(backend, shift, c);
            using var y = Ops.ChannelAffine(input, s, t);
            float[] got = y.ToArray();
            for (int i = 0; i < x.Length; i++)
            {
                double expected = (double)x[i] * scale[i % c] + shift[i % c];
                Assert.That(got[i], Is.EqualTo(expected).Within(1e-5 + 1e-6 * Math.Abs(expected)), $"{backend.Name}, element {i}");
            }
        }
    }

    [Test]
    public void ChannelAffine_ScaleOfWrongLength_NamesOpAndShapes()
    {
        var backend = _backends[0];
        using var input = Tensor.Zeros(backend, 1, 2, 2, 4);
        using var s = Tensor.Zeros(backend, 3);
        var error = Assert.Throws<ShapeException>(() => Ops.ChannelAffine(input, s, s).Dispose())!;
        Assert.That(error.Message, Does.Contain("ChannelAffine").And.Contain("(1, 2, 2, 4)").And.Contain("(3)"));
    }

    // ONNX BatchNormalization (inference): y = γ (x − mean)/√(var + ε) + β, evaluated directly in double.
    [Test]
    public void BatchNormToAffine_ReproducesTheBatchNormFormula()
    {
        float[] gamma = [0.5f, -1.5f, 2f], beta = [0.1f, 0f, -3f], mean = [1f, -2f, 0.25f], variance = [0.04f, 9f, 1e-6f];
        const double epsilon = 1e-5;
        var (scale, shift) = Ops.BatchNormToAffine(gamma, beta, mean, variance, epsilon);
        foreach (double x in new[] { -3.0, 0.0, 0.7, 12.0 })
            for (int c = 0; c < 3; c++)
            {
                double expected = gamma[c] * (x - mean[c]) / Math.Sqrt(variance[c] + epsilon) + beta[c];
                Assert.That(x * scale[c] + shift[c], Is.EqualTo(expected).Within(1e-5 * Math.Max(1, Math.Abs(expected))));
            }
    }

    // ---------------------------------------------------------------- LRN

    /// <summary>ONNX LRN: square_sum over [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉], y = x / (bias + α/size · square_sum)^β.</summary>
    private static double[] LrnReference(float[] x, int channels, int size, double alpha, double beta, double bias)
    {
        var y = new double[x.Length];
        int before = (size - 1) / 2, after = size - 1 - before;
        for (int p = 0; p < x.Length / channels; p++)
            for (int c = 0; c < channels; c++)
            {
                double sum = 0;
                for (int k = c - before; k <= c + after; k++)
                    if (k >= 0 && k < channels) sum += (double)x[p * channels + k] * x[p * channels + k];
                y[p * channels + c] = x[p * channels + c] / Math.Pow(bias + alpha / size * sum, beta);
            }
        return y;
    }

    // size 5 (AlexNet, GoogLeNet: symmetric window), size 4 (even: one more channel after than before),
    // size 1 (the channel alone), and a window wider than the 3 channels.
    [TestCase(5, 1e-4f, 0.75f, 1f, 16)]
    [TestCase(4, 0.5f, 0.6f, 2f, 7)]
    [TestCase(1, 1f, 1f, 1f, 5)]
    [TestCase(9, 0.3f, 0.75f, 1.5f, 3)]
    public void Lrn_MatchesTheOnnxDefinition(int size, float alpha, float beta, float bias, int channels)
    {
        float[] x = Random(2 * 3 * 4 * channels, 5, -3f, 3f);
        double[] expected = LrnReference(x, channels, size, alpha, beta, bias);
        foreach (var backend in Backends)
        {
            using var input = Tensor.FromArray(backend, x, 2, 3, 4, channels);
            using var y = Ops.Lrn(input, size, alpha, beta, bias);
            float[] got = y.ToArray();
            for (int i = 0; i < x.Length; i++)
                Assert.That(got[i], Is.EqualTo(expected[i]).Within(1e-5 + 1e-5 * Math.Abs(expected[i])), $"{backend.Name}, element {i}");
        }
    }

    // Hand-worked: channels [1, 2, 3], size 3, α = 3 (α/size = 1), β = 1, bias = 1.
    // c0: window {c0, c1}: 1 + 1 + 4 = 6 → 1/6; c1: {0,1,2}: 1 + 14 = 15 → 2/15; c2: {1,2}: 1 + 13 = 14 → 3/14.
    [Test]
    public void Lrn_HandWorkedExample_ClipsTheWindowAtTheChannelEdges()
    {
        foreach (var backend in Backends)
        {
            using var input = Tensor.FromArray(backend, [1f, 2f, 3f], 1, 1, 1, 3);
            using var y = Ops.Lrn(input, size: 3, alpha: 3f, beta: 1f, bias: 1f);
            Assert.That(y.ToArray(), Is.EqualTo(new[] { 1f / 6, 2f / 15, 3f / 14 }).Within(1e-6f), backend.Name);
        }
    }

    // ---------------------------------------------------------------- Transpose

    /// <summary>numpy.transpose by index arithmetic: out[o] = in[Σ o_i · stride_in[perm[i]]].</summary>
    private static float[] TransposeReference(float[] x, int[] dims, int[] perm)
    {
        int rank = dims.Length;
        var inStride = new int[rank];
        inStride[rank - 1] = 1;
        for (int i = rank - 2; i >= 0; i--) inStride[i] = inStride[i + 1] * dims[i + 1];
        int[] outDims = perm.Select(p => dims[p]).ToArray();
        var y = new float[x.Length];
        var coord = new int[rank];
        for (int o = 0; o < y.Length; o++)
        {
            int rest = o;
            for (int i = rank - 1; i >= 0; i--) { coord[i] = rest % outDims[i]; rest /= outDims[i]; }
            int from = 0;
            for (int i = 0; i < rank; i++) from += coord[i] * inStride[perm[i]];
            y[o] = x[from];
        }
        return y;
    }

    [TestCase(new[] { 2, 5, 7, 3 }, new[] { 0, 3, 1, 2 })]     // NHWC → NCHW
    [TestCase(new[] { 2, 3, 5, 7 }, new[] { 0, 2, 3, 1 })]     // NCHW → NHWC
    [TestCase(new[] { 1, 70, 45, 40 }, new[] { 0, 3, 1, 2 })]  // larger than one 32×32 tile in both directions
    [TestCase(new[] { 3, 4, 5, 6 }, new[] { 3, 2, 1, 0 })]
    [TestCase(new[] { 3, 4, 5, 6 }, new[] { 1, 0, 2, 3 })]     // last axis kept: row copies
    [TestCase(new[] { 4, 1, 1, 9 }, new[] { 0, 3, 1, 2 })]     // only unit axes move
    [TestCase(new[] { 6, 10 }, new[] { 1, 0 })]
    [TestCase(new[] { 2, 3, 4 }, new[] { 0, 2, 1 })]
    public void Transpose_MatchesIndexArithmetic(int[] dims, int[] perm)
    {
        float[] x = Random(dims.Aggregate(1, (a, b) => a * b), 7);
        float[] expected = TransposeReference(x, dims, perm);
        foreach (var backend in Backends)
        {
            using var input = Tensor.FromArray(backend, x, dims);
            using var y = Ops.Transpose(input, perm);
            Assert.That(y.Shape.ToArray(), Is.EqualTo(perm.Select(p => dims[p]).ToArray()), backend.Name);
            Assert.That(y.ToArray(), Is.EqualTo(expected), backend.Name);
        }
    }

    [Test]
    public void NhwcToNchw_ThenBack_IsTheIdentity_AndPutsChannelPlanesFirst()
    {
        float[] x = Random(2 * 3 * 4 * 5, 9);
        foreach (var backend in Backends)
        {
            using var input = Tensor.FromArray(backend, x, 2, 3, 4, 5);
            using var nchw = Ops.NhwcToNchw(input);
            // (n=1, c=2, h=1, w=3) in NCHW is (n=1, h=1, w=3, c=2) in NHWC.
            Assert.That(nchw.ToArray()[((1 * 5 + 2) * 3 + 1) * 4 + 3], Is.EqualTo(x[((1 * 3 + 1) * 4 + 3) * 5 + 2]));
            using var back = Ops.NchwToNhwc(nchw);
            Assert.That(back.ToArray(), Is.EqualTo(x), backend.Name);
        }
    }

    [Test]
    public void Transpose_BadPerm_NamesTheShapeAndPerm()
    {
        using var input = Tensor.Zeros(_backends[0], 2, 3, 4);
        var error = Assert.Throws<ShapeException>(() => Ops.Transpose(input, 0, 0, 1).Dispose())!;
        Assert.That(error.Message, Does.Contain("(2, 3, 4)").And.Contain("(0, 0, 1)"));
    }
}
