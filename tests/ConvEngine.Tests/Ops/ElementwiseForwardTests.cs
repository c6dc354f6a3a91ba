using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>Activations, softmax, add, concat and pad through the public Ops.</summary>
public class ElementwiseForwardTests
{
    public sealed record ActivationCase(KernelActivation Activation, int Length, float Scale)
    {
        public override string ToString() => $"{Activation} n{Length} ×{Scale}";
    }

    private static IEnumerable<TestCaseData> ActivationCases() => BackendCases.Cross("activation",
        from a in new[] { KernelActivation.None, KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.LeakyRelu(0.01f), KernelActivation.Sigmoid, KernelActivation.Tanh }
        from n in new[] { 1, 37, 1001 }
        from scale in new[] { 1f, 30f } // ×30 drives sigmoid and tanh into saturation
        select new ActivationCase(a, n, scale),
        c => c.Length <= 37);

    [TestCaseSource(nameof(ActivationCases))]
    public void Activation_MatchesDoubleReference(BackendCase backendCase, ActivationCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.Length, -c.Scale, c.Scale);
        using var input = Tensor.FromArray(backend, x, c.Length);
        using var y = Ops.Activate(input, c.Activation);
        Approx.AssertClose(DoubleReference.Activate(TestData.Widen(x), c.Activation), y.ToArray(), 1, c.ToString());
    }

    /// <summary>The named shortcuts apply what their names say; Keras's LeakyReLU default slope is 0.3.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "activation" })]
    public void ActivationShortcuts_ApplyTheirDefinitions(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var x = Tensor.FromArray(backend, [-2f, 0f, 3f], 3);
        using var relu = Ops.Relu(x);
        using var leaky = Ops.LeakyRelu(x);
        using var sigmoid = Ops.Sigmoid(x);
        using var tanh = Ops.Tanh(x);
        Assert.That(relu.ToArray(), Is.EqualTo(new[] { 0f, 0f, 3f }));
        Assert.That(leaky.ToArray(), Is.EqualTo(new[] { -0.6f, 0f, 3f }).Within(1e-6f));
        Assert.That(sigmoid.ToArray(), Is.EqualTo(new[] { 1 / (1 + MathF.Exp(2)), 0.5f, 1 / (1 + MathF.Exp(-3)) }).Within(1e-6f));
        Assert.That(tanh.ToArray(), Is.EqualTo(new[] { MathF.Tanh(-2), 0f, MathF.Tanh(3) }).Within(1e-6f));
    }

    public sealed record SoftmaxCase(int Rows, int Cols, float Scale, bool Log)
    {
        public override string ToString() => $"{(Log ? "log-softmax" : "softmax")} {Rows}x{Cols} ×{Scale}";
    }

    private static IEnumerable<TestCaseData> SoftmaxCases() => BackendCases.Cross("softmax",
        from log in new[] { false, true }
        from shape in new[] { (1, 1), (1, 2), (3, 7), (5, 33), (2, 1000) }
        from scale in new[] { 1f, 100f } // logits of ±100 overflow e^x in float unless the max is subtracted
        select new SoftmaxCase(shape.Item1, shape.Item2, scale, log),
        c => c.Rows * c.Cols <= 100);

    [TestCaseSource(nameof(SoftmaxCases))]
    public void Softmax_MatchesDoubleReference(BackendCase backendCase, SoftmaxCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.Rows * c.Cols, -c.Scale, c.Scale);
        using var input = Tensor.FromArray(backend, x, c.Rows, c.Cols);
        using var y = c.Log ? Ops.LogSoftmax(input) : Ops.Softmax(input);
        Approx.AssertClose(DoubleReference.Softmax(TestData.Widen(x), c.Rows, c.Cols, c.Log), y.ToArray(), c.Cols, c.ToString());
    }

    /// <summary>Softmax acts on the last axis of any rank: (2,3,4,5) is 24 rows of 5.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "softmax" })]
    public void Softmax_OfRank4_NormalisesTheLastAxis(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(new Random(3), 120, -3, 3);
        using var input = Tensor.FromArray(backend, x, 2, 3, 4, 5);
        using var y = Ops.Softmax(input);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 2, 3, 4, 5 }));
        Approx.AssertClose(DoubleReference.Softmax(TestData.Widen(x), 24, 5, log: false), y.ToArray(), 5, "softmax rank 4");
    }

    private static IEnumerable<TestCaseData> AddCases() => BackendCases.Cross("add",
        new[] { new[] { 1 }, new[] { 2, 5, 7, 3 }, new[] { 3, 1001 } }.Select(d => new Dims(d)), d => d.Length <= 300);

    public sealed record Dims(int[] Shape)
    {
        public int Length => Shape.Aggregate(1, (a, b) => a * b);
        public override string ToString() => "(" + string.Join(", ", Shape) + ")";
    }

    [TestCaseSource(nameof(AddCases))]
    public void Add_MatchesDoubleReference(BackendCase backendCase, Dims d)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(d);
        var a = TestData.Uniform(random, d.Length);
        var b = TestData.Uniform(random, d.Length);
        using var ta = Tensor.FromArray(backend, a, d.Shape);
        using var tb = Tensor.FromArray(backend, b, d.Shape);
        using var y = Ops.Add(ta, tb);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(d.Shape));
        Approx.AssertClose(DoubleReference.Add(TestData.Widen(a), TestData.Widen(b)), y.ToArray(), 2, "Add");
    }

    public sealed record ConcatCase(int[] Leading, int[] Channels)
    {
        public override string ToString() => $"({string.Join(", ", Leading)}, [{string.Join("+", Channels)}])";
        public int Pixels => Leading.Aggregate(1, (a, b) => a * b);
    }

    private static IEnumerable<TestCaseData> ConcatCases() => BackendCases.Cross("concat",
        new ConcatCase[]
        {
            new([1, 1, 1], [1]),
            new([2, 3, 5], [3, 4]),
            new([1, 4, 4], [64, 128, 32, 32]),   // an Inception module's four branches
            new([2, 3, 3], [1, 17, 5]),
            new([3], [2, 7]),                    // rank 2
        },
        c => c.Pixels * c.Channels.Sum() <= 300);

    /// <summary>Concatenation on the channel (last) axis, as an Inception module joins its branches.</summary>
    [TestCaseSource(nameof(ConcatCases))]
    public void Concat_MatchesDoubleReference(BackendCase backendCase, ConcatCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var parts = c.Channels.Select(ch => TestData.Uniform(random, c.Pixels * ch)).ToArray();
        var tensors = parts.Select((p, i) => Tensor.FromArray(backend, p, [.. c.Leading, c.Channels[i]])).ToArray();
        try
        {
            using var y = Ops.Concat(tensors);
            var expected = DoubleReference.Concat(parts.Select((p, i) => Nd.FromFloats(p, [.. c.Leading, c.Channels[i]])).ToArray());
            Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape));
            Approx.AssertClose(expected.Data, y.ToArray(), 1, $"Concat {c}");
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    public sealed record PadCase(PadMode Mode, int N, int H, int W, int C, int Top, int Bottom, int Left, int Right)
    {
        public override string ToString() => $"{Mode} n{N} {H}x{W}x{C} pads t{Top} b{Bottom} l{Left} r{Right}";
    }

    private static IEnumerable<TestCaseData> PadCases() => BackendCases.Cross("pad2d",
        from mode in new[] { PadMode.Zero, PadMode.Reflect, PadMode.Edge }
        from p in new[] { (0, 0, 0, 0), (1, 1, 1, 1), (0, 2, 1, 0), (3, 1, 2, 4) }
        select new PadCase(mode, 2, 5, 6, 3, p.Item1, p.Item2, p.Item3, p.Item4),
        c => true);

    [TestCaseSource(nameof(PadCases))]
    public void Pad2D_MatchesDoubleReference(BackendCase backendCase, PadCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.N * c.H * c.W * c.C);
        var expected = DoubleReference.Pad2D(Nd.FromFloats(x, c.N, c.H, c.W, c.C), c.Top, c.Bottom, c.Left, c.Right, c.Mode);
        using var input = Tensor.FromArray(backend, x, c.N, c.H, c.W, c.C);
        using var y = Ops.Pad2D(input, c.Top, c.Bottom, c.Left, c.Right, c.Mode);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape));
        Approx.AssertClose(expected.Data, y.ToArray(), 1, $"Pad2D {c}");
    }

    /// <summary>
    /// Row [a b c d] = [1 2 3 4] padded 2 left and 2 right: zero 0 0|1 2 3 4|0 0; reflect (no edge repeat,
    /// numpy/ONNX "reflect") 3 2|1 2 3 4|3 2; edge 1 1|1 2 3 4|4 4.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "pad2d" })]
    public void Pad2D_Modes_OnAHandWorkedRow(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var x = Tensor.FromArray(backend, [1, 2, 3, 4], 1, 1, 4, 1);
        using var zero = Ops.Pad2D(x, 0, 0, 2, 2, PadMode.Zero);
        using var reflect = Ops.Pad2D(x, 0, 0, 2, 2, PadMode.Reflect);
        using var edge = Ops.Pad2D(x, 0, 0, 2, 2, PadMode.Edge);
        Assert.That(zero.ToArray(), Is.EqualTo(new float[] { 0, 0, 1, 2, 3, 4, 0, 0 }));
        Assert.That(reflect.ToArray(), Is.EqualTo(new float[] { 3, 2, 1, 2, 3, 4, 3, 2 }));
        Assert.That(edge.ToArray(), Is.EqualTo(new float[] { 1, 1, 1, 2, 3, 4, 4, 4 }));
    }
}
