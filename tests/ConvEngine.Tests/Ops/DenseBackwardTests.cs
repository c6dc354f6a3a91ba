using ConvEngine.Kernels;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>MatMul (with transposes and accumulate) and BiasBackward, the kernels a Dense layer's backward pass uses.</summary>
public class DenseBackwardTests
{
    public sealed record MatMulCase(int M, int K, int N, bool TransposeA, bool TransposeB, bool Accumulate)
    {
        public override string ToString() =>
            $"{M}x{K}x{N}{(TransposeA ? " aT" : "")}{(TransposeB ? " bT" : "")}{(Accumulate ? " +=" : "")}";
    }

    private static IEnumerable<TestCaseData> MatMulCases() => BackendCases.Cross("matmul",
        from shape in new[] { (1, 1, 1), (3, 5, 7), (17, 33, 9), (6, 1, 35), (64, 40, 70) }
        from ta in new[] { false, true }
        from tb in new[] { false, true }
        from acc in new[] { false, true }
        select new MatMulCase(shape.Item1, shape.Item2, shape.Item3, ta, tb, acc),
        c => c.M * c.K * c.N <= 1000);

    /// <summary>c (M,N) = op(a)·op(b) [+ c]: a stored (M,K) or, transposed, (K,M); b stored (K,N) or (N,K).</summary>
    [TestCaseSource(nameof(MatMulCases))]
    public void MatMul_MatchesDoubleReference(BackendCase backendCase, MatMulCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var a = TestData.Uniform(random, c.M * c.K);
        var b = TestData.Uniform(random, c.K * c.N);
        var c0 = TestData.Uniform(random, c.M * c.N);
        var expected = DoubleReference.MatMul(TestData.Widen(a), TestData.Widen(b), c.M, c.K, c.N, c.TransposeA, c.TransposeB);
        if (c.Accumulate) expected = DoubleReference.Add(expected, TestData.Widen(c0));

        using var ta = Device.Put(backend, a);
        using var tb = Device.Put(backend, b);
        using var tc = c.Accumulate ? Device.Put(backend, c0) : Device.Garbage(backend, c.M * c.N);
        backend.MatMul(ta.Buffer, tb.Buffer, tc.Buffer, c.M, c.K, c.N, c.TransposeA, c.TransposeB, c.Accumulate);

        Approx.AssertClose(expected, tc.ToArray(), c.K, $"MatMul {c}");
    }

    public sealed record DenseLayerCase(int Batch, int In, int Units)
    {
        public override string ToString() => $"batch{Batch} {In}->{Units}";
    }

    private static IEnumerable<TestCaseData> DenseCases() => BackendCases.Cross("matmul",
        new DenseLayerCase[] { new(1, 3, 1), new(5, 7, 3), new(8, 33, 17) }, c => c.Batch * c.In * c.Units <= 200);

    /// <summary>
    /// Dense y = x·W + b: dx = G·Wᵀ (MatMul with b transposed), dW = xᵀ·G (a transposed), db = Σ_rows G,
    /// each against finite differences of the double reference Dense. A second batch accumulates into dW,
    /// as a layer fed twice (or a split batch) would.
    /// </summary>
    [TestCaseSource(nameof(DenseCases))]
    public void DenseBackward_ThroughMatMul_MatchesFiniteDifferences(BackendCase backendCase, DenseLayerCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, c.Batch * c.In);
        var w = TestData.Uniform(random, c.In * c.Units);
        var bias = TestData.Uniform(random, c.Units);
        var upstream = TestData.Uniform(random, c.Batch * c.Units);
        var x2 = TestData.Uniform(random, c.Batch * c.In);
        var upstream2 = TestData.Uniform(random, c.Batch * c.Units);

        double Loss(double[] xv, double[] wv, double[] bv, float[] g) => FiniteDifference.Dot(TestData.Widen(g),
            DoubleReference.Dense(new Nd(xv, c.Batch, c.In), new Nd(wv, c.In, c.Units), bv).Data);
        double[] xd = TestData.Widen(x), wd = TestData.Widen(w), bd = TestData.Widen(bias), x2d = TestData.Widen(x2);
        var expectedDx = FiniteDifference.Gradient(v => Loss(v, wd, bd, upstream), xd);
        var expectedDw = DoubleReference.Add(
            FiniteDifference.Gradient(v => Loss(xd, v, bd, upstream), wd),
            FiniteDifference.Gradient(v => Loss(x2d, v, bd, upstream2), wd));
        var expectedDb = FiniteDifference.Gradient(v => Loss(xd, wd, v, upstream), bd);

        using var tx = Device.Put(backend, x);
        using var tx2 = Device.Put(backend, x2);
        using var tw = Device.Put(backend, w);
        using var tg = Device.Put(backend, upstream);
        using var tg2 = Device.Put(backend, upstream2);
        using var dx = Device.Garbage(backend, x.Length);
        using var dw = Device.Garbage(backend, w.Length);
        using var db = Device.Garbage(backend, bias.Length);
        backend.MatMul(tg.Buffer, tw.Buffer, dx.Buffer, c.Batch, c.Units, c.In, transposeA: false, transposeB: true, accumulate: false);
        backend.MatMul(tx.Buffer, tg.Buffer, dw.Buffer, c.In, c.Batch, c.Units, transposeA: true, transposeB: false, accumulate: false);
        backend.MatMul(tx2.Buffer, tg2.Buffer, dw.Buffer, c.In, c.Batch, c.Units, transposeA: true, transposeB: false, accumulate: true);
        backend.BiasBackward(tg.Buffer, db.Buffer, c.Batch, c.Units);

        Approx.AssertClose(expectedDx, dx.ToArray(), c.Units, "dx");
        Approx.AssertClose(expectedDw, dw.ToArray(), 2 * c.Batch, "dW (two batches accumulated)");
        Approx.AssertClose(expectedDb, db.ToArray(), c.Batch, "db");
    }

    public sealed record BiasCase(long Rows, int Channels)
    {
        public override string ToString() => $"rows{Rows} c{Channels}";
    }

    private static IEnumerable<TestCaseData> BiasCases() => BackendCases.Cross("bias-backward",
        new BiasCase[] { new(1, 1), new(7, 3), new(2 * 5 * 5, 17), new(300, 35) }, c => c.Rows * c.Channels <= 500);

    /// <summary>Bias added to every row of (rows, channels): its gradient sums the upstream gradient over rows.</summary>
    [TestCaseSource(nameof(BiasCases))]
    public void BiasBackward_MatchesFiniteDifferences(BackendCase backendCase, BiasCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var upstream = TestData.Uniform(random, c.Rows * c.Channels);
        var x = TestData.Widen(TestData.Uniform(random, c.Rows * c.Channels));
        var gradOut = TestData.Widen(upstream);
        double Loss(double[] b)
        {
            double sum = 0;
            for (long i = 0; i < x.Length; i++) sum += gradOut[i] * (x[i] + b[i % c.Channels]);
            return sum;
        }
        var expected = FiniteDifference.Gradient(Loss, new double[c.Channels]);

        using var g = Device.Put(backend, upstream);
        using var db = Device.Garbage(backend, c.Channels);
        backend.BiasBackward(g.Buffer, db.Buffer, c.Rows, c.Channels);
        Approx.AssertClose(expected, db.ToArray(), (int)c.Rows, $"BiasBackward {c}");
    }
}
