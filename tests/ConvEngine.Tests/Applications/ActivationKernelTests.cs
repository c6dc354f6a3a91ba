using ConvEngine.Kernels;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// The activations keras.applications bases use beyond relu/sigmoid/tanh, on every backend: forward against the
/// double reference (keras/activations definitions), backward from the input against finite differences of it,
/// and a few values Keras's own documentation prints.
/// </summary>
public class ActivationKernelTests
{
    public sealed record Case(KernelActivation Activation, int Length)
    {
        public override string ToString() => $"{Activation} n{Length}";
    }

    private static readonly KernelActivation[] Unfused =
    [
        KernelActivation.Relu6, KernelActivation.ClippedRelu(4f, 0.1f, 0.5f), KernelActivation.ClippedRelu(float.PositiveInfinity, 0f, 1f), KernelActivation.Elu(),
        KernelActivation.Elu(0.5f), KernelActivation.Selu, KernelActivation.Swish, KernelActivation.Gelu, KernelActivation.GeluTanh, KernelActivation.HardSigmoid,
        KernelActivation.HardSigmoidKeras3, KernelActivation.HardSwish, KernelActivation.Softplus, KernelActivation.Softsign, KernelActivation.Exponential, KernelActivation.Mish,
    ];

    private static IEnumerable<TestCaseData> ForwardCases() => BackendCases.Cross("activation",
        from a in Unfused from n in new[] { 1, 300 } select new Case(a, n), c => true);

    // Every kind, the fused ones included: the from-input derivative is one definition for all.
    private static IEnumerable<TestCaseData> BackwardCases() => BackendCases.Cross("activation-backward-from-input",
        from a in Unfused.Concat([KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.Sigmoid, KernelActivation.Tanh, KernelActivation.None])
        from n in new[] { 1, 300 } select new Case(a, n), c => true);

    /// <summary>Inputs spread over [−7, 7], where every kind's interesting region (kinks at 0, ±2.5, ±3, 4, 6, exp growth) lies.</summary>
    private static float[] Inputs(Case c)
    {
        var x = TestData.Uniform(TestData.For(c), c.Length, -7f, 7f);
        if (c.Length > 1) x[0] = 0.7f;
        return x;
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void Activate_MatchesKerasDefinition(BackendCase backendCase, Case c)
    {
        var backend = backendCase.Acquire();
        var x = Inputs(c);
        var expected = DoubleReference.Activate(TestData.Widen(x), c.Activation);
        using var input = Device.Put(backend, x);
        using var output = Device.Garbage(backend, x.Length);
        backend.Activate(input.Buffer, output.Buffer, x.Length, c.Activation);
        Approx.AssertClose(expected, output.ToArray(), 4, $"Activate {c}");
    }

    [TestCaseSource(nameof(BackwardCases))]
    public void ActivationBackwardFromInput_MatchesFiniteDifferences(BackendCase backendCase, Case c)
    {
        var backend = backendCase.Acquire();
        var x = Inputs(c);
        var upstream = TestData.Uniform(TestData.For(c + "g"), c.Length);
        // Elementwise: d(Σ g·f(x))/dx_i = g_i·(f(x_i + h) − f(x_i − h))/2h, one central difference per element.
        const double h = 1e-6;
        var expected = x.Select((v, i) => upstream[i] * (DoubleReference.Activate(v + h, c.Activation) - DoubleReference.Activate(v - h, c.Activation)) / (2 * h)).ToArray();
        using var input = Device.Put(backend, x);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.ActivationBackwardFromInput(input.Buffer, gradOutput.Buffer, gradInput.Buffer, x.Length, c.Activation);
        Approx.AssertClose(expected, gradInput.ToArray(), 4, $"ActivationBackwardFromInput {c}");
    }

    // Ops.Conv2D and Ops.Dense fuse any kind a caller asks for (layers run the unfused ones as a pass of their own).
    private static IEnumerable<TestCaseData> FusedCases() => BackendCases.Cross("conv2d",
        new[] { KernelActivation.Swish, KernelActivation.Gelu, KernelActivation.Relu6, KernelActivation.HardSigmoidKeras3 }.Select(a => new Case(a, 1)), c => true);

    [TestCaseSource(nameof(FusedCases))]
    public void ConvAndDense_ApplyAnyActivationTheyAreGiven(BackendCase backendCase, Case c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, 2 * 5 * 4 * 3, -2f, 2f);
        var w = TestData.Uniform(random, 3 * 3 * 3 * 4);
        var bias = TestData.Uniform(random, 4);
        var options = new ConvEngine.Kernels.Geometry.Conv2DOptions { Padding = ConvEngine.Kernels.Geometry.Padding.Same, Activation = c.Activation };
        var expected = DoubleReference.Conv2D(Nd.FromFloats(x, 2, 5, 4, 3), Nd.FromFloats(w, 3, 3, 3, 4), TestData.Widen(bias), options);
        using var input = Tensor.FromArray(backend, x, 2, 5, 4, 3);
        using var filter = Tensor.FromArray(backend, w, 3, 3, 3, 4);
        using var b = Tensor.FromArray(backend, bias, 4);
        using var y = Ops.Conv2D(input, filter, b, options);
        Approx.AssertClose(expected.Data, y.ToArray(), 27, $"Conv2D + {c.Activation}");

        var kernel = TestData.Uniform(random, 3 * 5);
        var expectedDense = DoubleReference.Dense(Nd.FromFloats(x[..(8 * 3)], 8, 3), Nd.FromFloats(kernel, 3, 5), null, c.Activation);
        using var rows = Tensor.FromArray(backend, x[..(8 * 3)], 8, 3);
        using var k = Tensor.FromArray(backend, kernel, 3, 5);
        using var dense = Ops.Dense(rows, k, null, c.Activation);
        Approx.AssertClose(expectedDense.Data, dense.ToArray(), 3, $"Dense + {c.Activation}");
    }

