using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// Bad shapes fail before any kernel runs, with a <see cref="ShapeException"/> whose message names the op
/// and both shapes (ARCHITECTURE.md decision 8). Validation is backend-independent, so cpu suffices.
/// </summary>
public class ShapeErrorTests
{
    private CpuBackend _backend = null!;

    [OneTimeSetUp]
    public void CreateBackend() => _backend = new CpuBackend();

    [OneTimeTearDown]
    public void DisposeBackend() => _backend.Dispose();

    private Tensor Zeros(params int[] dims) => Tensor.Zeros(_backend, dims);

    private static void AssertShapeError(TestDelegate call, string op, params string[] mentioned)
    {
        var e = Assert.Throws<ShapeException>(call)!;
        Assert.That(e.Message, Does.StartWith(op), "the message starts with the op's name");
        foreach (string text in mentioned)
            Assert.That(e.Message, Does.Contain(text), $"the message names {text}");
    }

    [Test]
    public void Conv2D_KernelLargerThanValidInput_NamesBothShapes()
    {
        using var x = Zeros(1, 4, 4, 3);
        using var f = Zeros(5, 5, 3, 2);
        AssertShapeError(() => Ops.Conv2D(x, f, null), "Conv2D", "(1, 4, 4, 3)", "(5, 5, 3, 2)");
    }

    [Test]
    public void Conv2D_DilatedKernelLargerThanValidInput_NamesBothShapes()
    {
        using var x = Zeros(1, 6, 6, 1);
        using var f = Zeros(3, 3, 1, 1);
        // Dilated extent with dilation 4: (3 − 1)·4 + 1 = 9 > 6.
        AssertShapeError(() => Ops.Conv2D(x, f, null, new Conv2DOptions().WithDilation(4)), "Conv2D", "(1, 6, 6, 1)", "(3, 3, 1, 1)");
    }

    [Test]
    public void Conv2D_ChannelMismatch_NamesBothShapes()
    {
        using var x = Zeros(2, 8, 8, 3);
        using var f = Zeros(3, 3, 4, 8);
        AssertShapeError(() => Ops.Conv2D(x, f, null), "Conv2D", "(2, 8, 8, 3)", "(3, 3, 4, 8)");
    }

    [TestCase(0, 1)]
    [TestCase(1, 0)]
    [TestCase(-1, -1)]
    public void Conv2D_NonPositiveStrides_NamesBothShapes(int strideH, int strideW)
    {
        using var x = Zeros(1, 8, 8, 2);
        using var f = Zeros(3, 3, 2, 4);
        AssertShapeError(() => Ops.Conv2D(x, f, null, new Conv2DOptions { StrideH = strideH, StrideW = strideW }),
            "Conv2D", "(1, 8, 8, 2)", "(3, 3, 2, 4)");
    }

    [TestCase(0, 1)]
    [TestCase(1, 0)]
    public void Conv2D_ZeroDilation_NamesBothShapes(int dilationH, int dilationW)
    {
        using var x = Zeros(1, 8, 8, 2);
        using var f = Zeros(3, 3, 2, 4);
        AssertShapeError(() => Ops.Conv2D(x, f, null, new Conv2DOptions { DilationH = dilationH, DilationW = dilationW }),
            "Conv2D", "(1, 8, 8, 2)", "(3, 3, 2, 4)");
    }

    // groups must divide C and OC, and the filter must hold C/groups input channels.
    [TestCase(0, 4, 4, 1, 4)]
    [TestCase(3, 4, 4, 1, 6)]   // 3 does not divide C = 4
    [TestCase(2, 4, 4, 2, 3)]   // 2 does not divide OC = 3
    [TestCase(2, 4, 4, 4, 4)]   // filter holds C, not C/groups
    public void Conv2D_BadGroups_NamesBothShapes(int groups, int h, int c, int filterIn, int oc)
    {
        using var x = Zeros(1, h, h, c);
        using var f = Zeros(3, 3, filterIn, oc);
        AssertShapeError(() => Ops.Conv2D(x, f, null, new Conv2DOptions { Groups = groups, Padding = Padding.Same }),
            "Conv2D", $"(1, {h}, {h}, {c})", $"(3, 3, {filterIn}, {oc})");
    }

    [Test]
    public void Conv2D_BiasOfWrongLength_NamesBiasAndFilter()
    {
        using var x = Zeros(1, 5, 5, 2);
        using var f = Zeros(3, 3, 2, 4);
        using var b = Zeros(3);
        AssertShapeError(() => Ops.Conv2D(x, f, b), "Conv2D", "(3)", "(3, 3, 2, 4)");
    }

