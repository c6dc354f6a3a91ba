using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.OpTests;
using NUnit.Framework;
using Fill = ConvEngine.Tests.Augment.AugmentReference.Fill;

namespace ConvEngine.Tests.Augment;

/// <summary>
/// The preprocessing layers in training mode with fixed draws (degenerate ranges such as (0.125, 0.125), or the draws
/// the layer reports for its seed) against <see cref="AugmentReference"/>'s own Keras formulas; identity at inference.
/// </summary>
public class AugmentLayerTests
{
    private static readonly IBackend Cpu = new CpuBackend();
    private const int N = 2, H = 7, W = 9, C = 2;

    private static float[] Images(int seed, int n = N, int h = H, int w = W, int c = C) => TestData.Uniform(new Random(seed), n * h * w * c, 0, 1);

    /// <summary>Runs one layer in training (or inference) mode on host images.</summary>
    private static (float[] Output, int[] Shape) Run(Layer layer, float[] images, int[] batch, bool training = true, ulong seed = 11)
    {
        using var pipeline = new AugmentationPipeline([layer], batch[1..], Cpu);
        return pipeline.Run(images, batch[0], training, seed);
    }

    private static IEnumerable<TestCaseData> SamplingModes()
    {
        foreach (var fill in new[] { "reflect", "wrap", "constant", "nearest" })
        foreach (var interpolation in new[] { "bilinear", "nearest" })
            yield return new TestCaseData(fill, interpolation).SetArgDisplayNames(fill, interpolation);
    }

    /// <summary>keras-semantics.md B: angle = factor·2π, rotation about the centre; (0.125, 0.125) fixes it at π/4.</summary>
    [TestCaseSource(nameof(SamplingModes))]
    public void RandomRotation_FixedDraw_RotatesAboutTheCentre(string fill, string interpolation)
    {
        var x = Images(1);
        var (y, shape) = Run(new RandomRotation((0.125, 0.125), fill, interpolation, fillValue: 0.5), x, [N, H, W, C]);
        var expected = AugmentReference.Transform(x, N, H, W, C, H, W, (_, ox, oy) => AugmentReference.RotatedSource(Math.PI / 4, H, W, ox, oy),
            Enum.Parse<Fill>(fill, true), interpolation == "nearest", 0.5);
        Assert.That(shape, Is.EqualTo(new[] { N, H, W, C }));
        AugmentReference.AssertMatches(expected, y, 1e-4, $"RandomRotation (0.125, 0.125) {fill} {interpolation}");
    }

    /// <summary>keras-semantics.md B: counter-clockwise positive. A quarter turn moves the right-middle pixel to the top-middle.</summary>
    [Test]
    public void RandomRotation_QuarterTurn_IsCounterClockwise()
    {
        var x = new float[5 * 5];
        x[2 * 5 + 4] = 1;   // right-middle
        var (y, _) = Run(new RandomRotation((0.25, 0.25), "constant", "nearest"), x, [1, 5, 5, 1]);
        Assert.That(y[0 * 5 + 2], Is.EqualTo(1f), "top-middle");
        Assert.That(y.Sum(), Is.EqualTo(1f));
    }

    /// <summary>keras-semantics.md B: dy = U·H, dx = U·W, positive moves down and right.</summary>
    [TestCaseSource(nameof(SamplingModes))]
    public void RandomTranslation_FixedDraw_ShiftsByTheFactorTimesTheSize(string fill, string interpolation)
    {
        var x = Images(2);
        var (y, _) = Run(new RandomTranslation((0.2, 0.2), (-0.3, -0.3), fill, interpolation, fillValue: 0.25), x, [N, H, W, C]);
        double dy = 0.2 * H, dx = -0.3 * W;
        var expected = AugmentReference.Transform(x, N, H, W, C, H, W, (_, ox, oy) => (ox - dx, oy - dy),
            Enum.Parse<Fill>(fill, true), interpolation == "nearest", 0.25);
        AugmentReference.AssertMatches(expected, y, 1e-4, $"RandomTranslation {fill} {interpolation}");
    }

