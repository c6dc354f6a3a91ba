using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// Inverted dropout (keras-semantics.md A: kept units scaled by 1/(1−rate)) drawn from a counter-based hash of
/// (seed, index). The cpu ≡ ilgpu-cpu bit-for-bit check is in <see cref="CrossBackendTests"/>.
/// </summary>
public class DropoutKernelTests
{
    private static IEnumerable<TestCaseData> RateCases() =>
        from b in BackendCases.For("dropout")
        from rate in new[] { 0.1f, 0.25f, 0.5f }
        select new TestCaseData(b, rate).SetArgDisplayNames(b.ToString(), $"rate {rate}");

    private static (float[] Mask, float[] Output) Run(ConvEngine.Kernels.IBackend backend, float[] x, float rate, ulong seed)
    {
        using var input = Device.Put(backend, x);
        using var mask = Device.Garbage(backend, x.Length);
        using var output = Device.Garbage(backend, x.Length);
        backend.Dropout(input.Buffer, mask.Buffer, output.Buffer, x.Length, rate, seed);
        return (mask.ToArray(), output.ToArray());
    }

    /// <summary>Every mask value is 0 or 1/(1−rate), the output is input ⊙ mask, and the kept fraction is 1−rate within 5σ.</summary>
    [TestCaseSource(nameof(RateCases))]
    public void Dropout_MaskIsZeroOrScale_AndKeepsOneMinusRate(BackendCase backendCase, float rate)
    {
        var backend = backendCase.Acquire();
        int length = backendCase.IsSlow ? 2_000 : 20_000;
        var x = TestData.Uniform(new Random(5), length, 0.5f, 1.5f);
        var (mask, output) = Run(backend, x, rate, seed: 1234);

        float scale = 1f / (1f - rate);
        Assert.That(mask, Is.All.EqualTo(0f).Or.EqualTo(scale).Within(1e-6f * scale), "mask values");
        Approx.AssertClose(x.Zip(mask, (a, m) => (double)a * m).ToArray(), output, 1, "output = input ⊙ mask");

        double kept = mask.Count(m => m != 0) / (double)length;
        double sigma = Math.Sqrt(rate * (1 - rate) / length);
        Assert.That(kept, Is.EqualTo(1 - rate).Within(5 * sigma), "kept fraction");
    }

    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "dropout" })]
    public void Dropout_SameSeed_SameMask_OtherSeed_OtherMask(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = Enumerable.Repeat(1f, 1000).ToArray();
        var first = Run(backend, x, 0.5f, seed: 42).Mask;
        var again = Run(backend, x, 0.5f, seed: 42).Mask;
        var other = Run(backend, x, 0.5f, seed: 43).Mask;
        Assert.That(again, Is.EqualTo(first), "same seed");
        // Independent masks at rate 0.5 disagree on about half the cells.
        int differing = first.Zip(other).Count(p => p.First != p.Second);
        Assert.That(differing, Is.InRange(400, 600), "another seed draws another mask");
    }

    /// <summary>Rate 0 keeps everything with scale 1: the output is the input, exactly.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "dropout" })]
    public void Dropout_RateZero_IsIdentity(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(new Random(2), 257);
        var (mask, output) = Run(backend, x, 0f, seed: 9);
        Assert.That(mask, Is.All.EqualTo(1f));
        Assert.That(output, Is.EqualTo(x));
    }
}