    /// <summary>Conv1D runs through Conv2D, but the caller called Conv1D with (N,L,C) shapes: the error says so.</summary>
    [Test]
    public void Conv1D_KernelLongerThanValidSeries_NamesConv1DAndBothShapes()
    {
        using var x = Zeros(1, 4, 1);
        using var f = Zeros(5, 1, 1);
        AssertShapeError(() => Ops.Conv1D(x, f, null), "Conv1D", "(1, 4, 1)", "(5, 1, 1)");
    }

    [Test]
    public void Conv1D_ChannelMismatch_NamesConv1DAndBothShapes()
    {
        using var x = Zeros(2, 9, 3);
        using var f = Zeros(3, 2, 4);
        AssertShapeError(() => Ops.Conv1D(x, f, null), "Conv1D", "(2, 9, 3)", "(3, 2, 4)");
    }

    [Test]
    public void Conv1D_WrongRank_NamesBothShapes()
    {
        using var x = Zeros(1, 4, 4, 1);
        using var f = Zeros(3, 1, 1);
        AssertShapeError(() => Ops.Conv1D(x, f, null), "Conv1D", "(1, 4, 4, 1)", "(3, 1, 1)");
    }

    [Test]
    public void MaxPool_WindowLargerThanValidInput_NamesPoolAndInput()
    {
        using var x = Zeros(1, 2, 2, 3);
        AssertShapeError(() => Ops.MaxPool2D(x, Pool2DOptions.Square(3)), "MaxPool2D", "(1, 2, 2, 3)", "(3, 3)");
    }

    [Test]
    public void AveragePool_ZeroStride_NamesPoolAndInput()
    {
        using var x = Zeros(1, 6, 6, 3);
        AssertShapeError(() => Ops.AveragePool2D(x, Pool2DOptions.Square(2, 0)), "AveragePooling2D", "(1, 6, 6, 3)", "(2, 2)");
    }

    [Test]
    public void Dense_InputKernelMismatch_NamesBothShapes()
    {
        using var x = Zeros(4, 10);
        using var w = Zeros(12, 3);
        AssertShapeError(() => Ops.Dense(x, w, null), "Dense", "(4, 10)", "(12, 3)");
    }

    [Test]
    public void Dense_BiasOfWrongLength_NamesBiasAndKernel()
    {
        using var x = Zeros(4, 10);
        using var w = Zeros(10, 3);
        using var b = Zeros(4);
        AssertShapeError(() => Ops.Dense(x, w, b), "Dense", "(4)", "(10, 3)");
    }

    [Test]
    public void Add_ShapeMismatch_NamesBothShapes()
    {
        using var a = Zeros(2, 3, 4, 5);
        using var b = Zeros(2, 3, 5, 4);
        AssertShapeError(() => Ops.Add(a, b), "Add", "(2, 3, 4, 5)", "(2, 3, 5, 4)");
    }

    [Test]
    public void Concat_SpatialMismatch_NamesEveryShape()
    {
        using var a = Zeros(1, 4, 4, 2);
        using var b = Zeros(1, 4, 5, 2);
        AssertShapeError(() => Ops.Concat(a, b), "Concat", "(1, 4, 4, 2)", "(1, 4, 5, 2)");
    }

    [Test]
    public void Concat_RankMismatch_NamesEveryShape()
    {
        using var a = Zeros(4, 2);
        using var b = Zeros(1, 4, 2);
        AssertShapeError(() => Ops.Concat(a, b), "Concat", "(4, 2)", "(1, 4, 2)");
    }

    /// <summary>Reflection cannot reach further than H−1 / W−1 cells without repeating (numpy raises the same).</summary>
    [TestCase(4, 0, 0, 0)]
    [TestCase(0, 0, 0, 5)]
    public void ReflectPad_TooLarge_NamesPadsAndInput(int top, int bottom, int left, int right)
    {
        using var x = Zeros(1, 4, 5, 2);
        AssertShapeError(() => Ops.Pad2D(x, top, bottom, left, right, PadMode.Reflect), "Pad2D",
            "(1, 4, 5, 2)", $"top {top}", $"right {right}");
    }

    [Test]
    public void ZeroPad_NegativePad_NamesPadsAndInput()
    {
        using var x = Zeros(1, 4, 5, 2);
        AssertShapeError(() => Ops.Pad2D(x, -1, 0, 0, 0), "ZeroPadding2D", "(1, 4, 5, 2)", "top -1");
    }
}