    /// <summary>keras-semantics.md B: zoom (1 + U) about the centre; a positive factor zooms out.</summary>
    [TestCaseSource(nameof(SamplingModes))]
    public void RandomZoom_FixedDraw_ScalesAboutTheCentre(string fill, string interpolation)
    {
        var x = Images(3);
        // Zooms that put no source point exactly on a nearest-neighbour half (0.75 about centre 4 would: 2.5, 5.5, …).
        var (y, _) = Run(new RandomZoom((0.37, 0.37), (-0.29, -0.29), fill, interpolation, fillValue: 1), x, [N, H, W, C]);
        double cx = (W - 1) / 2.0, cy = (H - 1) / 2.0;
        var expected = AugmentReference.Transform(x, N, H, W, C, H, W, (_, ox, oy) => (cx + 0.71 * (ox - cx), cy + 1.37 * (oy - cy)),
            Enum.Parse<Fill>(fill, true), interpolation == "nearest", 1);
        AugmentReference.AssertMatches(expected, y, 1e-4, $"RandomZoom {fill} {interpolation}");
    }

    [Test]
    public void RandomZoom_WithoutWidthFactor_KeepsTheAspectRatio()
    {
        var layer = new RandomZoom((-0.5, 0.5));
        for (int i = 0; i < 20; i++)
        {
            var (zx, zy) = layer.DrawZoom(99, i);
            Assert.That(zx, Is.EqualTo(zy));
            Assert.That(zy, Is.InRange(0.5f, 1.5f));
        }
    }

    /// <summary>keras-semantics.md B: RandomBrightness adds factor·(high − low) and clips; (0.1, 0.1) on [0, 255] adds 25.5.</summary>
    [Test]
    public void RandomBrightness_FixedDraw_AddsAndClips()
    {
        var x = TestData.Uniform(new Random(4), N * H * W * C, 0, 255);
        var (y, _) = Run(new RandomBrightness((0.1, 0.1)), x, [N, H, W, C]);
        Approx.AssertWithin(x.Select(v => Math.Clamp(v + 25.5, 0, 255)).ToArray(), TestData.Widen(y), 1e-4, 1e-6, "RandomBrightness");
        var (z, _) = Run(new RandomBrightness((-0.2, -0.2), valueRange: (0, 1)), Images(5), [N, H, W, C]);
        Approx.AssertWithin(Images(5).Select(v => Math.Clamp(v - 0.2, 0, 1)).ToArray(), TestData.Widen(z), 1e-6, 1e-6, "RandomBrightness on [0, 1]");
    }

    /// <summary>keras-semantics.md B: RandomContrast, (x − mean)·f + mean per image and channel, clipped to [0, 255]; f drawn from [1 − l, 1 + u].</summary>
    [TestCase(KerasSemantics.Keras2)]
    [TestCase(KerasSemantics.Keras3)]
    public void RandomContrast_MatchesTheFormulaForItsDraws(KerasSemantics semantics)
    {
        var x = TestData.Uniform(new Random(6), 4 * H * W * C, 0, 255);
        var layer = new RandomContrast(0.5, semantics: semantics);
        var (y, _) = Run(layer, x, [4, H, W, C]);
        ulong seed = layer.LastDrawSeed!.Value;
        var expected = AugmentReference.Contrast(x, 4, H * W, C, b => layer.Draw(seed, b), 0, 255);
        Approx.AssertWithin(expected, TestData.Widen(y), 2e-3, 1e-5, $"RandomContrast {semantics}");
        for (int b = 0; b < 4; b++)
            Assert.That(layer.Draw(seed, b), semantics == KerasSemantics.Keras2 ? Is.InRange(0.5f, 1.5f) : Is.InRange(1f, 1.5f),
                "Keras 2 reads 0.5 as [0.5, 1.5]; Keras 3 reads it as (0, 0.5): [1, 1.5]");
    }

