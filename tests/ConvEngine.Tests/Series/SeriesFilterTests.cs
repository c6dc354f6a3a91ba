using ConvEngine.Kernels.Geometry;
using ConvEngine.Series;
using ConvEngine.Tests.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Series;

/// <summary>
/// The course's three kernels on the ramp x = 1, 2, …, 16, against values worked out by hand, in valid, same and causal
/// padding (tf.nn.conv1d: cross-correlation, y[t] = Σ_j w[j]·x[t·s − before + j], zeros outside; keras-semantics A).
/// </summary>
public class SeriesFilterTests
{
    private static readonly float[] Ramp = Enumerable.Range(1, 16).Select(v => (float)v).ToArray();

    private static float[] Filter(string kernel, PaddingMode mode, int stride = 1) =>
        SeriesFilter.Apply(TestBackend.Instance, Ramp, SeriesKernel.Parse(kernel), new Padding(mode), stride).Values;

    // detrend [−1, 1]: y[t] = x[t+1] − x[t] = 1 on a ramp. same (N = 16) pads one zero after: y[15] = −16.
    // causal pads one zero before: y[0] = x[0] − 0 = 1.
    [Test]
    public void Detrend_OnARamp()
    {
        Assert.That(Filter("detrend", PaddingMode.Valid), Is.EqualTo(Enumerable.Repeat(1f, 15)));
        Assert.That(Filter("detrend", PaddingMode.Same), Is.EqualTo(Enumerable.Repeat(1f, 15).Append(-16f)));
        Assert.That(Filter("detrend", PaddingMode.Causal), Is.EqualTo(Enumerable.Repeat(1f, 16)));
    }

    // average [0.2] × 5: the mean of five consecutive values of a ramp is the middle one, t + 3 (valid: 12 values).
    // same pads two zeros each side: (0+0+1+2+3)/5 = 1.2, (0+1+2+3+4)/5 = 2, …, (13+14+15+16+0)/5 = 11.6, (14+15+16)/5 = 9.
    // causal pads four before: 1/5, 3/5, 6/5, 10/5, then x[t] − 2.
    [Test]
    public void Average_OnARamp()
    {
        Assert.That(Filter("average", PaddingMode.Valid), Is.EqualTo(Enumerable.Range(3, 12).Select(v => (float)v)).Within(1e-5f));
        float[] same = [1.2f, 2f, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 11.6f, 9f];
        Assert.That(Filter("average", PaddingMode.Same), Is.EqualTo(same).Within(1e-5f));
        float[] causal = [0.2f, 0.6f, 1.2f, 2f, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
        Assert.That(Filter("average", PaddingMode.Causal), Is.EqualTo(causal).Within(1e-5f));
        // stride 2 keeps every other valid window: 3, 5, …, 13 (ceil(12/2) = 6 values).
        Assert.That(Filter("average", PaddingMode.Valid, stride: 2), Is.EqualTo(new float[] { 3, 5, 7, 9, 11, 13 }).Within(1e-5f));
    }

    // spencer, the course's weights w = [−3, −6, −5, 3, 21, 46, 67, 74, 67, 46, 32, 3, −5, −6, −3]/320: Σw = 331/320 and
    // Σ j·w[j] = 2350/320 (Spencer's symmetric 2240 plus 11 more at j = 10). On x[t+j] = t + j + 1 a valid window gives
    // (t + 1)·331/320 + 2350/320: 8.378125 and 9.4125. same pads 7 each side: y[0] = Σ_{j≥7} w[j]·(j − 6) = 393/320.
    // causal pads 14 before: y[0] = w[14]·x[0] = −3/320.
    [Test]
    public void Spencer_OnARamp()
    {
        Assert.That(Filter("spencer", PaddingMode.Valid), Is.EqualTo(new[] { 8.378125f, 9.4125f }).Within(1e-5f));
        var same = Filter("spencer", PaddingMode.Same);
        Assert.That(same, Has.Length.EqualTo(16));
        Assert.That(same[0], Is.EqualTo(393 / 320f).Within(1e-5f));
        var causal = Filter("spencer", PaddingMode.Causal);
        Assert.That(causal, Has.Length.EqualTo(16));
        Assert.That(causal[0], Is.EqualTo(-3 / 320f).Within(1e-6f));
        Assert.That(causal[15], Is.EqualTo(Filter("spencer", PaddingMode.Valid)[1]).Within(1e-5f), "the last causal window is the last valid one");
    }

    // Each value is plotted at the last input its window reads: valid t + k − 1, causal t, same t + k − 1 − before.
    [Test]
    public void EndsAt_IsTheLastInputEachWindowReads()
    {
        var kernel = SeriesKernel.Parse("average");
        Assert.That(SeriesFilter.Apply(TestBackend.Instance, Ramp, kernel, Padding.Valid).EndsAt, Is.EqualTo(Enumerable.Range(4, 12)));
        Assert.That(SeriesFilter.Apply(TestBackend.Instance, Ramp, kernel, Padding.Causal).EndsAt, Is.EqualTo(Enumerable.Range(0, 16)));
        Assert.That(SeriesFilter.Apply(TestBackend.Instance, Ramp, kernel, Padding.Same).EndsAt, Is.EqualTo(Enumerable.Range(2, 14).Concat([15, 15])));
    }

    [Test]
    public void SeriesShorterThanTheKernel_InValidMode_IsAnErrorGivingBothLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => SeriesFilter.Apply(TestBackend.Instance, [1f, 2f, 3f], SeriesKernel.Parse("average"), Padding.Valid));
        Assert.That(e!.Message, Does.Contain("3 values").And.Contain("5 of kernel 'average'"));
        Assert.That(SeriesFilter.Apply(TestBackend.Instance, [1f, 2f, 3f], SeriesKernel.Parse("average"), Padding.Same).Values, Has.Length.EqualTo(3));
    }

    [TestCase("-1 1", new float[] { -1, 1 })]
    [TestCase("0.25, 0.5, 0.25", new float[] { 0.25f, 0.5f, 0.25f })]
    [TestCase("SPENCER15", null)]
    public void Parse_ReadsNamesAndNumbers(string text, float[]? weights)
    {
        var kernel = SeriesKernel.Parse(text);
        if (weights is not null) Assert.That(kernel.Weights, Is.EqualTo(weights));
        else Assert.That(kernel.Weights.Sum(), Is.EqualTo(1f).Within(1e-6f), "Spencer's own 15-point weights sum to 1");
    }

    [TestCase("smooth", "Unknown kernel 'smooth'")]
    [TestCase("1 x 2", "'x' (value 2)")]
    [TestCase("  ", "empty")]
    public void Parse_RefusesWhatIsNotAKernel_NamingTheValue(string text, string message) =>
        Assert.That(Assert.Throws<ArgumentException>(() => SeriesKernel.Parse(text))!.Message, Does.Contain(message));
}
