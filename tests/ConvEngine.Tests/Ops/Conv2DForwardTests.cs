using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>A conv2d problem: input (N,H,W,C), filter (KH,KW,C/groups,OC), options.</summary>
public sealed record ConvCase(int N, int H, int W, int C, int KH, int KW, int OC, Conv2DOptions Options, bool Bias = true)
{
    public int[] InputDims => [N, H, W, C];
    public int[] FilterDims => [KH, KW, C / Options.Groups, OC];
    /// <summary>Terms summed per output value.</summary>
    public int ReductionLength => KH * KW * (C / Options.Groups);
    public bool SmallEnoughForIlgpu => N * H * W * C <= 300 && KH * KW * C * OC <= 300;

    public override string ToString()
    {
        var o = Options;
        return $"n{N} {H}x{W}x{C} k{KH}x{KW}->{OC} s{o.StrideH}x{o.StrideW} d{o.DilationH}x{o.DilationW} {o.Padding}" +
            $" g{o.Groups} {o.Activation}{(Bias ? " bias" : "")}";
    }
}

public class Conv2DForwardTests
{
    private static Conv2DOptions Opt(int stride = 1, int dilation = 1, Padding? padding = null, int groups = 1, KernelActivation activation = default) =>
        new Conv2DOptions { Padding = padding ?? Padding.Valid, Groups = groups, Activation = activation }.WithStrides(stride).WithDilation(dilation);

    // Odd sizes on purpose: they leave SIMD tails and uneven SAME splits.
    private static readonly ConvCase[] Cases =
    [
        new(1, 5, 5, 1, 1, 1, 1, Opt(), Bias: false),
        new(2, 5, 7, 3, 1, 1, 5, Opt(stride: 2)),
        new(2, 7, 6, 3, 3, 3, 4, Opt(padding: Padding.Same, activation: KernelActivation.Relu)),
        new(1, 7, 6, 3, 3, 3, 4, Opt(stride: 2, padding: Padding.Same)),
        new(1, 9, 8, 2, 3, 3, 5, Opt(stride: 3, padding: Padding.Same)),
        new(1, 8, 7, 2, 3, 3, 3, Opt(stride: 3)),
        new(1, 11, 10, 3, 5, 5, 2, Opt(stride: 2)),
        new(1, 9, 9, 2, 5, 5, 3, Opt(padding: Padding.Same, activation: KernelActivation.LeakyRelu())),
        new(2, 13, 13, 2, 7, 7, 3, Opt(padding: Padding.Same)),
        new(1, 13, 12, 2, 7, 7, 2, Opt(stride: 3)),
        new(1, 9, 9, 2, 3, 3, 3, Opt(dilation: 2)),
        new(1, 10, 9, 2, 3, 3, 3, Opt(dilation: 2, padding: Padding.Same)),
        new(1, 11, 10, 2, 3, 3, 2, Opt(stride: 2, dilation: 2, padding: Padding.Same)), // TF allows what Keras rejects
        new(1, 7, 7, 2, 3, 3, 2, Opt(padding: Padding.Explicit(1, 2, 0, 1))),
        new(2, 8, 7, 3, 3, 2, 4, Opt(stride: 2, padding: Padding.Explicit(1, 2, 0, 1))),
        new(1, 5, 6, 2, 3, 3, 2, Opt(padding: Padding.Explicit(3))),                    // pads wider than the kernel reach
        new(1, 2, 2, 1, 3, 3, 1, Opt(padding: Padding.Same)),                           // kernel larger than the input
        new(1, 8, 8, 4, 3, 3, 6, Opt(padding: Padding.Same, groups: 2)),
        new(2, 7, 7, 4, 3, 3, 4, Opt(padding: Padding.Same, groups: 4)),                // depthwise
        new(1, 9, 8, 3, 3, 3, 6, Opt(stride: 2, padding: Padding.Same, groups: 3)),     // depthwise, multiplier 2
        new(1, 6, 6, 3, 3, 3, 3, Opt(groups: 3, activation: KernelActivation.Sigmoid)),
        new(1, 6, 5, 4, 3, 3, 2, Opt(padding: Padding.Same, activation: KernelActivation.Tanh)),
        new(3, 5, 5, 17, 1, 1, 19, Opt()),
        new(2, 6, 7, 33, 3, 3, 35, Opt(padding: Padding.Same, activation: KernelActivation.Relu)),
        new(1, 7, 9, 5, 3, 3, 18, Opt(stride: 2, padding: Padding.Same, groups: 1)),
        new(1, 9, 7, 3, 3, 5, 4, new Conv2DOptions { StrideH = 2, StrideW = 1, DilationH = 1, DilationW = 2, Padding = Padding.Same }),
    ];

    private static IEnumerable<TestCaseData> ForwardCases() => BackendCases.Cross("conv2d", Cases, c => c.SmallEnoughForIlgpu);

    [TestCaseSource(nameof(ForwardCases))]
    public void Conv2D_MatchesDoubleReference(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, c.InputDims.Aggregate(1, (a, b) => a * b));
        var f = TestData.Uniform(random, c.FilterDims.Aggregate(1, (a, b) => a * b));
        var bias = c.Bias ? TestData.Uniform(random, c.OC) : null;

        var expected = DoubleReference.Conv2D(Nd.FromFloats(x, c.InputDims), Nd.FromFloats(f, c.FilterDims),
            bias is null ? null : TestData.Widen(bias), c.Options);