    /// <summary>
    /// Keras 3 clips RandomContrast to its value_range, Keras 2 to [0, 255] whatever the data: images on [0, 1] with a
    /// factors in [1, 3] saturate at 1 in Keras 3 mode with value_range (0, 1), and in Keras 2 only below 0 (its clip is [0, 255]).
    /// </summary>
    [Test]
    public void RandomContrast_ClipsToValueRangeInKeras3_To0And255InKeras2()
    {
        var x = Images(18);
        var keras3 = new RandomContrast((0.0, 2.0), semantics: KerasSemantics.Keras3, valueRange: (0, 1));
        var (y3, _) = Run(keras3, x, [N, H, W, C]);
        var expected3 = AugmentReference.Contrast(x, N, H * W, C, b => keras3.Draw(keras3.LastDrawSeed!.Value, b), 0, 1);
        Approx.AssertWithin(expected3, TestData.Widen(y3), 1e-5, 1e-6, "Keras 3, value_range (0, 1)");
        Assert.That(y3.Max(), Is.LessThanOrEqualTo(1f));
        Assert.That(y3.Min(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(y3.Count(v => v == 1f) + y3.Count(v => v == 0f), Is.GreaterThan(0), "factors up to 3 push some values past the range");
        var keras2 = new RandomContrast((0.0, 2.0));
        var (y2, _) = Run(keras2, x, [N, H, W, C]);
        var expected2 = AugmentReference.Contrast(x, N, H * W, C, b => keras2.Draw(keras2.LastDrawSeed!.Value, b), 0, 255);
        Approx.AssertWithin(expected2, TestData.Widen(y2), 1e-5, 1e-6, "Keras 2 clips to [0, 255] only");
        Assert.That(y2.Max(), Is.GreaterThan(1f), "Keras 2 does not clip at the data's range");
    }

    /// <summary>keras-semantics.md B: one factor per batch in Keras 2 (per image in Keras 3), read back from the outputs alone.</summary>
    [TestCase(KerasSemantics.Keras2, true)]
    [TestCase(KerasSemantics.Keras3, false)]
    public void RandomContrast_OneFactorPerBatchInKeras2_PerImageInKeras3(KerasSemantics semantics, bool shared)
    {
        int n = 8, h = 4, w = 4;
        // Each image: one channel of values in [100, 150], so no clipping; f = (y − mean_y)/(x − mean_x), and mean_y = mean_x.
        var x = TestData.Uniform(new Random(8), n * h * w, 100, 150);
        var (y, _) = Run(new RandomContrast((0.4, 0.4), semantics: semantics), x, [n, h, w, 1]);
        var factors = new double[n];
        for (int b = 0; b < n; b++)
        {
            var xs = x.Skip(b * h * w).Take(h * w).Select(v => (double)v).ToArray();
            var ys = y.Skip(b * h * w).Take(h * w).Select(v => (double)v).ToArray();
            double mx = xs.Average(), my = ys.Average();
            factors[b] = xs.Zip(ys, (a, c) => (a - mx) * (c - my)).Sum() / xs.Sum(a => (a - mx) * (a - mx));
            Assert.That(my, Is.EqualTo(mx).Within(1e-3), "the mean is kept");
            Assert.That(factors[b], Is.InRange(0.6 - 1e-4, 1.4 + 1e-4));
        }
        double spread = factors.Max() - factors.Min();
        if (shared) Assert.That(spread, Is.LessThan(1e-4), "one factor for the batch");
        else Assert.That(spread, Is.GreaterThan(1e-2), "a factor per image");
    }

    /// <summary>keras-semantics.md B: each image flips independently with probability 0.5 per axis.</summary>
    [Test]
    public void RandomFlip_FlipsEachAxisHalfTheTime_Independently()
    {
        int n = 4000;
        var x = new float[n * 2 * 2];
        for (int b = 0; b < n; b++) { x[b * 4] = 1; x[b * 4 + 1] = 2; x[b * 4 + 2] = 3; x[b * 4 + 3] = 4; }   // [[1, 2], [3, 4]]
        var (y, _) = Run(new RandomFlip(), x, [n, 2, 2, 1]);
        int horizontal = 0, vertical = 0, both = 0;
        for (int b = 0; b < n; b++)
        {
            var img = y.AsSpan(b * 4, 4).ToArray();
            bool h = img[0] is 2 or 4, v = img[0] is 3 or 4;
            Assert.That(img, Is.EqualTo(new float[] { 1, 2, 3, 4 }).Or.EqualTo(new float[] { 2, 1, 4, 3 }).Or.EqualTo(new float[] { 3, 4, 1, 2 })
                .Or.EqualTo(new float[] { 4, 3, 2, 1 }), $"image {b} is a flip of the input");
            horizontal += h ? 1 : 0;
            vertical += v ? 1 : 0;
            both += h && v ? 1 : 0;
        }
        // Binomial(4000, 1/2): σ ≈ 31.6; (both) Binomial(4000, 1/4): σ ≈ 27.4. Five σ either side.
        Assert.That(horizontal, Is.InRange(2000 - 158, 2000 + 158));
        Assert.That(vertical, Is.InRange(2000 - 158, 2000 + 158));
        Assert.That(both, Is.InRange(1000 - 137, 1000 + 137), "the axes are drawn independently");
        var (onlyH, _) = Run(new RandomFlip("horizontal"), x, [n, 2, 2, 1]);
        for (int b = 0; b < n; b++) Assert.That(onlyH[b * 4], Is.EqualTo(1f).Or.EqualTo(2f), "horizontal never flips top-bottom");
    }

    /// <summary>Angles fill [−0.2·2π, 0.2·2π] uniformly; offsets [−0.1·W, 0.1·W].</summary>
    [Test]
    public void Draws_CoverTheirRangesUniformly()
    {
        var rotation = new RandomRotation(0.2);
        var angles = Enumerable.Range(0, 20000).Select(i => (double)rotation.DrawAngle(5, i)).ToArray();
        double bound = 0.2 * 2 * Math.PI;
        Assert.That(angles.Min(), Is.GreaterThanOrEqualTo(-bound - 1e-6).And.LessThan(-0.99 * bound));
        Assert.That(angles.Max(), Is.LessThanOrEqualTo(bound + 1e-6).And.GreaterThan(0.99 * bound));
        for (int q = 0; q < 4; q++)
        {
            double lo = -bound + q * bound / 2, hi = lo + bound / 2;
            int count = angles.Count(a => a >= lo && a < hi);
            Assert.That(count, Is.InRange(5000 - 306, 5000 + 306), $"quarter {q}");   // σ ≈ 61
        }
        var translation = new RandomTranslation(0.1, 0.1);
        var shifts = Enumerable.Range(0, 5000).Select(i => translation.DrawShift(9, i, 28, 30)).ToArray();
        Assert.That(shifts.Min(s => s.Dx), Is.InRange(-3f, -2.9f));
        Assert.That(shifts.Max(s => s.Dx), Is.InRange(2.9f, 3f));
        Assert.That(shifts.Min(s => s.Dy), Is.InRange(-2.8f, -2.7f));
        Assert.That(shifts.Average(s => s.Dx), Is.EqualTo(0).Within(0.1));
        double correlation = Correlation(shifts.Select(s => (double)s.Dx).ToArray(), shifts.Select(s => (double)s.Dy).ToArray());
        Assert.That(Math.Abs(correlation), Is.LessThan(0.07), "dx and dy are drawn independently");
    }

    /// <summary>
    /// keras-semantics.md B: RandomBrightness adds U[lower, upper]·(high − low) per image. Read from the outputs alone:
    /// images of a constant 0.5 on [0, 1] with factor 0.3 come back as 0.5 + δ, δ uniform on [−0.3, 0.3], one per image.
    /// </summary>
    [Test]
    public void RandomBrightness_DrawsOneUniformDeltaPerImage()
    {
        int n = 3000, pixels = 2 * 3;
        var x = Enumerable.Repeat(0.5f, n * pixels).ToArray();
        var (y, _) = Run(new RandomBrightness(0.3, (0, 1)), x, [n, 2, 3, 1]);
        var deltas = new double[n];
        for (int b = 0; b < n; b++)
        {
            deltas[b] = y[b * pixels] - 0.5;
            for (int p = 1; p < pixels; p++) Assert.That(y[b * pixels + p], Is.EqualTo(y[b * pixels]), $"image {b}: one delta for the whole image");
        }
        Assert.That(deltas.Min(), Is.InRange(-0.3 - 1e-6, -0.29));
        Assert.That(deltas.Max(), Is.InRange(0.29, 0.3 + 1e-6));
        // Uniform on [−0.3, 0.3]: mean 0 (σ of the mean ≈ 0.0032), variance 0.03; each sixth of the range holds 500 (σ ≈ 20).
        Assert.That(deltas.Average(), Is.EqualTo(0).Within(0.016));
        Assert.That(deltas.Select(d => d * d).Average(), Is.EqualTo(0.03).Within(0.003));
        for (int k = 0; k < 6; k++)
            Assert.That(deltas.Count(d => d >= -0.3 + 0.1 * k && d < -0.2 + 0.1 * k), Is.InRange(400, 600), $"sixth {k}");
    }

    /// <summary>keras-semantics.md B: zoom (1 + U) with U in [lower, upper] per image, height and width drawn independently when both are given.</summary>
    [Test]
    public void RandomZoom_DrawsCoverTheirRanges_Independently()
    {
        var layer = new RandomZoom((-0.3, 0.1), (0.2, 0.4));
        var zooms = Enumerable.Range(0, 5000).Select(i => layer.DrawZoom(21, i)).ToArray();
        Assert.That(zooms.Min(z => z.Zy), Is.InRange(0.7f, 0.71f));
        Assert.That(zooms.Max(z => z.Zy), Is.InRange(1.09f, 1.1f));
        Assert.That(zooms.Min(z => z.Zx), Is.InRange(1.2f, 1.21f));
        Assert.That(zooms.Max(z => z.Zx), Is.InRange(1.39f, 1.4f));
        Assert.That(zooms.Average(z => z.Zy), Is.EqualTo(0.9).Within(0.01), "uniform: the mean is the middle (σ of the mean ≈ 0.0016)");
        double correlation = Correlation(zooms.Select(z => (double)z.Zx).ToArray(), zooms.Select(z => (double)z.Zy).ToArray());
        Assert.That(Math.Abs(correlation), Is.LessThan(0.07), "zx and zy are drawn independently");
    }

    private static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average();
        return a.Zip(b, (u, v) => (u - ma) * (v - mb)).Sum() / Math.Sqrt(a.Sum(u => (u - ma) * (u - ma)) * b.Sum(v => (v - mb) * (v - mb)));
    }

    /// <summary>keras-semantics.md B: RandomWidth resizes (bilinear, half-pixel) to int(f·W), f from [1 + lower, 1 + upper).</summary>
    [Test]
    public void RandomWidthAndHeight_FixedDraw_ResizeTheBatch()
    {
        var x = Images(9);
        var (wide, wideShape) = Run(new RandomWidth((0.5, 0.5)), x, [N, H, W, C]);
        Assert.That(wideShape, Is.EqualTo(new[] { N, H, 13, C }), "int(1.5·9) = 13");
        AugmentReference.AssertMatches(AugmentReference.Resize(x, N, H, W, C, H, 13, false), wide, 1e-5, "RandomWidth");
        var (low, lowShape) = Run(new RandomHeight((-0.5, -0.5), "nearest"), x, [N, H, W, C]);
        Assert.That(lowShape, Is.EqualTo(new[] { N, 3, W, C }), "int(0.5·7) = 3");
        AugmentReference.AssertMatches(AugmentReference.Resize(x, N, H, W, C, 3, W, true), low, 1e-6, "RandomHeight");
        var (same, sameShape) = Run(new RandomWidth(0.15), x, [N, H, W, C], training: false);
        Assert.That(sameShape, Is.EqualTo(new[] { N, H, W, C }));
        Assert.That(same, Is.EqualTo(x), "identity at inference");
    }

    /// <summary>RandomCrop: one window for the batch in training; Keras's smart_resize at inference.</summary>
    [Test]
    public void RandomCrop_OneWindowPerBatchInTraining_SmartResizeAtInference()
    {
        var x = Images(10, 3, 8, 11, 1);
        var layer = new RandomCrop(5, 6);
        var (y, shape) = Run(layer, x, [3, 8, 11, 1]);
        Assert.That(shape, Is.EqualTo(new[] { 3, 5, 6, 1 }));
        var (top, left) = layer.DrawCorner(layer.LastDrawSeed!.Value, 8, 11);
        Assert.That(top, Is.InRange(0, 3));
        Assert.That(left, Is.InRange(0, 5));
        for (int b = 0; b < 3; b++)
        for (int i = 0; i < 5; i++)
        for (int j = 0; j < 6; j++)
            Assert.That(y[(b * 5 + i) * 6 + j], Is.EqualTo(x[(b * 8 + top + i) * 11 + left + j]));
        var (z, _) = Run(new RandomCrop(5, 6), x, [3, 8, 11, 1], training: false);
        // smart_resize to 5x6 of an 8x11 image: crop width int(8·6/5) = 9 at left int(2/2) = 1, full height.
        AugmentReference.AssertMatches(AugmentReference.Resize(x, 3, 8, 11, 1, 5, 6, false, 0, 1, 8, 9), z, 1e-5, "RandomCrop at inference");
        var corners = Enumerable.Range(0, 400).Select(s => new RandomCrop(5, 6).DrawCorner((ulong)s, 8, 11)).ToArray();
        Assert.That(corners.Select(c => c.Top).Distinct().Count(), Is.EqualTo(4), "every top row 0..3 is drawn");
        Assert.That(corners.Select(c => c.Left).Distinct().Count(), Is.EqualTo(6), "every left column 0..5 is drawn");
    }

    [Test]
    public void ResizingAndCenterCrop_ApplyInTrainingAndAtInference()
    {
        var x = Images(12, 2, 9, 12, 3);
        foreach (bool training in new[] { true, false })
        {
            var (resized, _) = Run(new Resizing(5, 7), x, [2, 9, 12, 3], training);
            AugmentReference.AssertMatches(AugmentReference.Resize(x, 2, 9, 12, 3, 5, 7, false), resized, 1e-5, "Resizing");
            var (aspect, _) = Run(new Resizing(4, 4, "nearest", cropToAspectRatio: true), x, [2, 9, 12, 3], training);
            AugmentReference.AssertMatches(AugmentReference.Resize(x, 2, 9, 12, 3, 4, 4, true, 0, 1, 9, 9), aspect, 1e-6, "Resizing crop_to_aspect_ratio");
            var (crop, shape) = Run(new CenterCrop(4, 7), x, [2, 9, 12, 3], training);
            Assert.That(shape, Is.EqualTo(new[] { 2, 4, 7, 3 }));
            AugmentReference.AssertMatches(AugmentReference.Resize(x, 2, 9, 12, 3, 4, 7, true, 2, 2, 4, 7), crop, 0, "CenterCrop at (int(5/2), int(5/2))");
        }
    }

    /// <summary>keras-semantics.md B: all are active only in training; at inference they pass the input through.</summary>
    [Test]
    public void RandomLayers_AreIdentityAtInference()
    {
        var x = Images(13);
        Layer[] layers =
        [
            new RandomFlip(), new RandomContrast(0.5), new RandomBrightness(0.3), new RandomRotation(0.2), new RandomTranslation(0.1, 0.1),
            new RandomZoom(0.2), new RandomWidth(0.15), new RandomHeight(0.15),
        ];
        foreach (var layer in layers)
        {
            var (y, shape) = Run(layer, x, [N, H, W, C], training: false);
            Assert.That(shape, Is.EqualTo(new[] { N, H, W, C }), layer.ClassName);
            Assert.That(y, Is.EqualTo(x), $"{layer.ClassName} at inference");
        }
    }

    /// <summary>A model with augmentation predicts exactly what the same model without it predicts (same seed, same weights).</summary>
    [Test]
    public void ModelWithAugmentation_PredictsAsWithout()
    {
        Sequential Build(bool augment)
        {
            var model = new Sequential(backend: Cpu, seed: 3) { new InputLayer(H, W, C) };
            if (augment)
                foreach (var l in new Layer[] { new RandomFlip("horizontal"), new RandomContrast(0.5), new RandomRotation(0.2) }) model.Add(l);
            model.Add(new Conv2D(4, 3, activation: "relu"));
            model.Add(new Flatten());
            model.Add(new Dense(1, activation: "sigmoid"));
            return model;
        }
        using var with = Build(true);
        using var without = Build(false);
        var x = Images(14, 5);
        Assert.That(with.Predict(x, 5), Is.EqualTo(without.Predict(x, 5)));
    }

    [Test]
    public void SameSeed_SameDraws_OtherSeed_OtherDraws()
    {
        var x = Images(15);
        float[] Augmented(ulong seed, ulong? layerSeed = null)
        {
            using var pipeline = new AugmentationPipeline([new RandomRotation(0.2, seed: layerSeed), new RandomContrast(0.3, seed: layerSeed)], [H, W, C], Cpu);
            return pipeline.Run(x, N, true, seed).Images;
        }
        Assert.That(Augmented(5), Is.EqualTo(Augmented(5)));
        Assert.That(Augmented(5), Is.Not.EqualTo(Augmented(6)));
        Assert.That(Augmented(5, 1), Is.EqualTo(Augmented(5, 1)));
        Assert.That(Augmented(5, 1), Is.Not.EqualTo(Augmented(5, 2)), "the layer's own seed changes its draws");
    }

    /// <summary>ARCHITECTURE.md decision 5: the same draws on cpu and ilgpu-cpu (the draws come from the counter-based generator), pixels to tolerance.</summary>
    [Test]
    public void CpuAndIlgpuCpu_DrawTheSame_AndAgreeOnPixels()
    {
        var ilgpu = BackendCase.IlgpuCpu().Acquire();
        var x = Images(16);
        Layer[] Layers() =>
        [
            new RandomFlip(), new RandomRotation(0.3, "wrap"), new RandomTranslation(0.2, 0.3, "reflect", "nearest"), new RandomZoom(0.3, 0.2, "constant"),
            new RandomContrast(0.5), new RandomBrightness(0.2, (0, 1)), new RandomCrop(5, 6), new RandomWidth(0.4),
        ];
        using var onCpu = new AugmentationPipeline(Layers(), [H, W, C], Cpu);
        using var onIlgpu = new AugmentationPipeline(Layers(), [H, W, C], ilgpu);
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            var (a, shapeA) = onCpu.Run(x, N, true, seed);
            var (b, shapeB) = onIlgpu.Run(x, N, true, seed);
            Assert.That(shapeB, Is.EqualTo(shapeA), "RandomCrop's window and RandomWidth's width are drawn alike");
            for (int i = 0; i < onCpu.Layers.Count; i++)
                Assert.That(((RandomPreprocessingLayer)onIlgpu.Layers[i]).LastDrawSeed, Is.EqualTo(((RandomPreprocessingLayer)onCpu.Layers[i]).LastDrawSeed));
            Approx.AssertClose(a, b, 4, $"seed {seed}: cpu vs ilgpu-cpu");
        }
    }

