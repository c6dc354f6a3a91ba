using ConvEngine.Data.Series;
using NUnit.Framework;

namespace ConvEngine.Tests.Series;

public class SeriesWindowsTests
{
    // Windows of 3 before each next step t ∈ [3, 6): labels say whether x[t] > x[t − 1].
    [Test]
    public void NextStepRises_LabelsEachWindowByTheStepAfterIt()
    {
        float[] x = [1, 2, 3, 2, 5, 5];
        var set = SeriesWindows.NextStepRises(x, 3, 0, x.Length);
        Assert.That(set.Count, Is.EqualTo(3));
        Assert.That(set.Labels, Is.EqualTo(new[] { 0, 1, 0 }), "3→2 falls, 2→5 rises, 5→5 is flat");
        // The first window [1, 2, 3] standardised: mean 2, population std √(2/3).
        double s = Math.Sqrt(2.0 / 3);
        Assert.That(set.Samples.Take(3).Select(v => (double)v), Is.EqualTo(new[] { -1 / s, 0, 1 / s }).Within(1e-5));
        Assert.That(set.MajorityShare, Is.EqualTo(2 / 3.0));
    }

    [Test]
    public void Split_KeepsEveryTrainingTargetBeforeEveryValidationTarget()
    {
        var x = Enumerable.Range(0, 100).Select(i => MathF.Sin(i * 0.3f)).ToArray();
        var (training, validation) = SeriesWindows.Split(x, 10, 0.8);
        Assert.That(training.Count, Is.EqualTo(80 - 10), "targets 10…79");
        Assert.That(validation.Count, Is.EqualTo(20), "targets 80…99");
        Assert.Throws<ArgumentException>(() => SeriesWindows.Split(x.AsSpan(0, 12), 10, 0.8));
    }
}
