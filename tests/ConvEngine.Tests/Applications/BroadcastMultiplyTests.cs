using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// MultiplyBroadcast (squeeze-and-excite's (N,1,1,C) × (N,H,W,C), and a per-sample scale) on every backend against the
/// numpy-broadcast reference, and its scale gradient against finite differences of it.
/// </summary>
public class BroadcastMultiplyTests
{
    public sealed record Case(int N, int Positions, int Channels, int ScaleChannels)
    {
        public override string ToString() => $"{N}x{Positions}x{Channels} * {ScaleChannels}";
    }

    private static IEnumerable<TestCaseData> Cases() => BackendCases.Cross("multiply-broadcast",
        new[] { new Case(2, 9, 5, 5), new Case(3, 4, 7, 1), new Case(1, 1, 3, 3), new Case(1, 300, 40, 40), new Case(5, 2, 3, 1) },
        c => c.Positions * c.Channels <= 100);

    [TestCaseSource(nameof(Cases))]
    public void Forward_MatchesBroadcastReference(BackendCase backendCase, Case c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, c.N * c.Positions * c.Channels);
        var s = TestData.Uniform(random, c.N * c.ScaleChannels);
        var expected = DoubleReference.MultiplyBroadcast(TestData.Widen(x), TestData.Widen(s), c.N, c.Positions, c.Channels, c.ScaleChannels);
        using var input = Device.Put(backend, x);
        using var scale = Device.Put(backend, s);
        using var output = Device.Garbage(backend, x.Length);
        backend.MultiplyBroadcast(input.Buffer, scale.Buffer, output.Buffer, c.N, c.Positions, c.Channels, c.ScaleChannels);
        Approx.AssertClose(expected, output.ToArray(), 1, $"MultiplyBroadcast {c}");
    }

    [TestCaseSource(nameof(Cases))]
    public void ScaleGradient_MatchesFiniteDifferences(BackendCase backendCase, Case c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var x = TestData.Uniform(random, c.N * c.Positions * c.Channels);
        var s = TestData.Uniform(random, c.N * c.ScaleChannels);
        var upstream = TestData.Uniform(random, x.Length);
        var gradOut = TestData.Widen(upstream);
        var wideX = TestData.Widen(x);
        var expected = FiniteDifference.Gradient(
            v => FiniteDifference.Dot(gradOut, DoubleReference.MultiplyBroadcast(wideX, v, c.N, c.Positions, c.Channels, c.ScaleChannels)), TestData.Widen(s));
        using var input = Device.Put(backend, x);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradScale = Device.Garbage(backend, s.Length);
        backend.MultiplyBroadcastBackward(input.Buffer, gradOutput.Buffer, gradScale.Buffer, c.N, c.Positions, c.Channels, c.ScaleChannels);
        int summed = c.Positions * (c.ScaleChannels == 1 ? c.Channels : 1);
        Approx.AssertClose(expected, gradScale.ToArray(), summed, $"MultiplyBroadcastBackward {c}");
    }
}
