using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>A pooling problem over (N,H,W,C).</summary>
public sealed record PoolCase(PoolKind Kind, int N, int H, int W, int C, Pool2DOptions Options)
{
    public int[] InputDims => [N, H, W, C];
    public bool SmallEnoughForIlgpu => N * H * W * C <= 300;

    public override string ToString()
    {
        var o = Options;
        return $"{Kind.ToString().ToLowerInvariant()} n{N} {H}x{W}x{C} pool{o.PoolH}x{o.PoolW} s{o.StrideH ?? o.PoolH}x{o.StrideW ?? o.PoolW}" +
            $" d{o.DilationH}x{o.DilationW} {o.Padding}{(o.CeilMode ? " ceil" : "")}{(o.CountIncludePad ? " include-pad" : "")}";
    }
}

public class PoolForwardTests
{
    private static Pool2DOptions Pool(int size, int? stride = null, Padding? padding = null, int dilation = 1, bool ceil = false, bool includePad = false) =>
        Pool2DOptions.Square(size, stride, padding) with { DilationH = dilation, DilationW = dilation, CeilMode = ceil, CountIncludePad = includePad };

    private static IEnumerable<PoolCase> Cases()
    {
        var options = new[]
        {
            new Pool2DOptions(),                                            // Keras default: 2×2, strides = pool, valid
            Pool(2, padding: Padding.Same),
            Pool(3, 2),
            Pool(3, 2, Padding.Same),
            Pool(3, 1, Padding.Same),                                       // Inception's 3×3/1 SAME branch
            Pool(3, 3, Padding.Same),
            Pool(2, 1),
            Pool(5, 2, Padding.Same),
            Pool(3, 2, Padding.Explicit(1)),
            Pool(3, 2, Padding.Explicit(1), includePad: true),
            Pool(3, 2, Padding.Explicit(0, 2, 1, 0), includePad: true),
            Pool(3, 2, ceil: true),                                         // Caffe/GoogLeNet ceil-mode pooling
            Pool(2, 2, Padding.Explicit(1), ceil: true),
            Pool(3, 2, Padding.Explicit(1), ceil: true, includePad: true),  // overhang past the pad is never counted
            Pool(2, 1, dilation: 2),
            Pool(2, 2, Padding.Same, dilation: 2),
            new Pool2DOptions { PoolH = 3, PoolW = 2, StrideH = 2, StrideW = 1, Padding = Padding.Same },
        };
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            foreach (var o in options) yield return new PoolCase(kind, 2, 7, 6, 3, o);
            yield return new PoolCase(kind, 1, 9, 11, 19, Pool(3, 2, Padding.Same));   // channel tail past a vector
            yield return new PoolCase(kind, 3, 8, 8, 2, new Pool2DOptions());
        }
    }

    private static IEnumerable<TestCaseData> ForwardCases() => BackendCases.Cross("pool2d", Cases(), c => c.SmallEnoughForIlgpu);

    [TestCaseSource(nameof(ForwardCases))]
    public void Pool2D_MatchesDoubleReference(BackendCase backendCase, PoolCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.N * c.H * c.W * c.C);
        var expected = DoubleReference.Pool2D(Nd.FromFloats(x, c.InputDims), c.Options, c.Kind);

        using var input = Tensor.FromArray(backend, x, c.InputDims);
        using var y = c.Kind == PoolKind.Max ? Ops.MaxPool2D(input, c.Options) : Ops.AveragePool2D(input, c.Options);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape), "output shape");
        Approx.AssertClose(expected.Data, y.ToArray(), c.Options.PoolH * c.Options.PoolW, $"Pool2D {c}");
    }

    /// <summary>
    /// keras-semantics.md A: TF average pooling with SAME excludes the padding from the divisor.
    /// 3×3 input 1..9, pool 2 stride 2 SAME → out 2×2, pad_needed = 1·2 + 2 − 3 = 1 (0 before, 1 after):
    /// [0,0] = (1+2+4+5)/4 = 3; [0,1] = (3+6)/2 = 4.5; [1,0] = (7+8)/2 = 7.5; [1,1] = 9/1 = 9.
    /// Counting the pads would give 2.25, 3.75 and 2.25 instead.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "pool2d" })]
    public void AveragePoolSame_ExcludesPaddingFromDivisor(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var x = Tensor.FromArray(backend, [1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 3, 3, 1);
        using var y = Ops.AveragePool2D(x, Pool2DOptions.Square(2, 2, Padding.Same));
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 3f, 4.5f, 7.5f, 9f }));
    }

    /// <summary>
    /// Padded cells never win a max (TF pads max pooling with −∞): on an all-negative input the SAME
    /// border windows return the largest real value, never 0. Same 3×3 layout as above, values −1..−9.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "pool2d" })]
    public void MaxPoolSame_PaddingNeverWins(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var x = Tensor.FromArray(backend, [-1, -2, -3, -4, -5, -6, -7, -8, -9], 1, 3, 3, 1);
        using var y = Ops.MaxPool2D(x, Pool2DOptions.Square(2, 2, Padding.Same));
        Assert.That(y.ToArray(), Is.EqualTo(new[] { -1f, -3f, -7f, -9f }));
    }

    /// <summary>
    /// ONNX/Caffe count_include_pad with explicit pads: 2×2 input [1 2; 3 4], pool 2 stride 2, pad 1 all round
    /// → out 2×2, each window holds one real cell and three pads: include → v/4, exclude → v.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "pool2d" })]
    public void AveragePoolExplicit_CountIncludePad_DividesByWholeWindow(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var x = Tensor.FromArray(backend, [1, 2, 3, 4], 1, 2, 2, 1);
        using var include = Ops.AveragePool2D(x, Pool2DOptions.Square(2, 2, Padding.Explicit(1)) with { CountIncludePad = true });
        using var exclude = Ops.AveragePool2D(x, Pool2DOptions.Square(2, 2, Padding.Explicit(1)));
        Assert.That(include.ToArray(), Is.EqualTo(new[] { 0.25f, 0.5f, 0.75f, 1f }));
        Assert.That(exclude.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }));
    }

    /// <summary>
    /// Ceil mode (Caffe, ONNX ceil_mode=1): 5 wide, pool 2 stride 2 → ceil(3/2)+1 = 3 outputs, the last window
    /// holding only column 4. Row [1 2 3 4 5]: max → 2, 4, 5; average (overhang never counted) → 1.5, 3.5, 5.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "pool2d" })]
    public void CeilMode_AddsAPartialLastWindow(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var x = Tensor.FromArray(backend, [1, 2, 3, 4, 5], 1, 1, 5, 1);
        var o = new Pool2DOptions { PoolH = 1, PoolW = 2, CeilMode = true };
        using var max = Ops.MaxPool2D(x, o);
        using var avg = Ops.AveragePool2D(x, o);
        Assert.That(max.ToArray(), Is.EqualTo(new[] { 2f, 4f, 5f }));
        Assert.That(avg.ToArray(), Is.EqualTo(new[] { 1.5f, 3.5f, 5f }));
    }

    public sealed record GlobalCase(PoolKind Kind, int[] Dims)
    {
        public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} ({string.Join(", ", Dims)})";
    }

    private static IEnumerable<TestCaseData> GlobalCases() => BackendCases.Cross("global-pool",
        from kind in new[] { PoolKind.Average, PoolKind.Max }
        from dims in new[] { new[] { 1, 1, 1, 3 }, new[] { 2, 5, 7, 3 }, new[] { 3, 4, 4, 21 }, new[] { 2, 9, 5 } }
        select new GlobalCase(kind, dims),
        c => c.Dims.Aggregate(1, (a, b) => a * b) <= 300);

    /// <summary>Keras GlobalAveragePooling2D / GlobalMaxPooling2D (and the 1D forms): mean or max over every position.</summary>
    [TestCaseSource(nameof(GlobalCases))]
    public void GlobalPool_MatchesDoubleReference(BackendCase backendCase, GlobalCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.Dims.Aggregate(1, (a, b) => a * b));
        var expected = DoubleReference.GlobalPool(Nd.FromFloats(x, c.Dims), c.Kind);
        using var input = Tensor.FromArray(backend, x, c.Dims);
        using var y = c.Kind == PoolKind.Max ? Ops.GlobalMaxPool2D(input) : Ops.GlobalAveragePool2D(input);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape));
        Approx.AssertClose(expected.Data, y.ToArray(), x.Length / c.Dims[0] / c.Dims[^1], $"GlobalPool {c}");
    }
}
