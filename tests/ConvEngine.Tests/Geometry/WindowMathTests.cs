using ConvEngine.Kernels.Geometry;
using NUnit.Framework;

namespace ConvEngine.Tests.Geometry;

public class WindowMathTests
{
    // keras-semantics.md A: "n=128, k=3, s=2 → out 64, padding (0 top, 1 bottom)" (kernel_shape_util.cc).
    [Test]
    public void SamePadding_Stride2_PutsOddPixelBottomRight()
    {
        var (before, after, output) = WindowMath.Resolve(128, kernel: 3, stride: 2, dilation: 1, PaddingMode.Same);
        Assert.That((before, after, output), Is.EqualTo((0, 1, 64)));
    }

    // pad_needed = max(0, (out−1)·s + dk − n), before = pad_needed / 2: with k=4, s=1 the extra pixel goes after.
    [TestCase(5, 4, 1, 1, 1, 2, 5)]
    [TestCase(5, 3, 1, 1, 1, 1, 5)]
    [TestCase(7, 3, 2, 1, 1, 1, 4)]
    [TestCase(6, 3, 2, 1, 0, 1, 3)]
    [TestCase(10, 3, 1, 2, 2, 2, 10)]  // dilated extent 5
    [TestCase(4, 1, 3, 1, 0, 0, 2)]    // pad_needed clamps at 0
    public void SamePadding_MatchesTensorFlowSplit(int n, int k, int s, int d, int before, int after, int output) =>
        Assert.That(WindowMath.Resolve(n, k, s, d, PaddingMode.Same), Is.EqualTo((before, after, output)));

    // conv_utils.conv_output_length: valid → ceil((n − dk + 1) / s).
    [TestCase(28, 3, 1, 1, 26)]
    [TestCase(28, 5, 2, 1, 12)]
    [TestCase(9, 3, 3, 2, 2)]
    public void ValidPadding_MatchesKerasOutputLength(int n, int k, int s, int d, int output)
    {
        int dk = k + (k - 1) * (d - 1);
        Assert.That(output, Is.EqualTo((int)Math.Ceiling((n - dk + 1) / (double)s)), "test case itself follows Keras");
        Assert.That(WindowMath.Resolve(n, k, s, d, PaddingMode.Valid).Output, Is.EqualTo(output));
    }

    // PyTorch/ONNX ceil_mode: 5 wide, k 2, s 2 → 3 windows, but never one starting in the trailing pad.
    [Test]
    public void CeilMode_RoundsUp_ButNoWindowStartsInTrailingPad()
    {
        Assert.That(WindowMath.Resolve(5, 2, 2, 1, PaddingMode.Explicit, 0, 0, ceilMode: true).Output, Is.EqualTo(3));
        Assert.That(WindowMath.Resolve(5, 2, 2, 1, PaddingMode.Explicit, 0, 0, ceilMode: false).Output, Is.EqualTo(2));
        // n=4, k=2, s=2, pad 1 before: floor → 3, ceil → ceil(3/2)+1 = 3, and the rule keeps it at 3.
        Assert.That(WindowMath.Resolve(4, 2, 2, 1, PaddingMode.Explicit, 1, 0, ceilMode: true).Output, Is.EqualTo(3));
        // n=3, k=3, s=2, pad 1 each side: span 2 → ceil gives 2; window 2 starts at 3 = n + before − 1, allowed.
        Assert.That(WindowMath.Resolve(3, 3, 2, 1, PaddingMode.Explicit, 1, 1, ceilMode: true).Output, Is.EqualTo(2));
    }

    // keras-semantics.md A: Conv1D causal pads dilation·(k−1) on the left only.
    [Test]
    public void CausalPadding_PadsDilatedKernelMinusOneBefore() =>
        Assert.That(WindowMath.Resolve(10, 3, 1, 2, PaddingMode.Causal), Is.EqualTo((4, 0, 10)));
}
