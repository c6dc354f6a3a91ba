using ConvEngine.Kernels;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>A dense problem: input (M,K), kernel (K,N).</summary>
public sealed record DenseCase(int M, int K, int N, KernelActivation Activation, bool Bias = true)
{
    public override string ToString() => $"{M}x{K} * {K}x{N} {Activation}{(Bias ? " bias" : "")}";
    public bool SmallEnoughForIlgpu => M * K * N <= 2000;
}

public class DenseForwardTests
{
    private static readonly DenseCase[] Cases =
    [
        new(1, 1, 1, KernelActivation.None, Bias: false),
        new(1, 7, 3, KernelActivation.None),
        new(5, 13, 1, KernelActivation.Sigmoid),                 // the course's binary head
        new(3, 17, 9, KernelActivation.Relu),
        new(4, 33, 35, KernelActivation.LeakyRelu()),
        new(2, 64, 10, KernelActivation.Tanh, Bias: false),
        new(7, 129, 31, KernelActivation.Relu),
        new(64, 97, 18, KernelActivation.None),
    ];

    private static IEnumerable<TestCaseData> ForwardCases() => BackendCases.Cross("dense", Cases, c => c.SmallEnoughForIlgpu);

    /// <summary>keras-semantics.md A, Dense: kernel (in, units), y = act(x·W + b).</summary>
    [TestCaseSource(nameof(ForwardCases))]
    public void Dense_MatchesDoubleReference(BackendCase backendCase, DenseCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, c.M * c.K);
        var w = TestData.Uniform(random, c.K * c.N);
        var bias = c.Bias ? TestData.Uniform(random, c.N) : null;
        var expected = DoubleReference.Dense(Nd.FromFloats(x, c.M, c.K), Nd.FromFloats(w, c.K, c.N),
            bias is null ? null : TestData.Widen(bias), c.Activation);

        using var input = Tensor.FromArray(backend, x, c.M, c.K);
        using var kernel = Tensor.FromArray(backend, w, c.K, c.N);
        using var b = bias is null ? null : Tensor.FromArray(backend, bias, c.N);
        using var y = Ops.Dense(input, kernel, b, c.Activation);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape));
        Approx.AssertClose(expected.Data, y.ToArray(), c.K, $"Dense {c}");
    }

    /// <summary>
    /// keras-semantics.md A, Flatten: channels-last, flat index (h·W + w)·C + c, so Flatten then Dense reads
    /// pixel (h,w) channel c at row (h·W + w)·C + c of the kernel.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "dense" })]
    public void FlattenThenDense_ReadsChannelsLastOrder(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        const int h = 2, w = 3, c = 2;
        var x = Enumerable.Range(0, h * w * c).Select(i => (float)i).ToArray(); // value = flat index
        var kernel = new float[h * w * c];
        kernel[(1 * w + 2) * c + 1] = 1f; // selects pixel (1,2), channel 1
        using var input = Tensor.FromArray(backend, x, 1, h, w, c);
        using var flat = Ops.Flatten(input);
        using var k = Tensor.FromArray(backend, kernel, h * w * c, 1);
        using var y = Ops.Dense(flat, k, null);
        Assert.That(y.ToArray(), Is.EqualTo(new[] { (float)((1 * w + 2) * c + 1) }));
    }
}
