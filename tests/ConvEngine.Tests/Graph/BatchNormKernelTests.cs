using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using NUnit.Framework;

namespace ConvEngine.Tests.Graph;

/// <summary>
/// The batch-norm training kernels and LRN's backward on the cpu backend (one thread and two, so both the
/// single-part and the split reductions run), on ILGPU's CPU accelerator (and on cuda/opencl when
/// CONVENGINE_TEST_BACKENDS names them), against the double references
/// in <see cref="GraphReference"/>, whose gradients are themselves checked by finite differences here.
/// </summary>
[TestFixture]
public class BatchNormKernelTests
{
    private const float Epsilon = 1e-3f;
    private IBackend[] _backends = [];

    [OneTimeSetUp]
    public void Open() => _backends =
    [
        new CpuBackend(threads: 1), new CpuBackend(threads: 2),
        .. OpTests.BackendCases.IlgpuNames.Select(OpTests.BackendCases.TryCreate).OfType<IBackend>(),
    ];

    [OneTimeTearDown]
    public void Close()
    {
        foreach (var b in _backends) b.Dispose();
    }

    private static string Describe(IBackend backend) => backend is CpuBackend cpu ? $"cpu/{cpu.Threads} threads" : backend.Name;

    /// <summary>Runs the op on every backend; ILGPU's simulated threads get only the small cases.</summary>
    private IEnumerable<IBackend> BackendsFor(long values) => _backends.Where(b => b.Name != "ilgpu-cpu" || values <= 20_000);

    // 3 channels (RGB-like: few channels per block row), 17 (no vector width divides it), and 40,000 rows × 3,
    // which spans ~118 blocks of 1,023 floats, several float-to-double folds and both threads' parts.
    private static readonly object[] Shapes =
    [
        new object[] { 35, 3 },
        new object[] { 24, 17 },
        new object[] { 1, 5 },
        new object[] { 40_000, 3 },
    ];

    [TestCaseSource(nameof(Shapes))]
    public void Statistics_AreMeanAndBiasedVariancePerChannel(int rows, int channels)
    {
        float[] x = GraphReference.Uniform(rows * channels, 1, -2f, 3f);
        var (mean, variance) = GraphReference.Moments(x, channels);
        foreach (var backend in BackendsFor(x.Length))
        {
            var (gotMean, gotVariance) = Statistics(backend, x, rows, channels);
            for (int c = 0; c < channels; c++)
            {
                Assert.That(gotMean[c], Is.EqualTo(mean[c]).Within(2e-6 + 2e-6 * Math.Abs(mean[c])), $"{Describe(backend)} mean[{c}]");
                Assert.That(gotVariance[c], Is.EqualTo(variance[c]).Within(2e-6 + 2e-6 * variance[c]), $"{Describe(backend)} variance[{c}]");
            }
        }
    }

    // A mean 1,000 times the spread: a one-pass Σx² − n·mean² in float would lose every digit of the variance.
    [Test]
    public void Statistics_LargeOffset_KeepsTheVarianceAccurate()
    {
        const int rows = 5000, channels = 4;
        float[] x = GraphReference.Uniform(rows * channels, 2, 999f, 1001f);
        var (mean, variance) = GraphReference.Moments(x, channels);
        foreach (var backend in BackendsFor(x.Length))
        {
            var (_, gotVariance) = Statistics(backend, x, rows, channels);
            for (int c = 0; c < channels; c++)
                Assert.That(gotVariance[c], Is.EqualTo(variance[c]).Within(1e-3 * variance[c]), $"{Describe(backend)} variance[{c}]");
        }
    }

    [TestCase(35, 3, true, true)]
    [TestCase(24, 17, false, true)]
    [TestCase(24, 17, true, false)]
    [TestCase(40_000, 3, true, true)]
    public void Forward_IsGammaTimesNormalizedPlusBeta(int rows, int channels, bool withGamma, bool withBeta)
    {
        float[] x = GraphReference.Uniform(rows * channels, 3, -2f, 2f);
        float[] mean = GraphReference.Uniform(channels, 4), variance = GraphReference.Uniform(channels, 5, 0.2f, 3f);
        float[]? gamma = withGamma ? GraphReference.Uniform(channels, 6, 0.5f, 2f) : null;
        float[]? beta = withBeta ? GraphReference.Uniform(channels, 7) : null;
        double[] expected = GraphReference.Normalize(GraphReference.Widen(x), channels, GraphReference.Widen(mean), GraphReference.Widen(variance), Epsilon, Wide(gamma), Wide(beta));
        foreach (var backend in BackendsFor(x.Length))
        {
            using var input = Tensor.FromArray(backend, x, rows, channels);
            using var m = Tensor.FromArray(backend, mean, channels);
            using var v = Tensor.FromArray(backend, variance, channels);
            using var g = gamma is null ? null : Tensor.FromArray(backend, gamma, channels);
            using var b = beta is null ? null : Tensor.FromArray(backend, beta, channels);
            using var y = Tensor.Zeros(backend, rows, channels);
            backend.BatchNormForward(input.Buffer, m.Buffer, v.Buffer, g?.Buffer, b?.Buffer, y.Buffer, rows, channels, Epsilon);
            AssertClose(y.ToArray(), expected, 1e-5, Describe(backend));
        }
    }

