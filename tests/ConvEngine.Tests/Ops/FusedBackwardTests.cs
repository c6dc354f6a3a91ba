using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>A fused conv-block backward problem: a pool over the output of an activation.</summary>
public sealed record PoolActivationCase(PoolCase Pool, KernelActivation Activation, bool Bias = true)
{
    public override string ToString() => $"{Pool} {Activation}{(Bias ? " bias" : "")}";
}

/// <summary>
/// Pool2DActivationBackward and ActivationBiasBackward (IBackend.FusedBackward.cs) on every backend: against the
/// double reference chain rule (act' written from the activation's output, the reference pool backward, column sums)
/// and, for ReLU before a max pool, against finite differences of the double reference forward pool(act(z)).
/// Output buffers start as garbage, so a cell the fused kernel forgets to write (a remainder row, a gap between
/// windows) shows.
/// </summary>
public class FusedBackwardTests
{
    private static Pool2DOptions Pool(int size, int? stride = null, Padding? padding = null, int dilation = 1) =>
        Pool2DOptions.Square(size, stride, padding) with { DilationH = dilation, DilationW = dilation };

    private static IEnumerable<PoolActivationCase> Cases()
    {
        var max = new (int N, int H, int W, int C, Pool2DOptions O)[]
        {
            (2, 6, 8, 3, new Pool2DOptions()),                       // windows tile the input exactly
            (1, 7, 9, 19, Pool(2, padding: Padding.Same)),            // odd sizes: the last window is cut by the edge; SIMD tail
            (2, 8, 7, 8, Pool(3)),                                    // valid 3x3: the last rows and columns belong to no window
            (1, 9, 10, 5, Pool(2, 3)),                                // stride past the window: gaps that get 0
            (1, 9, 9, 4, Pool(2, 3, dilation: 2)),                    // dilated window with holes, extent 3 = stride
            (2, 7, 7, 3, Pool(3, 2, Padding.Same)),                   // overlapping windows: the composed path
        };
        foreach (var (n, h, w, c, o) in max)
            foreach (var activation in new[] { KernelActivation.Relu, KernelActivation.LeakyRelu(0.2f), KernelActivation.None, KernelActivation.Tanh, KernelActivation.Sigmoid })
                yield return new PoolActivationCase(new PoolCase(PoolKind.Max, n, h, w, c, o), activation);
        yield return new PoolActivationCase(new PoolCase(PoolKind.Max, 1, 6, 6, 9, new Pool2DOptions()), KernelActivation.Relu, Bias: false);
        yield return new PoolActivationCase(new PoolCase(PoolKind.Average, 2, 7, 6, 5, Pool(2, padding: Padding.Same)), KernelActivation.Relu);
    }

    private static IEnumerable<TestCaseData> PoolCases() =>
        BackendCases.Cross("pool2d-backward", Cases(), c => c.Pool.SmallEnoughForIlgpu);