    /// <summary>
    /// The draws read back from the pixels alone: flips and crops copy values, so equal draws give equal outputs bit for
    /// bit, and a single flag or corner drawn differently on one backend would move whole rows. A quarter turn of an odd
    /// square about its centre pixel with nearest sampling (and clamping at the edges) copies too; a fixed brightness adds one float. Many seeds, so many different draws.
    /// </summary>
    [Test]
    public void CpuAndIlgpuCpu_CopyingLayers_GiveTheSameOutputs_BitForBit()
    {
        var ilgpu = BackendCase.IlgpuCpu().Acquire();
        int n = 6, h = 9, w = 11, c = 3;
        var x = Images(17, n, h, w, c);
        Layer[] Layers() => [new RandomFlip(), new RandomCrop(7, 7), new RandomRotation((0.25, 0.25), "nearest", "nearest"), new RandomBrightness((0.1, 0.1), (0, 1))];
        using var onCpu = new AugmentationPipeline(Layers(), [h, w, c], Cpu);
        using var onIlgpu = new AugmentationPipeline(Layers(), [h, w, c], ilgpu);
        var distinct = new HashSet<string>();
        for (ulong seed = 0; seed < 12; seed++)
        {
            var (a, shape) = onCpu.Run(x, n, true, seed);
            var (b, _) = onIlgpu.Run(x, n, true, seed);
            Assert.That(shape, Is.EqualTo(new[] { n, 7, 7, c }));
            Assert.That(b, Is.EqualTo(a), $"seed {seed}: cpu vs ilgpu-cpu");
            distinct.Add(string.Join(",", a.Take(40)));
        }
        Assert.That(distinct.Count, Is.GreaterThan(6), "the seeds draw different flips and corners");
    }
}