    // The reference gradient is itself the derivative of the reference forward pass (differences in double).
    [Test]
    public void ReferenceBackward_MatchesFiniteDifferencesOfTheForwardPass()
    {
        const int rows = 6, channels = 3;
        float[] x = GraphReference.Uniform(rows * channels, 8, -2f, 2f), dy = GraphReference.Uniform(rows * channels, 9);
        float[] gamma = GraphReference.Uniform(channels, 10, 0.5f, 2f), beta = GraphReference.Uniform(channels, 11);
        var (dx, dGamma, dBeta) = GraphReference.BatchNormBackward(x, dy, channels, Epsilon, gamma);
        double[] w = GraphReference.Widen(dy);
        double[] xD = GraphReference.Widen(x), gammaD = GraphReference.Widen(gamma), betaD = GraphReference.Widen(beta);
        double[] numericDx = GraphReference.NumericGradient(v => GraphReference.BatchNormTraining(v, channels, Epsilon, gammaD, betaD), xD, w);
        double[] numericDGamma = GraphReference.NumericGradient(g => GraphReference.BatchNormTraining(xD, channels, Epsilon, g, betaD), gammaD, w);
        double[] numericDBeta = GraphReference.NumericGradient(b => GraphReference.BatchNormTraining(xD, channels, Epsilon, gammaD, b), betaD, w);
        for (int i = 0; i < x.Length; i++) Assert.That(dx[i], Is.EqualTo(numericDx[i]).Within(1e-7), $"dx[{i}]");
        for (int c = 0; c < channels; c++)
        {
            Assert.That(dGamma[c], Is.EqualTo(numericDGamma[c]).Within(1e-7), $"dGamma[{c}]");
            Assert.That(dBeta[c], Is.EqualTo(numericDBeta[c]).Within(1e-7), $"dBeta[{c}]");
        }
    }

    [TestCase(35, 3, true)]
    [TestCase(24, 17, false)]
    [TestCase(40_000, 3, true)]
    public void Backward_BatchStatistics_MatchesTheReference(int rows, int channels, bool withGamma)
    {
        float[] x = GraphReference.Uniform(rows * channels, 12, -2f, 2f), dy = GraphReference.Uniform(rows * channels, 13);
        float[]? gamma = withGamma ? GraphReference.Uniform(channels, 14, 0.5f, 2f) : null;
        var (dx, dGamma, dBeta) = GraphReference.BatchNormBackward(x, dy, channels, Epsilon, gamma);
        foreach (var backend in BackendsFor(x.Length))
        {
            var (mean, variance) = Statistics(backend, x, rows, channels);
            var (gotDx, gotDGamma, gotDBeta) = Backward(backend, x, dy, mean, variance, gamma, rows, channels, batchStatistics: true);
            string name = Describe(backend);
            AssertClose(gotDx, dx, 2e-5, name + " dx");
            // Column sums over 40,000 rows: compare relative to the sum of magnitudes, which bounds their rounding.
            double scale = Math.Sqrt(rows);
            AssertClose(gotDGamma, dGamma, 2e-5 * scale, name + " dGamma");
            AssertClose(gotDBeta, dBeta, 2e-5 * scale, name + " dBeta");
        }
    }

