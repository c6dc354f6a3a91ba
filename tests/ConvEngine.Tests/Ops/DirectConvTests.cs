using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// The conv kernels that read windows straight from a padded strip of the input (cpu's conv2d "direct", which the
/// default also runs for 1-4 input channels; conv2d-backward-filter "direct"; conv2d-backward-data
/// "flipped-filter-conv"), on shapes that cross their blocking: more taps than one pass holds (288-576), output
/// channels that are not a multiple of the 16- or 32-wide tile, taps not a multiple of the 6 or 12 a tile sums, pixel
/// tiles running across row ends (7-wide rows), strips
/// crossing images, groups with 3 channels each, dilation and explicit pads, and 1, 2 or 3 threads; every registered
/// variant and SIMD level, against the double reference forward conv and its chain-rule gradients.
/// </summary>
public class DirectConvTests
{
    private static Conv2DOptions Opt(int stride = 1, int dilation = 1, Padding? padding = null, int groups = 1, KernelActivation activation = default) =>
        new Conv2DOptions { Padding = padding ?? Padding.Valid, Groups = groups, Activation = activation }.WithStrides(stride).WithDilation(dilation);

    private static readonly ConvCase[] Cases =
    [
        new(2, 9, 13, 32, 3, 3, 37, Opt(padding: Padding.Same, activation: KernelActivation.Relu)),          // 288 taps, 3 channel panels
        new(3, 28, 28, 1, 5, 5, 32, Opt(padding: Padding.Same, activation: KernelActivation.Relu)),           // the Fashion-MNIST first layer
        new(1, 30, 28, 3, 7, 7, 16, Opt(stride: 2, padding: Padding.Same)),                             // an RGB stem
        new(2, 11, 10, 6, 3, 3, 10, Opt(padding: Padding.Same, groups: 2, activation: KernelActivation.Sigmoid)),
        new(1, 12, 9, 2, 3, 3, 5, Opt(dilation: 2, padding: Padding.Explicit(1, 2, 0, 3), activation: KernelActivation.Tanh)),
        new(2, 7, 7, 64, 3, 3, 20, Opt(padding: Padding.Same, activation: KernelActivation.LeakyRelu(0.2f))), // 576 taps, rows of 7
        new(4, 5, 6, 3, 2, 3, 9, Opt(stride: 2), Bias: false),
        new(2, 9, 8, 30, 3, 3, 64, Opt(padding: Padding.Same, activation: KernelActivation.Relu)),           // 270 taps: AVX-512's 12 × 32 tiles, a 6-tap edge
    ];

    private static float[] Rand(string name, long length) => TestData.Uniform(new Random(TestData.Seed(name)), length);

    private static IEnumerable<TestCaseData> ForwardCases() => BackendCases.CrossThreaded("conv2d", Cases);

