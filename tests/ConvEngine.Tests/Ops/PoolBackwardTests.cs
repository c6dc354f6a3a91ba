using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>Pool2DBackward and GlobalPoolBackward against finite differences of the double reference forward.</summary>
public class PoolBackwardTests
{
    private static Pool2DOptions Pool(int size, int? stride = null, Padding? padding = null, int dilation = 1, bool ceil = false, bool includePad = false) =>
        Pool2DOptions.Square(size, stride, padding) with { DilationH = dilation, DilationW = dilation, CeilMode = ceil, CountIncludePad = includePad };

    private static IEnumerable<PoolCase> Cases()
    {
        var options = new[]
        {
            new Pool2DOptions(),
            Pool(2, padding: Padding.Same),
            Pool(3, 2),
            Pool(3, 2, Padding.Same),
            Pool(3, 1, Padding.Same),              // overlapping windows: a cell collects from several outputs
            Pool(3, 3, Padding.Same),
            Pool(3, 2, Padding.Explicit(1)),
            Pool(3, 2, Padding.Explicit(1), includePad: true),
            Pool(3, 2, ceil: true),
            Pool(3, 2, Padding.Explicit(1), ceil: true, includePad: true),
            Pool(2, 1, dilation: 2),
            new Pool2DOptions { PoolH = 3, PoolW = 2, StrideH = 2, StrideW = 1, Padding = Padding.Same },
        };
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            foreach (var o in options) yield return new PoolCase(kind, 2, 7, 6, 2, o);
            yield return new PoolCase(kind, 1, 6, 5, 19, Pool(3, 2, Padding.Same));
        }
    }

    private static IEnumerable<TestCaseData> BackwardCases() => BackendCases.Cross("pool2d-backward", Cases(), c => c.SmallEnoughForIlgpu);

    /// <summary>Max: distinct inputs, so each window's argmax is unique and stays put under the FD step.</summary>
    [TestCaseSource(nameof(BackwardCases))]
    public void Pool2DBackward_MatchesFiniteDifferences(BackendCase backendCase, PoolCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(c.InputDims), c.Options);
        var x = TestData.Distinct(random, g.InputShape.Length);
        var upstream = TestData.Uniform(random, g.OutputShape.Length);
        var gradOut = TestData.Widen(upstream);
        var expected = ExpectedCache.Get($"pool2d {c}", () => FiniteDifference.Gradient(
            v => FiniteDifference.Dot(gradOut, DoubleReference.Pool2D(new Nd(v, c.InputDims), c.Options, c.Kind).Data),
            TestData.Widen(x)));

        using var input = Device.Put(backend, x);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.Pool2DBackward(input.Buffer, gradOutput.Buffer, gradInput.Buffer, g, c.Kind);

        Approx.AssertClose(expected, gradInput.ToArray(), c.Options.PoolH * c.Options.PoolW, $"Pool2DBackward {c}");
    }

    /// <summary>
    /// Ties: the gradient goes to the first maximum in scan order (row by row within the window).
    /// Constant 3×3 input, pool 2 stride 1 valid → 2×2 windows whose first cells are (0,0), (0,1), (1,0), (1,1);
    /// upstream [1 2; 3 4] lands there and nowhere else: [1 2 0; 3 4 0; 0 0 0].
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "pool2d-backward" })]
    public void MaxPoolBackward_Ties_GoToFirstMaximumInScanOrder(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var g = Pool2DGeometry.Create("MaxPool2D", new TensorShape(1, 3, 3, 1), Pool(2, 1));
        using var input = Device.Put(backend, Enumerable.Repeat(0.5f, 9).ToArray());
        using var gradOutput = Device.Put(backend, [1, 2, 3, 4]);
        using var gradInput = Device.Garbage(backend, 9);
        backend.Pool2DBackward(input.Buffer, gradOutput.Buffer, gradInput.Buffer, g, PoolKind.Max);
        Assert.That(gradInput.ToArray(), Is.EqualTo(new float[] { 1, 2, 0, 3, 4, 0, 0, 0, 0 }));
    }

    /// <summary>
    /// A tie inside one window: [5 5; 5 1] has its maximum at (0,0) and (0,1) and (1,0); only (0,0), the first in
    /// scan order, receives the gradient.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "pool2d-backward" })]
    public void MaxPoolBackward_TieInsideWindow_GoesToTopLeft(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var g = Pool2DGeometry.Create("MaxPool2D", new TensorShape(1, 2, 2, 1), new Pool2DOptions());
        using var input = Device.Put(backend, [5, 5, 5, 1]);
        using var gradOutput = Device.Put(backend, [3]);
        using var gradInput = Device.Garbage(backend, 4);
        backend.Pool2DBackward(input.Buffer, gradOutput.Buffer, gradInput.Buffer, g, PoolKind.Max);
        Assert.That(gradInput.ToArray(), Is.EqualTo(new float[] { 3, 0, 0, 0 }));
    }

    public sealed record GlobalCase(PoolKind Kind, int N, int Spatial, int C)
    {
        public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} n{N} spatial{Spatial} c{C}";
    }

    private static IEnumerable<TestCaseData> GlobalCases() => BackendCases.Cross("global-pool-backward",
        from kind in new[] { PoolKind.Average, PoolKind.Max }
        from shape in new[] { (1, 1, 3), (2, 35, 3), (3, 16, 21) }
        select new GlobalCase(kind, shape.Item1, shape.Item2, shape.Item3),
        c => c.N * c.Spatial * c.C <= 300);

    [TestCaseSource(nameof(GlobalCases))]
    public void GlobalPoolBackward_MatchesFiniteDifferences(BackendCase backendCase, GlobalCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Distinct(random, c.N * c.Spatial * c.C);
        var upstream = TestData.Uniform(random, c.N * c.C);
        var gradOut = TestData.Widen(upstream);
        var expected = FiniteDifference.Gradient(
            v => FiniteDifference.Dot(gradOut, DoubleReference.GlobalPool(new Nd(v, c.N, c.Spatial, c.C), c.Kind).Data),
            TestData.Widen(x));

        using var input = Device.Put(backend, x);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.GlobalPoolBackward(input.Buffer, gradOutput.Buffer, gradInput.Buffer, c.N, c.Spatial, c.C, c.Kind);

        Approx.AssertClose(expected, gradInput.ToArray(), 1, $"GlobalPoolBackward {c}");
    }
}
