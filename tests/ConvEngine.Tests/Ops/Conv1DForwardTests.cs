using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>A conv1d problem: input (N,L,C), filter (K,C/groups,OC).</summary>
public sealed record Conv1DCase(int N, int L, int C, int K, int OC, int Stride, int Dilation, PaddingMode Mode, int Groups = 1, bool Bias = true)
{
    public override string ToString() => $"n{N} L{L}x{C} k{K}->{OC} s{Stride} d{Dilation} {Mode.ToString().ToLowerInvariant()} g{Groups}{(Bias ? " bias" : "")}";
    public bool SmallEnoughForIlgpu => N * L * C <= 200;
}

public class Conv1DForwardTests
{
    private static readonly Conv1DCase[] Cases =
    [
        new(1, 11, 1, 2, 1, 1, 1, PaddingMode.Valid, Bias: false),
        new(2, 13, 3, 3, 4, 1, 1, PaddingMode.Valid),
        new(2, 13, 3, 3, 4, 2, 1, PaddingMode.Same),
        new(1, 17, 2, 5, 3, 3, 1, PaddingMode.Same),
        new(1, 16, 2, 4, 3, 1, 1, PaddingMode.Same),                 // even kernel: extra pad after
        new(2, 15, 3, 3, 2, 1, 1, PaddingMode.Causal),
        new(1, 19, 2, 3, 3, 1, 2, PaddingMode.Causal),               // causal pads dilation·(k−1) = 4
        new(1, 19, 2, 5, 2, 2, 2, PaddingMode.Causal),
        new(1, 21, 3, 7, 2, 1, 2, PaddingMode.Valid),
        new(1, 14, 4, 3, 6, 1, 1, PaddingMode.Same, Groups: 2),
        new(2, 12, 3, 3, 3, 1, 1, PaddingMode.Causal, Groups: 3),    // depthwise
        new(1, 40, 17, 5, 9, 1, 1, PaddingMode.Same),
    ];

    private static IEnumerable<TestCaseData> ForwardCases() => BackendCases.Cross("conv2d", Cases, c => c.SmallEnoughForIlgpu);

    [TestCaseSource(nameof(ForwardCases))]
    public void Conv1D_MatchesDoubleReference(BackendCase backendCase, Conv1DCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, c.N * c.L * c.C);
        var f = TestData.Uniform(random, c.K * (c.C / c.Groups) * c.OC);
        var bias = c.Bias ? TestData.Uniform(random, c.OC) : null;
        var padding = new Padding(c.Mode);

        var expected = DoubleReference.Conv1D(Nd.FromFloats(x, c.N, c.L, c.C), Nd.FromFloats(f, c.K, c.C / c.Groups, c.OC),
            bias is null ? null : TestData.Widen(bias), c.Stride, c.Dilation, c.Mode, c.Groups);

        using var input = Tensor.FromArray(backend, x, c.N, c.L, c.C);
        using var filter = Tensor.FromArray(backend, f, c.K, c.C / c.Groups, c.OC);
        using var b = bias is null ? null : Tensor.FromArray(backend, bias, c.OC);
        using var y = Ops.Conv1D(input, filter, b, c.Stride, c.Dilation, padding, c.Groups);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape), "output shape");
        Approx.AssertClose(expected.Data, y.ToArray(), c.K * c.C / c.Groups, $"Conv1D {c}");
    }

    /// <summary>keras-semantics.md A: the course's time-series kernels, run as tf.nn.conv1d with stride 1 and VALID padding.</summary>
    public static readonly object[] CourseKernels =
    [
        new object[] { "detrend", new float[] { -1, 1 } },
        new object[] { "average", new float[] { 0.2f, 0.2f, 0.2f, 0.2f, 0.2f } },
        new object[] { "spencer", new float[] { -3, -6, -5, 3, 21, 46, 67, 74, 67, 46, 32, 3, -5, -6, -3 }.Select(v => v / 320f).ToArray() },
    ];

    private static IEnumerable<TestCaseData> CourseKernelCases() =>
        from b in BackendCases.For("conv2d")
        from object[] k in CourseKernels
        select new TestCaseData(b, k[0], k[1]).SetArgDisplayNames(b.ToString(), (string)k[0]);

    /// <summary>VALID, stride 1: a series of length N gives N − k + 1 values, y[t] = Σ_j x[t+j]·kernel[j] (no flip).</summary>
    [TestCaseSource(nameof(CourseKernelCases))]
    public void CourseTimeSeriesKernel_Valid_GivesLengthNMinusKPlusOne(BackendCase backendCase, string name, float[] kernel)
    {
        var backend = backendCase.Acquire();
        const int length = 48;
        var random = new Random(TestData.Seed(name));
        // A trending, noisy series, like the course's.
        var series = Enumerable.Range(0, length).Select(t => 0.05f * t + MathF.Sin(t * 0.7f) + 0.1f * random.NextSingle()).ToArray();

        using var input = Tensor.FromArray(backend, series, 1, length, 1);
        using var filter = Tensor.FromArray(backend, kernel, kernel.Length, 1, 1);
        using var y = Ops.Conv1D(input, filter, null);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 1, length - kernel.Length + 1, 1 }));
        var expected = new double[length - kernel.Length + 1];
        for (int t = 0; t < expected.Length; t++)
            for (int j = 0; j < kernel.Length; j++)
                expected[t] += (double)series[t + j] * kernel[j];
        Approx.AssertClose(expected, y.ToArray(), kernel.Length, name);
    }

    /// <summary>Detrend [−1, 1] is the first difference y[t] = x[t+1] − x[t]: a straight line becomes its slope.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d" })]
    public void DetrendKernel_TurnsALineIntoItsSlope(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var line = Enumerable.Range(0, 10).Select(t => 3f + 0.5f * t).ToArray();
        using var input = Tensor.FromArray(backend, line, 1, 10, 1);
        using var filter = Tensor.FromArray(backend, [-1f, 1f], 2, 1, 1);
        using var y = Ops.Conv1D(input, filter, null);
        Assert.That(y.ToArray(), Is.EqualTo(Enumerable.Repeat(0.5f, 9).ToArray()));
    }

    /// <summary>
    /// Keras Conv1D "causal": output t sees inputs up to t only (dilation·(k−1) zeros on the left), and the
    /// length is kept. Changing x[t0] leaves every output before t0 unchanged and changes output t0.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d" })]
    public void CausalPadding_OutputNeverSeesTheFuture(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var random = new Random(7);
        var x = TestData.Uniform(random, 12);
        var f = TestData.Uniform(random, 3);
        const int t0 = 6;
        var changed = (float[])x.Clone();
        changed[t0] += 1f;

        float[] Run(float[] data)
        {
            using var input = Tensor.FromArray(backend, data, 1, 12, 1);
            using var filter = Tensor.FromArray(backend, f, 3, 1, 1);
            using var y = Ops.Conv1D(input, filter, null, dilation: 2, padding: Padding.Causal);
            Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 1, 12, 1 }));
            return y.ToArray();
        }

        var before = Run(x);
        var after = Run(changed);
        Assert.That(after[..t0], Is.EqualTo(before[..t0]), "outputs before t0");
        // Output t0 reads x[t0] through the last tap (offset 0 after the causal shift of 4).
        Assert.That(after[t0] - before[t0], Is.EqualTo(f[2]).Within(1e-5f), "output t0 moves by the last tap");
    }
}
