using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.OpTests;
using NUnit.Framework;

namespace ConvEngine.Tests.Reference;

/// <summary>
/// The reference is what every kernel is judged by, so it is itself checked on hand-worked cases
/// (arithmetic in the comments) before it is trusted on random data.
/// </summary>
public class DoubleReferenceTests
{
    // keras-semantics.md A: n=128, k=3, s=2 → out 64, padding (0 top, 1 bottom).
    [TestCase(128, 3, 2, 1, 0, 1, 64)]
    // pad_needed = (5−1)·1 + 4 − 5 = 3 → 1 before, 2 after.
    [TestCase(5, 4, 1, 1, 1, 2, 5)]
    // dilated extent 5: pad_needed = 9 + 5 − 10 = 4 → 2, 2.
    [TestCase(10, 3, 1, 2, 2, 2, 10)]
    public void Axis_Same_FollowsTensorFlowSplit(int n, int k, int s, int d, int before, int after, int output) =>
        Assert.That(DoubleReference.Axis(n, k, s, d, PaddingMode.Same), Is.EqualTo((before, after, output)));

    // keras conv_output_length, valid: ceil((n − dk + 1)/s): 28,k5,s2 → ceil(24/2) = 12; 9,k3,s3,d2 → ceil(5/3) = 2.
    [TestCase(28, 5, 2, 1, 12)]
    [TestCase(9, 3, 3, 2, 2)]
    public void Axis_Valid_FollowsKerasOutputLength(int n, int k, int s, int d, int output) =>
        Assert.That(DoubleReference.Axis(n, k, s, d, PaddingMode.Valid), Is.EqualTo((0, 0, output)));

    // Keras Conv1D causal: dilation·(k−1) = 2·2 = 4 before, none after, length kept.
    [Test]
    public void Axis_Causal_PadsDilationTimesKMinusOneBefore() =>
        Assert.That(DoubleReference.Axis(10, 3, 1, 2, PaddingMode.Causal), Is.EqualTo((4, 0, 10)));

    // PyTorch ceil_mode, k=2, s=2: n=5 → ceil(3/2) + 1 = 3; n=4, pad 1 before → ceil(3/2) + 1 = 3, the last
    // window starting at 4 < n + before = 5, kept; n=5, pads 1/1 → ceil(5/2) + 1 = 4, but window 3 would start
    // at 6 ≥ n + before = 6, in the trailing pad → dropped, 3.
    [TestCase(5, 0, 0, 3)]
    [TestCase(4, 1, 0, 3)]
    [TestCase(5, 1, 1, 3)]
    public void Axis_CeilMode_FollowsPyTorch(int n, int before, int after, int output) =>
        Assert.That(DoubleReference.Axis(n, 2, 2, 1, PaddingMode.Explicit, before, after, ceilMode: true).Output, Is.EqualTo(output));

