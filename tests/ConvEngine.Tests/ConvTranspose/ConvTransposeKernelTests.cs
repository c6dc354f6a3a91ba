using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.ConvTranspose;

/// <summary>
/// Ops.ConvTranspose2D on every backend and variant against the double reference's scatter definition (ONNX
/// ConvTranspose, its own output-size arithmetic): odd sizes, strides, asymmetric pads, output padding, dilations,
/// groups, with and without bias, with a fused activation; and Keras's Conv2DTranspose output sizes.
/// </summary>
public class ConvTransposeKernelTests
{
    public sealed record Case(int N, int H, int W, int Cin, int Cout, int KH, int KW, (int H, int W) Strides, (int H, int W) Dilations,
        (int Top, int Bottom, int Left, int Right) Pads, (int H, int W) OutputPadding, int Groups, bool Bias, ActivationKind Activation = ActivationKind.None)
    {
        public override string ToString() =>
            $"{N}x{H}x{W}x{Cin}->{Cout} k{KH}x{KW} s{Strides} d{Dilations} p{Pads} op{OutputPadding} g{Groups}{(Bias ? " bias" : "")} {Activation}";
    }

    private static readonly Case[] Cases =
    [
        new(1, 3, 3, 2, 3, 3, 3, (2, 2), (1, 1), (0, 0, 0, 0), (0, 0), 1, true),
        new(2, 5, 4, 3, 2, 3, 2, (2, 3), (1, 1), (1, 0, 0, 1), (1, 2), 1, true),
        new(1, 4, 5, 4, 6, 2, 3, (1, 2), (2, 1), (1, 2, 0, 0), (0, 1), 2, false),
        new(2, 3, 2, 6, 3, 3, 3, (3, 1), (1, 2), (2, 2, 1, 1), (2, 0), 3, true, ActivationKind.Relu),
        new(1, 1, 1, 5, 4, 4, 4, (2, 2), (1, 1), (0, 0, 0, 0), (1, 1), 1, true, ActivationKind.Tanh),
        new(1, 6, 7, 4, 4, 1, 1, (2, 2), (1, 1), (0, 0, 0, 0), (1, 0), 4, true),
    ];

    private static IEnumerable<TestCaseData> BackendCases() => OpTests.BackendCases.Cross("conv-transpose2d", Cases, c => true);

    [TestCaseSource(nameof(BackendCases))]
    public void ConvTranspose2D_MatchesTheScatterDefinition(BackendCase backendCase, Case c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        int mg = c.Cout / c.Groups;
        var x = TestData.Uniform(random, c.N * c.H * c.W * c.Cin);
        var onnxWeight = TestData.Uniform(random, c.Cin * mg * c.KH * c.KW);   // (Cin, Cout/groups, KH, KW)
        var bias = c.Bias ? TestData.Uniform(random, c.Cout) : null;
        // The engine's filter (KH, KW, Cout/groups, Cin), permuted here from the ONNX layout.
        var filter = new float[onnxWeight.Length];
        for (int ci = 0; ci < c.Cin; ci++)
        for (int m = 0; m < mg; m++)
        for (int di = 0; di < c.KH; di++)
        for (int dj = 0; dj < c.KW; dj++)
            filter[((di * c.KW + dj) * mg + m) * c.Cin + ci] = onnxWeight[((ci * mg + m) * c.KH + di) * c.KW + dj];

        var linear = DoubleReference.ConvTranspose2D(Nd.FromFloats(x, c.N, c.H, c.W, c.Cin), Nd.FromFloats(onnxWeight, c.Cin, mg, c.KH, c.KW),
            bias is null ? null : TestData.Widen(bias), c.Strides, c.Dilations, c.Pads, c.OutputPadding, c.Groups);
        var expected = DoubleReference.Activate(linear.Data, new KernelActivation(c.Activation));

        using var input = Tensor.FromArray(backend, x, c.N, c.H, c.W, c.Cin);
        using var f = Tensor.FromArray(backend, filter, c.KH, c.KW, mg, c.Cin);
        using var b = bias is null ? null : Tensor.FromArray(backend, bias, c.Cout);
        var options = new ConvTranspose2DOptions
        {
            StrideH = c.Strides.H, StrideW = c.Strides.W, DilationH = c.Dilations.H, DilationW = c.Dilations.W,
            Padding = Padding.Explicit(c.Pads.Top, c.Pads.Bottom, c.Pads.Left, c.Pads.Right),
            OutputPaddingH = c.OutputPadding.H, OutputPaddingW = c.OutputPadding.W, Groups = c.Groups, Activation = new KernelActivation(c.Activation),
        };
        using var y = Ops.ConvTranspose2D(input, f, b, options);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(linear.Shape));
        Approx.AssertClose(expected, y.ToArray(), c.KH * c.KW * c.Cin / c.Groups, $"ConvTranspose2D {c}");
    }

    // keras/utils/conv_utils.py deconv_output_length, e.g. 5 → 10 (same, stride 2), 5 → 11 (valid, k3 s2), 3 → 6 (valid, k1 s2: n·s).
    [TestCase(5, 3, 2, 1, true, null, 10)]
    [TestCase(5, 3, 2, 1, false, null, 11)]
    [TestCase(3, 1, 2, 1, false, null, 6)]
    [TestCase(4, 3, 3, 1, true, 1, 11)]
    [TestCase(4, 3, 3, 1, false, 2, 14)]
    [TestCase(4, 3, 1, 2, true, 0, 4)]
    public void KerasOutputLength_IsDeconvOutputLength(int n, int k, int s, int d, bool same, int? outputPadding, int expected)
    {
        Assert.That(DoubleReference.KerasDeconvLength(n, k, s, d, same, outputPadding).Length, Is.EqualTo(expected));
        Assert.That(ConvTranspose2DGeometry.OutputLength(n, k, s, d, same ? PaddingMode.Same : PaddingMode.Valid, 0, 0, outputPadding), Is.EqualTo(expected));
    }

    [Test]
    public void BadOptions_AreRefusedNamingTheValue()
    {
        var input = new TensorShape(1, 4, 4, 2);
        var filter = new TensorShape(3, 3, 5, 2);
        Assert.That(() => ConvTranspose2DGeometry.Create("ConvTranspose2D", input, filter, new ConvTranspose2DOptions { StrideH = 2, StrideW = 2, OutputPaddingH = 2 }),
            Throws.TypeOf<ShapeException>().With.Message.Contains("output padding (2, 0)").And.Message.Contains("strides (2, 2)"));
        Assert.That(() => ConvTranspose2DGeometry.Create("ConvTranspose2D", input, filter, new ConvTranspose2DOptions { Padding = Padding.Explicit(-1, 0, 0, 0) }),
            Throws.TypeOf<ShapeException>().With.Message.Contains("pads must be non-negative"));
        Assert.That(() => ConvTranspose2DGeometry.Create("ConvTranspose2D", input, new TensorShape(3, 3, 5, 3), new ConvTranspose2DOptions()),
            Throws.TypeOf<ShapeException>().With.Message.Contains("filter expects 3 input channels but input has 2"));
        Assert.That(() => ConvTranspose2DGeometry.Create("ConvTranspose2D", input, filter, new ConvTranspose2DOptions { Padding = Padding.Explicit(3, 3, 0, 0) }),
            Throws.TypeOf<ShapeException>().With.Message.Contains("leave an output of 0x6"));
    }
}
