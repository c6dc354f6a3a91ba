using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.OpTests;
using NUnit.Framework;
using Fill = ConvEngine.Tests.Augment.AugmentReference.Fill;

namespace ConvEngine.Tests.Augment;

/// <summary>A projective-transform problem: odd sizes, one transform row per image.</summary>
public sealed record TransformCase(string Name, int N, int H, int W, int C, FillMode Fill, InterpolationMode Interpolation, float FillValue,
    int OutH, int OutW, float[] Rows)
{
    public bool SmallEnoughForIlgpu => N * OutH * OutW * C <= 1200;
    public override string ToString() => $"{Name} n{N} {H}x{W}x{C}→{OutH}x{OutW} {Fill.ToString().ToLowerInvariant()} {Interpolation.ToString().ToLowerInvariant()}";
}

/// <summary>A resize problem: the whole image or a window of it.</summary>
public sealed record ResizeCase(int N, int H, int W, int C, int OutH, int OutW, InterpolationMode Interpolation, int Top = 0, int Left = 0, int? CropH = null, int? CropW = null)
{
    public bool SmallEnoughForIlgpu => N * OutH * OutW * C <= 1500;
    public override string ToString() => $"n{N} {H}x{W}x{C}→{OutH}x{OutW} {Interpolation.ToString().ToLowerInvariant()}" +
        (CropH is null ? "" : $" window {CropH}x{CropW}@({Top},{Left})");
}

/// <summary>
/// The augmentation kernels on every backend configuration (cpu at each SIMD level with the simd and reference
/// variants, ilgpu-cpu) against <see cref="AugmentReference"/>: every fill mode and interpolation on odd sizes, rows
/// wide enough for the 8-lane path and its tail, sources many periods outside the image.
/// </summary>
public class AugmentKernelTests
{
    private static float[] RotationRow(double theta, int h, int w)
    {
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, cos = Math.Cos(theta), sin = Math.Sin(theta);
        return [(float)cos, (float)-sin, (float)(cx - cos * cx + sin * cy), (float)sin, (float)cos, (float)(cy - sin * cx - cos * cy), 0, 0];
    }

    private static IEnumerable<TransformCase> TransformCases()
    {
        foreach (var fill in Enum.GetValues<FillMode>())
        foreach (var interpolation in Enum.GetValues<InterpolationMode>())
        {
            float fillValue = fill == FillMode.Constant ? 0.375f : -2f;
            // Two images: a rotation by 50° and a shift of 1.6 widths right, 0.7 heights up (sources several periods out).
            yield return new TransformCase("rotate+shift", 2, 7, 9, 3, fill, interpolation, fillValue, 7, 9,
                [.. RotationRow(50 * Math.PI / 180, 7, 9), 1, 0, -1.6f * 9, 0, 1, 0.7f * 7, 0, 0]);
            // One channel, 19 wide: two 8-lane blocks and a tail; a zoom out by 1.73 and an anisotropic zoom in
            // (factors that put no source point on a nearest-neighbour half).
            yield return new TransformCase("zoom", 2, 5, 19, 1, fill, interpolation, fillValue, 5, 19,
                [1.73f, 0, 9 * (1 - 1.73f), 0, 1.73f, 2 * (1 - 1.73f), 0, 0, 0.6f, 0, 9 * 0.4f, 0, 0.45f, 2 * 0.55f, 0, 0]);
            // A true projective row (k varies over the image) and a smaller output than input.
            yield return new TransformCase("projective", 1, 6, 11, 2, fill, interpolation, fillValue, 4, 13,
                [0.9f, 0.2f, -1.5f, -0.15f, 1.1f, 0.5f, 0.03f, -0.04f]);
        }
    }

    private static IEnumerable<TestCaseData> TransformData() => BackendCases.Cross("augment", TransformCases(), c => c.SmallEnoughForIlgpu);

    [TestCaseSource(nameof(TransformData))]
    public void ImageTransform_MatchesDoubleReference(BackendCase backendCase, TransformCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.N * c.H * c.W * c.C, 0, 1);
        var expected = AugmentReference.Transform(x, c.N, c.H, c.W, c.C, c.OutH, c.OutW,
            (b, ox, oy) => AugmentReference.Project(Array.ConvertAll(c.Rows[(8 * b)..(8 * b + 8)], v => (double)v), ox, oy),
            (Fill)(int)c.Fill, c.Interpolation == InterpolationMode.Nearest, c.FillValue);