    // keras.activations.relu's docstring (Keras 3, the same function as tf.keras 2's backend.relu):
    // x = [-10, -5, 0, 5, 10]; negative_slope 0.5 → [-5, -2.5, 0, 5, 10]; max_value 5 → [0, 0, 0, 5, 5]; threshold 5 → [0, 0, 0, 0, 10].
    [TestCase(float.PositiveInfinity, 0.5f, 0f, new[] { -5f, -2.5f, 0f, 5f, 10f })]
    [TestCase(5f, 0f, 0f, new[] { 0f, 0f, 0f, 5f, 5f })]
    [TestCase(float.PositiveInfinity, 0f, 5f, new[] { 0f, 0f, 0f, 0f, 10f })]
    public void ClippedRelu_GivesKerasDocumentedValues(float maxValue, float slope, float threshold, float[] expected)
    {
        var act = KernelActivation.ClippedRelu(maxValue, slope, threshold);
        float[] x = [-10f, -5f, 0f, 5f, 10f];
        Assert.That(x.Select(act.Apply), Is.EqualTo(expected));
    }

    // tf.keras 2 hard_sigmoid: 0.2x + 0.5 clipped (0 below −2.5, 1 above 2.5); Keras 3: x/6 + 0.5 (0 at or below −3, 1 at or above 3).
    [TestCase(1f, 0.7f, 0.6666667f)]
    [TestCase(-2.6f, 0f, 0.06666666f)]
    [TestCase(2.75f, 1f, 0.9583333f)]
    [TestCase(-3f, 0f, 0f)]
    public void HardSigmoid_Keras2AndKeras3_FollowTheirOwnDefinitions(float x, float keras2, float keras3)
    {
        Assert.That(KernelActivation.HardSigmoid.Apply(x), Is.EqualTo(keras2).Within(1e-6f));
        Assert.That(KernelActivation.HardSigmoidKeras3.Apply(x), Is.EqualTo(keras3).Within(1e-6f));
    }

    // Keras's gelu docstring: gelu([-1, 0, 1]) = [-0.15865525, 0, 0.84134475] (x·Φ(x)).
    [Test]
    public void Gelu_GivesKerasDocumentedValues()
    {
        Assert.That(new[] { -1f, 0f, 1f }.Select(KernelActivation.Gelu.Apply), Is.EqualTo(new[] { -0.15865525f, 0f, 0.84134475f }).Within(2e-7f));
        // The tanh form differs from the exact one in the fourth decimal at 1: 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.841192.
        Assert.That(KernelActivation.GeluTanh.Apply(1f), Is.EqualTo(0.841192f).Within(1e-6f));
    }
}
