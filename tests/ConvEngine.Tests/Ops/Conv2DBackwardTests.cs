using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// Conv2DBackwardData / Conv2DBackwardFilter against central finite differences of the double reference
/// forward: for a random upstream gradient G, the gradient of L = Σ G ⊙ conv(x, f).
/// </summary>
public class Conv2DBackwardTests
{
    private static Conv2DOptions Opt(int stride = 1, int dilation = 1, Padding? padding = null, int groups = 1) =>
        new Conv2DOptions { Padding = padding ?? Padding.Valid, Groups = groups }.WithStrides(stride).WithDilation(dilation);

    private static readonly ConvCase[] Cases =
    [
        new(2, 6, 5, 3, 3, 3, 4, Opt()),
        new(1, 5, 5, 2, 1, 1, 3, Opt(stride: 2)),                                  // stride > kernel: skipped cells get 0
        new(1, 7, 7, 2, 3, 3, 3, Opt(stride: 2, padding: Padding.Same)),
        new(1, 8, 7, 2, 3, 3, 2, Opt(stride: 3, padding: Padding.Same)),
        new(1, 9, 8, 2, 3, 3, 2, Opt(dilation: 2, padding: Padding.Same)),
        new(1, 11, 10, 2, 3, 3, 2, Opt(stride: 2, dilation: 2, padding: Padding.Same)),
        new(1, 7, 6, 2, 3, 2, 3, Opt(stride: 2, padding: Padding.Explicit(1, 2, 0, 1))),
        new(1, 7, 7, 2, 5, 5, 2, Opt(stride: 2, padding: Padding.Same)),
        new(1, 9, 9, 1, 7, 7, 2, Opt(padding: Padding.Same)),
        new(1, 6, 6, 4, 3, 3, 6, Opt(padding: Padding.Same, groups: 2)),
        new(2, 6, 5, 3, 3, 3, 3, Opt(stride: 2, padding: Padding.Same, groups: 3)), // depthwise
        new(1, 5, 6, 3, 3, 3, 6, Opt(groups: 3)),                                   // depthwise, multiplier 2
        new(1, 6, 7, 17, 3, 3, 5, Opt(padding: Padding.Same)),
        new(1, 5, 4, 3, 3, 3, 33, Opt(padding: Padding.Same)),
    ];

    private static IEnumerable<TestCaseData> DataCases() => BackendCases.Cross("conv2d-backward-data", Cases, c => c.SmallEnoughForIlgpu);
    private static IEnumerable<TestCaseData> FilterCases() => BackendCases.Cross("conv2d-backward-filter", Cases, c => c.SmallEnoughForIlgpu);

    private static (float[] X, float[] F, float[] Upstream, Conv2DGeometry G) Problem(ConvCase c)
    {
        var random = TestData.For(c);
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.InputDims), new TensorShape(c.FilterDims), c.Options);
        return (TestData.Uniform(random, g.InputShape.Length), TestData.Uniform(random, g.FilterShape.Length),
            TestData.Uniform(random, g.OutputShape.Length), g);
    }

    [TestCaseSource(nameof(DataCases))]
    public void Conv2DBackwardData_MatchesFiniteDifferences(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var (x, f, upstream, g) = Problem(c);
        var filter = Nd.FromFloats(f, c.FilterDims);
        var gradOut = TestData.Widen(upstream);
        var expected = ExpectedCache.Get($"conv2d data {c}", () => FiniteDifference.Gradient(
            v => FiniteDifference.Dot(gradOut, DoubleReference.Conv2D(new Nd(v, c.InputDims), filter, null, c.Options).Data),
            TestData.Widen(x)));

        using var gradOutput = Device.Put(backend, upstream);
        using var filterBuffer = Device.Put(backend, f);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.Conv2DBackwardData(gradOutput.Buffer, filterBuffer.Buffer, gradInput.Buffer, g);

        Approx.AssertClose(expected, gradInput.ToArray(), c.KH * c.KW * g.OutChannelsPerGroup, $"Conv2DBackwardData {c}");
    }

    [TestCaseSource(nameof(FilterCases))]
    public void Conv2DBackwardFilter_MatchesFiniteDifferences(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var (x, f, upstream, g) = Problem(c);
        var input = Nd.FromFloats(x, c.InputDims);
        var gradOut = TestData.Widen(upstream);
        var expected = ExpectedCache.Get($"conv2d filter {c}", () => FiniteDifference.Gradient(
            v => FiniteDifference.Dot(gradOut, DoubleReference.Conv2D(input, new Nd(v, c.FilterDims), null, c.Options).Data),
            TestData.Widen(f)));

        using var inputBuffer = Device.Put(backend, x);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradFilter = Device.Garbage(backend, f.Length);
        backend.Conv2DBackwardFilter(inputBuffer.Buffer, gradOutput.Buffer, gradFilter.Buffer, g);

        Approx.AssertClose(expected, gradFilter.ToArray(), g.N * g.OH * g.OW, $"Conv2DBackwardFilter {c}");
    }

    /// <summary>
    /// A stride-2 1×1 conv reads only the even rows and columns: every other input cell has gradient exactly 0
    /// (and must be written as 0, not left as it was).
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d-backward-data" })]
    public void BackwardData_Stride2Kernel1_GivesZeroToSkippedCells(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(1, 3, 3, 1), new TensorShape(1, 1, 1, 1), Opt(stride: 2));
        using var gradOutput = Device.Put(backend, [1, 2, 3, 4]);
        using var filter = Device.Put(backend, [10]);
        using var gradInput = Device.Garbage(backend, 9);
        backend.Conv2DBackwardData(gradOutput.Buffer, filter.Buffer, gradInput.Buffer, g);
        Assert.That(gradInput.ToArray(), Is.EqualTo(new float[] { 10, 0, 20, 0, 0, 0, 30, 0, 40 }));
    }
}