        using var input = Tensor.FromArray(backend, x, c.N, c.H, c.W, c.C);
        using var y = Ops.ImageTransform(input, c.Rows, c.Fill, c.Interpolation, c.FillValue, (c.OutH, c.OutW));

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { c.N, c.OutH, c.OutW, c.C }));
        AugmentReference.AssertMatches(expected, y.ToArray(), 1e-4, $"ImageTransform {c} on {backendCase}");
    }

    /// <summary>keras-semantics.md B: reflect is d c b a | a b c d | d c b a, so a shift by one pixel left mirrors the first column.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "augment" })]
    public void Reflect_ShiftRightByTwo_MirrorsTheEdgePixels(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var input = Tensor.FromArray(backend, [1, 2, 3, 4], 1, 1, 4, 1);   // a b c d
        // Output x reads input x − 2: columns −2, −1 reflect to b, a.
        using var y = Ops.ImageTransform(input, [1, 0, -2, 0, 1, 0, 0, 0], FillMode.Reflect, InterpolationMode.Nearest);
        Assert.That(y.ToArray(), Is.EqualTo(new float[] { 2, 1, 1, 2 }));
        using var wrapped = Ops.ImageTransform(input, [1, 0, -2, 0, 1, 0, 0, 0], FillMode.Wrap, InterpolationMode.Nearest);
        Assert.That(wrapped.ToArray(), Is.EqualTo(new float[] { 3, 4, 1, 2 }), "wrap: a b c d | a b c d");
        using var constant = Ops.ImageTransform(input, [1, 0, -2, 0, 1, 0, 0, 0], FillMode.Constant, InterpolationMode.Nearest, fillValue: 9);
        Assert.That(constant.ToArray(), Is.EqualTo(new float[] { 9, 9, 1, 2 }), "constant: k k | a b");
        using var nearest = Ops.ImageTransform(input, [1, 0, -2, 0, 1, 0, 0, 0], FillMode.Nearest, InterpolationMode.Nearest);
        Assert.That(nearest.ToArray(), Is.EqualTo(new float[] { 1, 1, 1, 2 }), "nearest: a a | a b");
    }

    /// <summary>keras-semantics.md B: bilinear reads neighbours outside the image as fill_value (half a pixel right of the last one: half fill).</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "augment" })]
    public void Bilinear_ReadsOutOfRangeNeighboursAsFillValue(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        using var input = Tensor.FromArray(backend, [10, 20, 30, 40], 1, 2, 2, 1);
        // Sources (0.5, 0.5), (1.5, 0.5) …: the constant fill counts the whole point outside; nearest clamps it inside.
        using var y = Ops.ImageTransform(input, [1, 0, 0.5f, 0, 1, 0.5f, 0, 0], FillMode.Constant, InterpolationMode.Bilinear, fillValue: 100);
        Assert.That(y.ToArray(), Is.EqualTo(new float[] { 25, 100, 100, 100 }));
        using var z = Ops.ImageTransform(input, [1, 0, 0.5f, 0, 1, 0, 0, 0], FillMode.Nearest, InterpolationMode.Bilinear, fillValue: 100);
        // Row 0: (0.5, 0) blends 10 and 20; (1.5, 0) clamps to x = 1 → 20. Row 1: y = 1, x as row 0 → 35, 40.
        Assert.That(z.ToArray(), Is.EqualTo(new float[] { 15, 20, 35, 40 }));
    }

    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "augment" })]
    public void Flip_MovesEveryValueToItsMirror(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        int n = 4, h = 3, w = 19, c = 1;
        foreach (int channels in new[] { 1, 3 })
        {
            c = channels;
            var x = TestData.Uniform(new Random(7 + c), n * h * w * c);
            bool[] horizontal = [false, true, false, true], vertical = [false, false, true, true];
            using var input = Tensor.FromArray(backend, x, n, h, w, c);
            using var y = Ops.Flip(input, horizontal, vertical);
            var got = y.ToArray();
            for (int b = 0; b < n; b++)
            for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            for (int k = 0; k < c; k++)
            {
                int si = vertical[b] ? h - 1 - i : i, sj = horizontal[b] ? w - 1 - j : j;
                Assert.That(got[((b * h + i) * w + j) * c + k], Is.EqualTo(x[((b * h + si) * w + sj) * c + k]), $"{backendCase} c{c} image {b} ({i},{j},{k})");
            }
        }
    }

    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "augment" })]
    public void AdjustContrast_MatchesDoubleReference(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        foreach (var (n, h, w, c, perImage) in new[] { (3, 5, 7, 3, false), (2, 9, 9, 1, true), (2, 4, 70, 2, true) })
        {
            var x = TestData.Uniform(new Random(n * 100 + c), n * h * w * c, 0, 255);
            float[] factors = perImage ? [.. Enumerable.Range(0, n).Select(b => 0.4f + 0.5f * b)] : [1.7f];
            var expected = AugmentReference.Contrast(x, n, h * w, c, b => factors[perImage ? b : 0], 0, 255);
            using var input = Tensor.FromArray(backend, x, n, h, w, c);
            using var y = Ops.AdjustContrast(input, factors, 0, 255);
            Approx.AssertWithin(expected, TestData.Widen(y.ToArray()), 2e-3, 1e-5, $"AdjustContrast n{n} {h}x{w}x{c} per-image {perImage} on {backendCase}");
        }
    }

    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "augment" })]
    public void AdjustBrightness_AddsThenClips(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(new Random(3), 2 * 3 * 5 * 3, 0, 1);
        float[] deltas = [0.25f, -0.5f];
        using var input = Tensor.FromArray(backend, x, 2, 3, 5, 3);
        using var y = Ops.AdjustBrightness(input, deltas, 0, 1);
        var expected = x.Select((v, i) => Math.Clamp(v + (double)deltas[i / 45], 0, 1)).ToArray();
        Approx.AssertWithin(expected, TestData.Widen(y.ToArray()), 1e-7, 1e-7, $"AdjustBrightness on {backendCase}");
    }

    private static IEnumerable<ResizeCase> ResizeCases()
    {
        foreach (var interpolation in Enum.GetValues<InterpolationMode>())
        {
            yield return new ResizeCase(2, 7, 5, 3, 11, 13, interpolation);      // up, odd
            yield return new ResizeCase(1, 13, 17, 2, 5, 7, interpolation);      // down
            yield return new ResizeCase(2, 6, 9, 1, 6, 23, interpolation);       // width only (RandomWidth), a row of 23
            yield return new ResizeCase(1, 9, 11, 3, 4, 4, interpolation, 2, 1, 6, 7);   // a window (smart_resize)
        }
        yield return new ResizeCase(2, 9, 7, 3, 4, 5, InterpolationMode.Bilinear, 3, 1, 4, 5);   // a crop (scale 1)
    }

    private static IEnumerable<TestCaseData> ResizeData() => BackendCases.Cross("augment", ResizeCases(), c => c.SmallEnoughForIlgpu);

    [TestCaseSource(nameof(ResizeData))]
    public void Resize_MatchesHalfPixelDoubleReference(BackendCase backendCase, ResizeCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.N * c.H * c.W * c.C, 0, 1);
        var expected = AugmentReference.Resize(x, c.N, c.H, c.W, c.C, c.OutH, c.OutW, c.Interpolation == InterpolationMode.Nearest, c.Top, c.Left, c.CropH, c.CropW);
        using var input = Tensor.FromArray(backend, x, c.N, c.H, c.W, c.C);
        var g = ResizeGeometry.Window("test", input.Shape, c.OutH, c.OutW, c.Top, c.Left, c.CropH ?? c.H, c.CropW ?? c.W, c.Interpolation);
        using var y = Tensor.Zeros(backend, g.OutputShape);
        backend.Resize(input.Buffer, y.Buffer, g);
        AugmentReference.AssertMatches(expected, y.ToArray(), 1e-5, $"Resize {c} on {backendCase}");
    }

    /// <summary>keras-semantics.md B (RandomCrop at inference, Keras's smart_resize): a 9x12 image to 4x4 reads the centred 9x9 window.</summary>
    [Test]
    public void SmartResize_TakesTheCentredWindowOfTheTargetAspect()
    {
        var g = ResizeGeometry.SmartResize("test", new ConvEngine.Kernels.TensorShape(1, 9, 12, 1), 4, 4, InterpolationMode.Bilinear);
        Assert.That((g.CropTop, g.CropLeft, g.CropHeight, g.CropWidth), Is.EqualTo((0, 1, 9, 9)));
        var tall = ResizeGeometry.SmartResize("test", new ConvEngine.Kernels.TensorShape(1, 20, 10, 1), 5, 10, InterpolationMode.Bilinear);
        Assert.That((tall.CropTop, tall.CropLeft, tall.CropHeight, tall.CropWidth), Is.EqualTo((7, 0, 5, 10)));
    }
}