    // Inference (or a frozen layer): the statistics are constants, so dx = γ/√(var+ε)·dy; dγ and dβ keep their form.
    [Test]
    public void Backward_FixedStatistics_IsScaledGradient()
    {
        const int rows = 20, channels = 5;
        float[] x = GraphReference.Uniform(rows * channels, 15, -2f, 2f), dy = GraphReference.Uniform(rows * channels, 16);
        float[] mean = GraphReference.Uniform(channels, 17), variance = GraphReference.Uniform(channels, 18, 0.2f, 2f);
        float[] gamma = GraphReference.Uniform(channels, 19, 0.5f, 2f);
        foreach (var backend in BackendsFor(x.Length))
        {
            var (dx, dGamma, dBeta) = Backward(backend, x, dy, mean, variance, gamma, rows, channels, batchStatistics: false);
            for (int i = 0; i < x.Length; i++)
            {
                int c = i % channels;
                Assert.That(dx[i], Is.EqualTo(gamma[c] / Math.Sqrt(variance[c] + (double)Epsilon) * dy[i]).Within(1e-5), $"{Describe(backend)} dx[{i}]");
            }
            for (int c = 0; c < channels; c++)
            {
                double sumDy = 0, sumDyXhat = 0;
                for (int r = 0; r < rows; r++)
                {
                    sumDy += dy[r * channels + c];
                    sumDyXhat += dy[r * channels + c] * (x[r * channels + c] - mean[c]) / Math.Sqrt(variance[c] + (double)Epsilon);
                }
                Assert.That(dBeta[c], Is.EqualTo(sumDy).Within(1e-5), $"{Describe(backend)} dBeta[{c}]");
                Assert.That(dGamma[c], Is.EqualTo(sumDyXhat).Within(1e-5), $"{Describe(backend)} dGamma[{c}]");
            }
        }
    }

    // Keras: moving = moving·momentum + batch·(1 − momentum); TF's fused kernel scales the batch variance by n/(n−1).
    [Test]
    public void MovingAverageUpdate_BlendsByMomentum()
    {
        float[] moving = [0f, 1f, -2f], batch = [4f, 3f, 2f];
        foreach (var backend in _backends)
        {
            using var m = Tensor.FromArray(backend, moving, 3);
            using var b = Tensor.FromArray(backend, batch, 3);
            backend.MovingAverageUpdate(m.Buffer, b.Buffer, 3, 0.9f, 2f);
            // 0.9·0 + 0.1·2·4 = 0.8; 0.9·1 + 0.1·2·3 = 1.5; 0.9·(−2) + 0.1·2·2 = −1.4
            Assert.That(m.ToArray(), Is.EqualTo(new[] { 0.8f, 1.5f, -1.4f }).Within(1e-6f), Describe(backend));
        }
    }

    [Test]
    public void AllKernels_CpuAndIlgpuCpu_Agree()
    {
        const int rows = 300, channels = 6;
        float[] x = GraphReference.Uniform(rows * channels, 20, -3f, 1f), dy = GraphReference.Uniform(rows * channels, 21);
        float[] gamma = GraphReference.Uniform(channels, 22, 0.5f, 2f);
        var results = _backends.Select(backend =>
        {
            var (mean, variance) = Statistics(backend, x, rows, channels);
            var (dx, dGamma, dBeta) = Backward(backend, x, dy, mean, variance, gamma, rows, channels, batchStatistics: true);
            return (Backend: Describe(backend), Values: mean.Concat(variance).Concat(dx).Concat(dGamma).Concat(dBeta).ToArray());
        }).ToList();
        foreach (var other in results.Skip(1))
            for (int i = 0; i < other.Values.Length; i++)
                Assert.That(other.Values[i], Is.EqualTo(results[0].Values[i]).Within(2e-5 + 2e-5 * Math.Abs(results[0].Values[i])),
                    $"{other.Backend} vs {results[0].Backend}, value {i}");
    }

    [Test]
    public void Statistics_NoRows_IsAnErrorNamingTheOp()
    {
        foreach (var backend in _backends)
        {
            using var x = Tensor.Zeros(backend, 1, 3);
            using var m = Tensor.Zeros(backend, 3);
            var e = Assert.Throws<ArgumentException>(() => backend.BatchNormStatistics(x.Buffer, m.Buffer, m.Buffer, 0, 3));
            Assert.That(e!.Message, Does.Contain("BatchNormStatistics").And.Contain("0 rows"));
        }
    }

    // ---------------------------------------------------------------- LRN backward