    [TestCaseSource(nameof(ForwardCases))]
    public void Conv2D_MatchesReference(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.InputDims), new TensorShape(c.FilterDims), c.Options);
        var x = Rand($"x {c}", g.InputShape.Length);
        var f = Rand($"f {c}", g.FilterShape.Length);
        var bias = c.Bias ? Rand($"b {c}", g.OC) : null;
        var expected = ExpectedCache.Get($"direct conv {c}", () => DoubleReference.Conv2D(Nd.FromFloats(x, c.InputDims),
            Nd.FromFloats(f, c.FilterDims), bias is null ? null : TestData.Widen(bias), c.Options));

        using var input = Device.Put(backend, x);
        using var filter = Device.Put(backend, f);
        using var b = bias is null ? null : Device.Put(backend, bias);
        using var output = Device.Garbage(backend, g.OutputShape.Length);
        backend.Conv2D(input.Buffer, filter.Buffer, b?.Buffer, output.Buffer, g, c.Options.Activation);
        Approx.AssertClose(expected.Data, output.ToArray(), c.ReductionLength, $"Conv2D {c}");
    }

    private static IEnumerable<TestCaseData> FilterCases() => BackendCases.CrossThreaded("conv2d-backward-filter", Cases);
    private static IEnumerable<TestCaseData> DataCases() => BackendCases.CrossThreaded("conv2d-backward-data", Cases);

    private (double[] Data, double[] Filter) Expected(ConvCase c, float[] x, float[] f, float[] upstream, in Conv2DGeometry g)
    {
        int[] outputDims = g.OutputShape.ToArray();
        return ExpectedCache.Get($"direct conv backward {c}", () =>
        {
            var (data, filter) = DoubleReference.Conv2DBackward(Nd.FromFloats(x, c.InputDims), Nd.FromFloats(f, c.FilterDims),
                Nd.FromFloats(upstream, outputDims), c.Options);
            return Tuple.Create(data.Data, filter.Data);
        }).ToValueTuple();
    }

    [TestCaseSource(nameof(FilterCases))]
    public void Conv2DBackwardFilter_MatchesChainRuleReference(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.InputDims), new TensorShape(c.FilterDims), c.Options);
        var (x, f, upstream) = (Rand($"x {c}", g.InputShape.Length), Rand($"f {c}", g.FilterShape.Length), Rand($"g {c}", g.OutputShape.Length));
        var (_, expected) = Expected(c, x, f, upstream, g);

        using var input = Device.Put(backend, x);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradFilter = Device.Garbage(backend, f.Length);
        backend.Conv2DBackwardFilter(input.Buffer, gradOutput.Buffer, gradFilter.Buffer, g);
        Approx.AssertClose(expected, gradFilter.ToArray(), g.N * g.OH * g.OW, $"Conv2DBackwardFilter {c}");
    }

    [TestCaseSource(nameof(DataCases))]
    public void Conv2DBackwardData_MatchesChainRuleReference(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.InputDims), new TensorShape(c.FilterDims), c.Options);
        var (x, f, upstream) = (Rand($"x {c}", g.InputShape.Length), Rand($"f {c}", g.FilterShape.Length), Rand($"g {c}", g.OutputShape.Length));
        var (expected, _) = Expected(c, x, f, upstream, g);

        using var filter = Device.Put(backend, f);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.Conv2DBackwardData(gradOutput.Buffer, filter.Buffer, gradInput.Buffer, g);
        Approx.AssertClose(expected, gradInput.ToArray(), c.KH * c.KW * g.OutChannelsPerGroup, $"Conv2DBackwardData {c}");
    }

    /// <summary>
    /// The flipped conv's geometry is the forward conv whose output is the input gradient: same size as the input,
    /// pads (dilated kernel − 1 − pad) per side, and its flipped filter sends the same taps back (checked on one tap).
    /// </summary>
    [Test]
    public unsafe void FlippedGeometry_MapsEveryInputPixelBack()
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(2, 9, 8, 6), new TensorShape(3, 2, 3, 4),
            new Conv2DOptions { Padding = Padding.Explicit(1, 2, 0, 1), Groups = 2, DilationH = 2 });
        var flipped = CpuConvDataGradient.Flipped(g);
        Assert.That((flipped.H, flipped.W, flipped.C, flipped.OH, flipped.OW, flipped.OC), Is.EqualTo((g.OH, g.OW, g.OC, g.H, g.W, g.C)));
        Assert.That((flipped.PadTop, flipped.PadBottom, flipped.PadLeft, flipped.PadRight), Is.EqualTo((4 - 1, 4 - 2, 1 - 0, 1 - 1)));
        var filter = Rand("flip", g.FilterShape.Length);
        var result = new float[filter.Length];
        fixed (float* source = filter, target = result) CpuConvDataGradient.FlipFilter(source, target, g);
        // filter (p=0, q=1, c=2, o=3) of group 1 (o in 2..3) is flipped (p'=2, q'=0, o'=1, c=3+2).
        Assert.That(result[((2 * 2 + 0) * 2 + 1) * 6 + 5], Is.EqualTo(filter[((0 * 2 + 1) * 3 + 2) * 4 + 3]));
    }
}