    /// <summary>Ones ⊛ 3×3 ones, SAME stride 2 on 128×128: corners 9 (top-left), 6, 6, 4 (bottom-right).</summary>
    [Test]
    public void Conv2D_OnesSameStride2_RevealsTheSplit()
    {
        var x = new Nd(Enumerable.Repeat(1.0, 128 * 128).ToArray(), 1, 128, 128, 1);
        var f = new Nd(Enumerable.Repeat(1.0, 9).ToArray(), 3, 3, 1, 1);
        var y = DoubleReference.Conv2D(x, f, null, new Conv2DOptions { Padding = Padding.Same }.WithStrides(2));
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 64, 64, 1 }));
        Assert.That(new[] { y.At(0, 0, 0, 0), y.At(0, 0, 63, 0), y.At(0, 63, 0, 0), y.At(0, 63, 63, 0) }, Is.EqualTo(new[] { 9.0, 6, 6, 4 }));
    }

    /// <summary>
    /// Groups: input channels [1, 10] and a depthwise 1×1 filter [2, 3] (groups 2): out = [1·2, 10·3] = [2, 30];
    /// the same filter as a dense 1×1 (groups 1) would need 2 input channels per output.
    /// </summary>
    [Test]
    public void Conv2D_Depthwise_KeepsChannelsApart()
    {
        var x = new Nd([1.0, 10.0], 1, 1, 1, 2);
        var f = new Nd([2.0, 3.0], 1, 1, 1, 2);
        var y = DoubleReference.Conv2D(x, f, [0.5, 0.25], new Conv2DOptions { Groups = 2 });
        Assert.That(y.Data, Is.EqualTo(new[] { 2.5, 30.25 }));
    }

    /// <summary>TF average SAME excludes pads: 3×3 of 1..9, pool 2 stride 2 → 3, 4.5, 7.5, 9.</summary>
    [Test]
    public void AveragePool_Same_ExcludesPadding()
    {
        var x = new Nd(Enumerable.Range(1, 9).Select(v => (double)v).ToArray(), 1, 3, 3, 1);
        var y = DoubleReference.Pool2D(x, Pool2DOptions.Square(2, 2, Padding.Same), PoolKind.Average);
        Assert.That(y.Data, Is.EqualTo(new[] { 3, 4.5, 7.5, 9 }));
    }

    /// <summary>numpy pad "reflect" on [1 2 3 4] by 2: [3 2 | 1 2 3 4 | 3 2]; "edge": [1 1 | … | 4 4].</summary>
    [Test]
    public void Pad2D_ReflectAndEdge_OnARow()
    {
        var x = new Nd([1.0, 2, 3, 4], 1, 1, 4, 1);
        Assert.That(DoubleReference.Pad2D(x, 0, 0, 2, 2, PadMode.Reflect).Data, Is.EqualTo(new[] { 3.0, 2, 1, 2, 3, 4, 3, 2 }));
        Assert.That(DoubleReference.Pad2D(x, 0, 0, 2, 2, PadMode.Edge).Data, Is.EqualTo(new[] { 1.0, 1, 1, 2, 3, 4, 4, 4 }));
    }

    /// <summary>
    /// Known loss values: sigmoid BCE at z = 0 is log 2 for either label; softmax CE of equal logits over C
    /// classes is log C; MSE of errors (1, 3) is 5; clipped BCE at p = 0.5 is −log(0.5 + 1e−7).
    /// </summary>
    [Test]
    public void Losses_KnownValues()
    {
        Assert.That(DoubleReference.LossPerRow(LossKind.SigmoidBinaryCrossEntropy, [0, 0], [0, 1], 1, 2)[0], Is.EqualTo(Math.Log(2)).Within(1e-15));
        Assert.That(DoubleReference.LossPerRow(LossKind.SoftmaxCategoricalCrossEntropy, [0.3, 0.3, 0.3, 0.3], [0, 0, 1, 0], 1, 4)[0], Is.EqualTo(Math.Log(4)).Within(1e-15));
        Assert.That(DoubleReference.LossPerRow(LossKind.SoftmaxSparseCategoricalCrossEntropy, [0.3, 0.3, 0.3], [2], 1, 3)[0], Is.EqualTo(Math.Log(3)).Within(1e-15));
        Assert.That(DoubleReference.LossPerRow(LossKind.MeanSquaredError, [1, 3], [0, 0], 1, 2)[0], Is.EqualTo(5));
        Assert.That(DoubleReference.LossPerRow(LossKind.BinaryCrossEntropy, [0.5], [1], 1, 1)[0], Is.EqualTo(-Math.Log(0.5 + 1e-7)).Within(1e-15));
    }

    /// <summary>Adam first step, θ0 = 0, g = 1, ε̂ = 0.01: −7.59747e−4 (Keras) against −9.90099e−4 (PyTorch).</summary>
    [Test]
    public void Adam_FirstStep_KerasAndPyTorchForms()
    {
        double[] keras = [0], torch = [0];
        DoubleReference.AdamStepKeras(keras, [0], [0], [1], 1, 0.001, 0.9, 0.999, 0.01);
        DoubleReference.AdamStepPyTorch(torch, [0], [0], [1], 1, 0.001, 0.9, 0.999, 0.01);
        Assert.That(keras[0], Is.EqualTo(-7.59747e-4).Within(1e-9));
        Assert.That(torch[0], Is.EqualTo(-0.001 / 1.01).Within(1e-12));
    }

    private static IEnumerable<TestCaseData> AdjointConvCases()
    {
        yield return new TestCaseData(new[] { 2, 5, 6, 3 }, new[] { 3, 3, 3, 4 }, new Conv2DOptions { Padding = Padding.Same }.WithStrides(2)).SetArgDisplayNames("s2 same");
        yield return new TestCaseData(new[] { 1, 7, 6, 4 }, new[] { 3, 2, 2, 4 }, new Conv2DOptions { Padding = Padding.Explicit(1, 2, 0, 1), Groups = 2 }.WithDilation(2)).SetArgDisplayNames("d2 explicit g2");
        yield return new TestCaseData(new[] { 1, 6, 6, 3 }, new[] { 5, 5, 1, 6 }, new Conv2DOptions { Padding = Padding.Same, Groups = 3 }.WithStrides(3)).SetArgDisplayNames("depthwise s3 same");
    }

    /// <summary>The chain-rule conv backward used for large shapes equals finite differences of the forward.</summary>
    [TestCaseSource(nameof(AdjointConvCases))]
    public void Conv2DBackward_EqualsFiniteDifferencesOfForward(int[] xDims, int[] fDims, Conv2DOptions o)
    {
        var random = new Random(17);
        var x = new Nd(TestData.Widen(TestData.Uniform(random, xDims.Aggregate(1, (a, b) => a * b))), xDims);
        var f = new Nd(TestData.Widen(TestData.Uniform(random, fDims.Aggregate(1, (a, b) => a * b))), fDims);
        var y = DoubleReference.Conv2D(x, f, null, o);
        var g = y.WithData(TestData.Widen(TestData.Uniform(random, y.Length)));
        var (gradInput, gradFilter) = DoubleReference.Conv2DBackward(x, f, g, o);
        var fdInput = FiniteDifference.Gradient(v => FiniteDifference.Dot(g.Data, DoubleReference.Conv2D(x.WithData(v), f, null, o).Data), (double[])x.Data.Clone());
        var fdFilter = FiniteDifference.Gradient(v => FiniteDifference.Dot(g.Data, DoubleReference.Conv2D(x, f.WithData(v), null, o).Data), (double[])f.Data.Clone());
        Assert.That(gradInput.Data, Is.EqualTo(fdInput).Within(1e-8));
        Assert.That(gradFilter.Data, Is.EqualTo(fdFilter).Within(1e-8));
    }

    private static IEnumerable<TestCaseData> AdjointPoolCases() =>
        from kind in new[] { PoolKind.Max, PoolKind.Average }
        from o in new[]
        {
            Pool2DOptions.Square(3, 2, Padding.Same),
            Pool2DOptions.Square(3, 1, Padding.Same),
            Pool2DOptions.Square(3, 2, Padding.Explicit(1)) with { CeilMode = true, CountIncludePad = true },
            Pool2DOptions.Square(2, 1) with { DilationH = 2, DilationW = 2 },
        }
        select new TestCaseData(kind, o).SetArgDisplayNames(kind.ToString(), $"pool{o.PoolH} s{o.StrideH} {o.Padding} ceil {o.CeilMode} d{o.DilationH}");

    /// <summary>The routing pool backward used for large shapes equals finite differences of the forward (distinct inputs).</summary>
    [TestCaseSource(nameof(AdjointPoolCases))]
    public void Pool2DBackward_EqualsFiniteDifferencesOfForward(PoolKind kind, Pool2DOptions o)
    {
        var random = new Random(19);
        var x = new Nd(TestData.Widen(TestData.Distinct(random, 2 * 7 * 6 * 3)), 2, 7, 6, 3);
        var y = DoubleReference.Pool2D(x, o, kind);
        var g = y.WithData(TestData.Widen(TestData.Uniform(random, y.Length)));
        var routed = DoubleReference.Pool2DBackward(x, g, o, kind);
        var fd = FiniteDifference.Gradient(v => FiniteDifference.Dot(g.Data, DoubleReference.Pool2D(x.WithData(v), o, kind).Data), (double[])x.Data.Clone());
        Assert.That(routed.Data, Is.EqualTo(fd).Within(1e-8));
    }
}