        using var input = Tensor.FromArray(backend, x, c.InputDims);
        using var filter = Tensor.FromArray(backend, f, c.FilterDims);
        using var b = bias is null ? null : Tensor.FromArray(backend, bias, c.OC);
        using var y = Ops.Conv2D(input, filter, b, c.Options);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape), "output shape");
        Approx.AssertClose(expected.Data, y.ToArray(), c.ReductionLength, $"Conv2D {c}");
    }

    /// <summary>
    /// keras-semantics.md A, SAME split: n=128, k=3, s=2 → out 64, pad_needed = (64−1)·2 + 3 − 128 = 1,
    /// so 0 on top/left and 1 on bottom/right. A 3×3 kernel of ones over an input of ones counts the
    /// window's cells inside the input: top-left window rows 0..2 × cols 0..2 → 9; top-right rows 0..2 ×
    /// cols 126..128 (128 is padding) → 6; bottom-left → 6; bottom-right rows 126..127 × cols 126..127 → 4.
    /// Had the odd pixel gone top/left it would read 4 at the top-left and 9 at the bottom-right.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d" })]
    public void SamePadding_N128_K3_S2_PutsOddPixelBottomRight(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var ones = Tensor.FromArray(backend, Enumerable.Repeat(1f, 128 * 128).ToArray(), 1, 128, 128, 1);
        using var kernel = Tensor.FromArray(backend, Enumerable.Repeat(1f, 9).ToArray(), 3, 3, 1, 1);
        using var y = Ops.Conv2D(ones, kernel, null, Opt(stride: 2, padding: Padding.Same));

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 1, 64, 64, 1 }));
        var v = y.ToArray();
        Assert.That(new[] { v[0], v[63], v[63 * 64], v[63 * 64 + 63] }, Is.EqualTo(new[] { 9f, 6f, 6f, 4f }),
            "top-left, top-right, bottom-left, bottom-right");
        Assert.That(v[32 * 64 + 32], Is.EqualTo(9f), "interior");
    }

    /// <summary>
    /// SAME with an even kernel: n=5, k=4, s=1 → out 5, pad_needed = 4 + 4 − 5 = 3, before 1, after 2.
    /// A 1×4 row of ones over a row of ones: output 0 covers cols −1..2 → 3; output 3 covers 2..5 → 3;
    /// output 4 covers 3..6 → 2 (cols 5 and 6 are the two trailing pads).
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d" })]
    public void SamePadding_EvenKernel_PutsExtraPadAfter(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var ones = Tensor.FromArray(backend, Enumerable.Repeat(1f, 5).ToArray(), 1, 1, 5, 1);
        using var kernel = Tensor.FromArray(backend, Enumerable.Repeat(1f, 4).ToArray(), 1, 4, 1, 1);
        using var y = Ops.Conv2D(ones, kernel, null, Opt(padding: Padding.Same));
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 3f, 4f, 4f, 3f, 2f }));
    }

    /// <summary>
    /// SAME, n=7, k=3, s=2 → out 4, pad_needed = 3·2 + 3 − 7 = 2: one pad on each side.
    /// Ones ⊛ ones(3×3): corners 4, edges 6, interior 9.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d" })]
    public void SamePadding_N7_K3_S2_PadsOneEachSide(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var ones = Tensor.FromArray(backend, Enumerable.Repeat(1f, 49).ToArray(), 1, 7, 7, 1);
        using var kernel = Tensor.FromArray(backend, Enumerable.Repeat(1f, 9).ToArray(), 3, 3, 1, 1);
        using var y = Ops.Conv2D(ones, kernel, null, Opt(stride: 2, padding: Padding.Same));
        Assert.That(y.ToArray(), Is.EqualTo(new float[]
        {
            4, 6, 6, 4,
            6, 9, 9, 6,
            6, 9, 9, 6,
            4, 6, 6, 4,
        }));
    }

    /// <summary>
    /// Convolution is cross-correlation (tf.nn.conv2d, no kernel flip): a kernel whose only nonzero tap is
    /// at (0,0) reads the input at the window's top-left, so with valid padding y[i,j] = x[i,j].
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d" })]
    public void Convolution_IsCrossCorrelation_WithoutFlip(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        using var input = Tensor.FromArray(backend, x, 1, 4, 4, 1);
        using var kernel = Tensor.FromArray(backend, [1, 0, 0, 0, 0, 0, 0, 0, 0], 3, 3, 1, 1);
        using var y = Ops.Conv2D(input, kernel, null);
        Assert.That(y.ToArray(), Is.EqualTo(new float[] { 0, 1, 4, 5 }));
    }

    /// <summary>
    /// The course's edge kernel [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] (learntools visiontools.py) sums to 0:
    /// on a constant image every valid output is 0; a single bright pixel v gives 8v at its centre and −v around it.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "conv2d" })]
    public void CourseEdgeKernel_IsZeroOnFlatImage_AndRingsAPoint(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        float[] edge = [-1, -1, -1, -1, 8, -1, -1, -1, -1];
        using var kernel = Tensor.FromArray(backend, edge, 3, 3, 1, 1);

        using var flat = Tensor.FromArray(backend, Enumerable.Repeat(0.7f, 36).ToArray(), 1, 6, 6, 1);
        using var yFlat = Ops.Conv2D(flat, kernel, null);
        Assert.That(yFlat.ToArray(), Is.All.EqualTo(0f).Within(1e-6f));

        var point = new float[25];
        point[12] = 2f; // centre of 5×5
        using var pointImage = Tensor.FromArray(backend, point, 1, 5, 5, 1);
        using var yPoint = Ops.Conv2D(pointImage, kernel, null, Opt(padding: Padding.Same));
        var v = yPoint.ToArray();
        Assert.That(v[12], Is.EqualTo(16f));
        Assert.That(new[] { v[6], v[7], v[8], v[11], v[13], v[16], v[17], v[18] }, Is.All.EqualTo(-2f));
        Assert.That(v[0], Is.EqualTo(0f));
    }
}