    /// <summary>
    /// The activation's output y = act(z) for distinct z at least 0.05 from 0 (so max-pool winners are unique and away
    /// from ReLU's kink), the upstream gradient, and the expected d/dz and bias gradient from the double reference.
    /// </summary>
    private static (float[] Y, float[] Upstream, double[] GradPre, double[] GradBias) Problem(PoolActivationCase c)
    {
        var p = c.Pool;
        var random = TestData.For(c);
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(p.InputDims), p.Options);
        var z = TestData.Distinct(random, g.InputShape.Length);
        for (int i = 0; i < z.Length; i++) z[i] = MathF.CopySign(0.05f + 0.95f * MathF.Abs(z[i]), z[i]);
        var y = Array.ConvertAll(z, v => (float)DoubleReference.Activate(v, c.Activation));
        var upstream = TestData.Uniform(random, g.OutputShape.Length);
        var poolGrad = DoubleReference.Pool2DBackward(Nd.FromFloats(y, p.InputDims), Nd.FromFloats(upstream, g.OutputShape.ToArray()), p.Options, p.Kind).Data;
        var gradPre = new double[poolGrad.Length];
        for (int i = 0; i < gradPre.Length; i++) gradPre[i] = poolGrad[i] * Slope(y[i], c.Activation);
        return (y, upstream, gradPre, ColumnSums(gradPre, p.C));
    }

    /// <summary>act'(z) written from y = act(z), from the activations' definitions (keras-semantics.md A).</summary>
    private static double Slope(double y, KernelActivation a) => a.Kind switch
    {
        ActivationKind.None => 1,
        ActivationKind.Relu => y > 0 ? 1 : 0,
        ActivationKind.LeakyRelu => y > 0 ? 1 : a.Alpha,
        ActivationKind.Sigmoid => y * (1 - y),
        ActivationKind.Tanh => 1 - y * y,
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    private static double[] ColumnSums(double[] values, int channels)
    {
        var sums = new double[channels];
        for (int i = 0; i < values.Length; i++) sums[i % channels] += values[i];
        return sums;
    }

    [TestCaseSource(nameof(PoolCases))]
    public void Pool2DActivationBackward_MatchesChainRuleReference(BackendCase backendCase, PoolActivationCase c)
    {
        var backend = backendCase.Acquire();
        var p = c.Pool;
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(p.InputDims), p.Options);
        var (y, upstream, expectedPre, expectedBias) = Problem(c);

        using var input = Device.Put(backend, y);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradPre = Device.Garbage(backend, y.Length);
        using var gradBias = Device.Garbage(backend, p.C);
        backend.Pool2DActivationBackward(input.Buffer, gradOutput.Buffer, gradPre.Buffer, c.Bias ? gradBias.Buffer : null, g, p.Kind, c.Activation);

        Approx.AssertClose(expectedPre, gradPre.ToArray(), p.Options.PoolH * p.Options.PoolW, $"gradInput {c}");
        if (c.Bias) Approx.AssertClose(expectedBias, gradBias.ToArray(), p.N * p.H * p.W, $"gradBias {c}");
        else Assert.That(gradBias.ToArray(), Is.All.EqualTo(Device.Sentinel), "no bias buffer given: nothing written");
    }

    private static IEnumerable<TestCaseData> ReluMaxCases() => BackendCases.Cross("pool2d-backward",
        Cases().Where(c => c.Activation.Kind == ActivationKind.Relu && c.Pool.Kind == PoolKind.Max && c.Bias), c => c.Pool.SmallEnoughForIlgpu);

    /// <summary>d/dz of L = Σ upstream ⊙ maxpool(relu(z)), numerically, from the double forward ops alone.</summary>
    [TestCaseSource(nameof(ReluMaxCases))]
    public void ReluMaxPoolBackward_MatchesFiniteDifferences(BackendCase backendCase, PoolActivationCase c)
    {
        var backend = backendCase.Acquire();
        var p = c.Pool;
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(p.InputDims), p.Options);
        var random = TestData.For(c);
        var z = TestData.Distinct(random, g.InputShape.Length);
        for (int i = 0; i < z.Length; i++) z[i] = MathF.CopySign(0.05f + 0.95f * MathF.Abs(z[i]), z[i]);
        var upstream = TestData.Uniform(random, g.OutputShape.Length);
        var gradOut = TestData.Widen(upstream);
        var expected = ExpectedCache.Get($"relu maxpool {c}", () => FiniteDifference.Gradient(
            v => FiniteDifference.Dot(gradOut, DoubleReference.Pool2D(new Nd(DoubleReference.Activate(v, KernelActivation.Relu), p.InputDims), p.Options, PoolKind.Max).Data),
            TestData.Widen(z)));

        var y = Array.ConvertAll(z, v => v > 0 ? v : 0f);
        using var input = Device.Put(backend, y);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradPre = Device.Garbage(backend, y.Length);
        backend.Pool2DActivationBackward(input.Buffer, gradOutput.Buffer, gradPre.Buffer, null, g, PoolKind.Max, KernelActivation.Relu);
        Approx.AssertClose(expected, gradPre.ToArray(), p.Options.PoolH * p.Options.PoolW, $"relu + max pool backward {c}");
    }

    // Large enough that the cpu kernel splits the batch's rows over threads (1, 2 and 3 parts) and sums bias partials.
    private static readonly PoolActivationCase[] LargeCases =
    [
        new(new PoolCase(PoolKind.Max, 3, 33, 31, 40, new Pool2DOptions()), KernelActivation.Relu),
        new(new PoolCase(PoolKind.Max, 1, 64, 30, 21, Pool(2, padding: Padding.Same)), KernelActivation.LeakyRelu(0.1f)),
    ];

    private static IEnumerable<TestCaseData> LargeCaseData() => BackendCases.CrossThreaded("pool2d-backward", LargeCases);

    [TestCaseSource(nameof(LargeCaseData))]
    public void Pool2DActivationBackward_Large_MatchesChainRuleReference(BackendCase backendCase, PoolActivationCase c) =>
        Pool2DActivationBackward_MatchesChainRuleReference(backendCase, c);

    // ---------------------------------------------------------------- activation + bias

    public sealed record RowsCase(long Rows, int Channels, KernelActivation Activation)
    {
        public bool SmallEnoughForIlgpu => Rows * Channels <= 2000;
        public override string ToString() => $"{Rows}x{Channels} {Activation}";
    }

    private static IEnumerable<RowsCase> RowCases()
    {
        foreach (var a in new[] { KernelActivation.Relu, KernelActivation.LeakyRelu(0.3f), KernelActivation.Sigmoid, KernelActivation.Tanh, KernelActivation.None })
        {
            yield return new RowsCase(37, 19, a);
            yield return new RowsCase(5, 1, a);
        }
        yield return new RowsCase(20000, 24, KernelActivation.Relu);     // several parts on every thread count
        yield return new RowsCase(3000, 133, KernelActivation.Tanh);
    }

    private static IEnumerable<TestCaseData> RowCaseData() => BackendCases.Cross("activation-bias-backward", RowCases(), c => c.SmallEnoughForIlgpu);

    [TestCaseSource(nameof(RowCaseData))]
    public void ActivationBiasBackward_MatchesChainRuleReference(BackendCase backendCase, RowsCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        long length = c.Rows * c.Channels;
        var y = Array.ConvertAll(TestData.AwayFromZero(random, length), v => (float)DoubleReference.Activate(v, c.Activation));
        var upstream = TestData.Uniform(random, length);
        var expected = new double[length];
        for (long i = 0; i < length; i++) expected[i] = upstream[i] * Slope(y[i], c.Activation);

        using var output = Device.Put(backend, y);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradPre = Device.Garbage(backend, length);
        using var gradBias = Device.Garbage(backend, c.Channels);
        backend.ActivationBiasBackward(output.Buffer, gradOutput.Buffer, gradPre.Buffer, gradBias.Buffer, c.Rows, c.Channels, c.Activation);
        Approx.AssertClose(expected, gradPre.ToArray(), 1, $"gradInput {c}");
        Approx.AssertClose(ColumnSums(expected, c.Channels), gradBias.ToArray(), (int)c.Rows, $"gradBias {c}");
    }
}
