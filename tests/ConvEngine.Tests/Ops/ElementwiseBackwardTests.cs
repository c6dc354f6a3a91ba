using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// ActivationBackward, SoftmaxBackward, Split, Pad2DBackward against finite differences of the double
/// reference forward; Multiply, Axpy and Fill against their definitions.
/// </summary>
public class ElementwiseBackwardTests
{
    public sealed record ActivationCase(KernelActivation Activation, int Length)
    {
        public override string ToString() => $"{Activation} n{Length}";
    }

    private static IEnumerable<TestCaseData> ActivationCases() => BackendCases.Cross("activation-backward",
        from a in new[] { KernelActivation.None, KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.LeakyRelu(0.01f), KernelActivation.Sigmoid, KernelActivation.Tanh }
        from n in new[] { 1, 37, 1001 }
        select new ActivationCase(a, n),
        c => c.Length <= 37);

    /// <summary>The kernel sees only the activation's output y (relu y>0, sigmoid y(1−y), tanh 1−y², leaky y>0 ? 1 : α).</summary>
    [TestCaseSource(nameof(ActivationCases))]
    public void ActivationBackward_MatchesFiniteDifferences(BackendCase backendCase, ActivationCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.AwayFromZero(random, c.Length);   // the FD step never crosses relu's kink
        for (int i = 0; i < x.Length; i++) x[i] *= 3;
        var upstream = TestData.Uniform(random, c.Length);
        var y = Array.ConvertAll(DoubleReference.Activate(TestData.Widen(x), c.Activation), v => (float)v);
        var gradOut = TestData.Widen(upstream);
        var expected = FiniteDifference.Gradient(v => FiniteDifference.Dot(gradOut, DoubleReference.Activate(v, c.Activation)), TestData.Widen(x));

        using var output = Device.Put(backend, y);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, c.Length);
        backend.ActivationBackward(output.Buffer, gradOutput.Buffer, gradInput.Buffer, c.Length, c.Activation);
        Approx.AssertClose(expected, gradInput.ToArray(), 4, $"ActivationBackward {c}");
    }

    public sealed record SoftmaxCase(int Rows, int Cols, bool Log)
    {
        public override string ToString() => $"{(Log ? "log-softmax" : "softmax")} {Rows}x{Cols}";
    }

    private static IEnumerable<TestCaseData> SoftmaxCases() => BackendCases.Cross("softmax-backward",
        from log in new[] { false, true }
        from shape in new[] { (1, 1), (1, 2), (3, 7), (4, 33), (2, 100) }
        select new SoftmaxCase(shape.Item1, shape.Item2, log),
        c => c.Rows * c.Cols <= 100);

    [TestCaseSource(nameof(SoftmaxCases))]
    public void SoftmaxBackward_MatchesFiniteDifferences(BackendCase backendCase, SoftmaxCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, c.Rows * c.Cols, -3, 3);
        var upstream = TestData.Uniform(random, c.Rows * c.Cols);
        var y = Array.ConvertAll(DoubleReference.Softmax(TestData.Widen(x), c.Rows, c.Cols, c.Log), v => (float)v);
        var gradOut = TestData.Widen(upstream);
        var expected = FiniteDifference.Gradient(
            v => FiniteDifference.Dot(gradOut, DoubleReference.Softmax(v, c.Rows, c.Cols, c.Log)), TestData.Widen(x));

        using var output = Device.Put(backend, y);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.SoftmaxBackward(output.Buffer, gradOutput.Buffer, gradInput.Buffer, c.Rows, c.Cols, c.Log);
        Approx.AssertClose(expected, gradInput.ToArray(), c.Cols, $"SoftmaxBackward {c}");
    }

    public sealed record SplitCase(long Pixels, int[] Channels)
    {
        public override string ToString() => $"pixels{Pixels} [{string.Join("+", Channels)}]";
    }

    private static IEnumerable<TestCaseData> SplitCases() => BackendCases.Cross("split",
        new SplitCase[] { new(1, [1]), new(30, [3, 4]), new(16, [64, 128, 32, 32]), new(18, [1, 17, 5]) },
        c => c.Pixels * c.Channels.Sum() <= 300);

    /// <summary>Split is Concat's backward: each input's gradient is its channel slice of the upstream gradient.</summary>
    [TestCaseSource(nameof(SplitCases))]
    public void Split_IsTheGradientOfConcat(BackendCase backendCase, SplitCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        int total = c.Channels.Sum();
        var upstream = TestData.Uniform(random, c.Pixels * total);
        var gradOut = TestData.Widen(upstream);
        var parts = c.Channels.Select(ch => TestData.Widen(TestData.Uniform(random, c.Pixels * ch))).ToArray();

        var outputs = c.Channels.Select(ch => Device.Garbage(backend, c.Pixels * ch)).ToArray();
        try
        {
            using var input = Device.Put(backend, upstream);
            backend.Split(input.Buffer, outputs.Select(t => t.Buffer).ToArray(), c.Channels, c.Pixels);
            for (int i = 0; i < parts.Length; i++)
            {
                int which = i;
                double Loss(double[] v)
                {
                    var inputs = parts.Select((p, j) => new Nd(j == which ? v : p, (int)c.Pixels, c.Channels[j])).ToArray();
                    return FiniteDifference.Dot(gradOut, DoubleReference.Concat(inputs).Data);
                }
                var expected = FiniteDifference.Gradient(Loss, parts[i]);
                Approx.AssertClose(expected, outputs[i].ToArray(), 1, $"Split part {i} of {c}");
            }
        }
        finally
        {
            foreach (var t in outputs) t.Dispose();
        }
    }

    private static IEnumerable<TestCaseData> PadCases() => BackendCases.Cross("pad2d-backward",
        from mode in new[] { PadMode.Zero, PadMode.Reflect, PadMode.Edge }
        from p in new[] { (0, 0, 0, 0), (1, 1, 1, 1), (0, 2, 1, 0), (3, 1, 2, 4) }
        select new ElementwiseForwardTests.PadCase(mode, 2, 5, 6, 3, p.Item1, p.Item2, p.Item3, p.Item4),
        c => true);

    /// <summary>Each input cell sums the gradient of every output cell that copied it (reflect and edge copy a cell many times).</summary>
    [TestCaseSource(nameof(PadCases))]
    public void Pad2DBackward_MatchesFiniteDifferences(BackendCase backendCase, ElementwiseForwardTests.PadCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var g = Pad2DGeometry.Create("Pad2D", new TensorShape(c.N, c.H, c.W, c.C), c.Top, c.Bottom, c.Left, c.Right, c.Mode);
        var x = TestData.Uniform(random, g.InputShape.Length);
        var upstream = TestData.Uniform(random, g.OutputShape.Length);
        var gradOut = TestData.Widen(upstream);
        var expected = FiniteDifference.Gradient(v => FiniteDifference.Dot(gradOut,
            DoubleReference.Pad2D(new Nd(v, c.N, c.H, c.W, c.C), c.Top, c.Bottom, c.Left, c.Right, c.Mode).Data), TestData.Widen(x));

        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.Pad2DBackward(gradOutput.Buffer, gradInput.Buffer, g, c.Mode);
        Approx.AssertClose(expected, gradInput.ToArray(), 1 + Math.Max(c.Top + c.Bottom, c.Left + c.Right), $"Pad2DBackward {c}");
    }

    private static IEnumerable<TestCaseData> LengthCases() => BackendCases.Cross("elementwise",
        new[] { 1, 7, 1001 }.Select(n => new ElementwiseForwardTests.Dims([n])), d => d.Length <= 7);

    [TestCaseSource(nameof(LengthCases))]
    public void Multiply_IsElementwiseProduct(BackendCase backendCase, ElementwiseForwardTests.Dims d)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(d);
        var a = TestData.Uniform(random, d.Length);
        var b = TestData.Uniform(random, d.Length);
        using var ta = Device.Put(backend, a);
        using var tb = Device.Put(backend, b);
        using var output = Device.Garbage(backend, d.Length);
        backend.Multiply(ta.Buffer, tb.Buffer, output.Buffer, d.Length);
        Approx.AssertClose(a.Zip(b, (p, q) => (double)p * q).ToArray(), output.ToArray(), 1, "Multiply");
    }

    [TestCaseSource(nameof(LengthCases))]
    public void Axpy_AddsAlphaTimesXToY(BackendCase backendCase, ElementwiseForwardTests.Dims d)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(d);
        var x = TestData.Uniform(random, d.Length);
        var y = TestData.Uniform(random, d.Length);
        const float alpha = -0.375f;
        using var tx = Device.Put(backend, x);
        using var ty = Device.Put(backend, y);
        backend.Axpy(alpha, tx.Buffer, ty.Buffer, d.Length);
        Approx.AssertClose(x.Zip(y, (p, q) => alpha * (double)p + q).ToArray(), ty.ToArray(), 2, "Axpy");
    }

    [TestCaseSource(nameof(LengthCases))]
    public void Fill_WritesTheValueToTheGivenLengthOnly(BackendCase backendCase, ElementwiseForwardTests.Dims d)
    {
        var backend = backendCase.Acquire();
        using var buffer = Device.Garbage(backend, d.Length + 3);
        backend.Fill(buffer.Buffer, -1.5f, d.Length);
        var got = buffer.ToArray();
        Assert.That(got[..d.Length], Is.All.EqualTo(-1.5f));
        Assert.That(got[d.Length..], Is.All.EqualTo(Device.Sentinel), "cells past the length are untouched");
    }
}