    // GoogLeNet's LRN (size 5, α 1e-4, β 0.75, bias 1) and an even window with large α so the cross terms matter.
    [TestCase(7, 5, 1e-4f, 0.75f, 1f)]
    [TestCase(3, 4, 0.5f, 0.6f, 2f)]
    [TestCase(4, 1, 0.3f, 1.5f, 1f)]
    public void LrnBackward_MatchesFiniteDifferencesOfTheDoubleForward(int channels, int size, float alpha, float beta, float bias)
    {
        const int pixels = 6;
        float[] x = GraphReference.Uniform(pixels * channels, 23, -2f, 2f), dy = GraphReference.Uniform(pixels * channels, 24);
        double[] expected = GraphReference.NumericGradient(v => GraphReference.Lrn(v, channels, size, alpha, beta, bias), GraphReference.Widen(x), GraphReference.Widen(dy));
        var g = LrnGeometry.Create("LRN", new TensorShape(pixels, channels), size, alpha, beta, bias);
        foreach (var backend in _backends)
        {
            using var input = Tensor.FromArray(backend, x, pixels, channels);
            using var gradOutput = Tensor.FromArray(backend, dy, pixels, channels);
            using var gradInput = Tensor.Zeros(backend, pixels, channels);
            backend.LrnBackward(input.Buffer, gradOutput.Buffer, gradInput.Buffer, g);
            AssertClose(gradInput.ToArray(), expected, 1e-5, Describe(backend));
        }
    }

    // Many pixels over two threads, checked against the double finite differences on a sample of elements.
    [Test]
    public void LrnBackward_ManyPixels_SplitOverThreads_MatchesFiniteDifferences()
    {
        const int pixels = 4000, channels = 16, size = 5;
        float[] x = GraphReference.Uniform(pixels * channels, 25, -3f, 3f), dy = GraphReference.Uniform(pixels * channels, 26);
        var g = LrnGeometry.Create("LRN", new TensorShape(pixels, channels), size, 0.2f, 0.75f, 1f);
        foreach (var backend in _backends.OfType<CpuBackend>())
        {
            using var input = Tensor.FromArray(backend, x, pixels, channels);
            using var gradOutput = Tensor.FromArray(backend, dy, pixels, channels);
            using var gradInput = Tensor.Zeros(backend, pixels, channels);
            backend.LrnBackward(input.Buffer, gradOutput.Buffer, gradInput.Buffer, g);
            float[] got = gradInput.ToArray();
            foreach (int p in new[] { 0, 1, 1999, 2000, 3999 })
            {
                var rowX = GraphReference.Widen(x[(p * channels)..((p + 1) * channels)]);
                var rowDy = GraphReference.Widen(dy[(p * channels)..((p + 1) * channels)]);
                double[] expected = GraphReference.NumericGradient(v => GraphReference.Lrn(v, channels, size, 0.2, 0.75, 1), rowX, rowDy);
                AssertClose(got[(p * channels)..((p + 1) * channels)], expected, 1e-5, $"{Describe(backend)} pixel {p}");
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static (float[] Mean, float[] Variance) Statistics(IBackend backend, float[] x, int rows, int channels)
    {
        using var input = Tensor.FromArray(backend, x, rows, channels);
        using var mean = Tensor.Zeros(backend, channels);
        using var variance = Tensor.Zeros(backend, channels);
        backend.BatchNormStatistics(input.Buffer, mean.Buffer, variance.Buffer, rows, channels);
        return (mean.ToArray(), variance.ToArray());
    }

    private static (float[] Dx, float[] DGamma, float[] DBeta) Backward(IBackend backend, float[] x, float[] dy, float[] mean, float[] variance,
        float[]? gamma, int rows, int channels, bool batchStatistics)
    {
        using var input = Tensor.FromArray(backend, x, rows, channels);
        using var gradOutput = Tensor.FromArray(backend, dy, rows, channels);
        using var m = Tensor.FromArray(backend, mean, channels);
        using var v = Tensor.FromArray(backend, variance, channels);
        using var g = gamma is null ? null : Tensor.FromArray(backend, gamma, channels);
        using var dx = Tensor.Zeros(backend, rows, channels);
        using var dGamma = Tensor.Zeros(backend, channels);
        using var dBeta = Tensor.Zeros(backend, channels);
        backend.BatchNormBackward(input.Buffer, gradOutput.Buffer, m.Buffer, v.Buffer, g?.Buffer, dx.Buffer, dGamma.Buffer, dBeta.Buffer,
            rows, channels, Epsilon, batchStatistics);
        return (dx.ToArray(), dGamma.ToArray(), dBeta.ToArray());
    }

    private static double[]? Wide(float[]? values) => values is null ? null : GraphReference.Widen(values);

    private static void AssertClose(float[] got, double[] expected, double tolerance, string what)
    {
        Assert.That(got, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < got.Length; i++)
            Assert.That(got[i], Is.EqualTo(expected[i]).Within(tolerance * (1 + Math.Abs(expected[i]))), $"{what}[{i}]");
    }
}
