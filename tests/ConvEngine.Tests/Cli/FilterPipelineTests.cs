using ConvEngine.Cli.Commands;
using ConvEngine.Data.Images;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using NUnit.Framework;
using static ConvEngine.Tests.Cli.FilterReference;

namespace ConvEngine.Tests.Cli;

public class FilterPipelineTests
{
    private CpuBackend _cpu = null!;

    [SetUp] public void SetUp() => _cpu = new CpuBackend(threads: 1);
    [TearDown] public void TearDown() => _cpu.Dispose();

    private static ImageData RandomGrey(int height, int width, int seed)
    {
        var random = new Random(seed);
        return new ImageData(height, width, 1, Enumerable.Range(0, height * width).Select(_ => (float)random.Next(256)).ToArray());
    }

    private static double[,] UnitGrid(ImageData image)
    {
        var grid = ToGrid(image.Pixels, image.Height, image.Width);
        for (int i = 0; i < image.Height; i++)
            for (int j = 0; j < image.Width; j++)
                grid[i, j] /= 255.0;
        return grid;
    }

    private static void AssertClose(FilterStage actual, double[,] expected, double tolerance = 1e-5)
    {
        Assert.That((actual.Height, actual.Width), Is.EqualTo((expected.GetLength(0), expected.GetLength(1))), $"{actual.Name} shape");
        Assert.That(ToGrid(actual.Values, actual.Height, actual.Width), Is.EqualTo(expected).Within(tolerance), actual.Name);
    }

    // tf.image.convert_image_dtype(uint8 → float32) divides by 255.
    [Test]
    public void ImageStage_IsTheGreyscaleScaledToUnitRange()
    {
        var image = RandomGrey(4, 5, seed: 1);
        var stages = FilterPipeline.Run(_cpu, image, FilterKernel.Parse("edge"), new FilterOptions());
        AssertClose(stages.Image, UnitGrid(image), 1e-7);
    }

    // keras-semantics.md A: convolution is cross-correlation (no flip), SAME keeps the size at stride 1.
    [TestCase("edge")]
    [TestCase("emboss")]
    [TestCase("sharpen")]
    [TestCase("blur")]
    public void Filtered_SameStride1_EqualsDoubleCorrelation(string name)
    {
        var image = RandomGrey(7, 9, seed: 2);
        var kernel = FilterKernel.Parse(name);
        var stages = FilterPipeline.Run(_cpu, image, kernel, new FilterOptions());
        AssertClose(stages.Filtered, Correlate(UnitGrid(image), Square(kernel.Values), stride: 1, same: true));
    }

    // keras-semantics.md A: valid → ceil((n − k + 1)/s); SAME at stride 2 → ceil(n/s) with TF's split.
    [TestCase(2, false)]
    [TestCase(2, true)]
    [TestCase(3, true)]
    public void Filtered_StridedAndPadded_EqualsDoubleCorrelation(int stride, bool same)
    {
        var image = RandomGrey(8, 11, seed: 3);
        var kernel = FilterKernel.Parse("0.5 -1 2; 0 1 -0.25; 3 -2 1");
        var options = new FilterOptions(stride, same ? Padding.Same : Padding.Valid);
        var stages = FilterPipeline.Run(_cpu, image, kernel, options);
        AssertClose(stages.Filtered, Correlate(UnitGrid(image), Square(kernel.Values), stride, same));
    }

    // SAME with an even kernel: pad_needed = 1, before = 0, after = 1 (kernel_shape_util.cc), so the
    // kernel "0 0; 0 1" reads the pixel one down and one right: the map shifts up-left and the
    // last row and column read the zero pad.
    [Test]
    public void EvenKernel_Same_PutsThePadBottomRight()
    {
        var image = RandomGrey(3, 4, seed: 4);
        var stages = FilterPipeline.Run(_cpu, image, FilterKernel.Parse("0 0; 0 1"), new FilterOptions());
        var unit = UnitGrid(image);
        var expected = new double[3, 4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                expected[i, j] = unit[i + 1, j + 1];
        AssertClose(stages.Filtered, expected, 1e-7);
    }

    // Hand-worked: rows 0–2 black, rows 3–6 white (1.0). bottom_sobel = [[-1,-2,-1],[0,0,0],[1,2,1]]:
    // at rows 2 and 3 the bottom row of the window is white and the top black: 1+2+1 = 4; rows 0, 1, 4, 5
    // see no change: 0; row 6 reads the zero pad below and white above: −4, which ReLU removes.
    [Test]
    public void BottomSobel_OnHorizontalStep_FindsTheEdge()
    {
        const int h = 7, w = 6;
        var pixels = Enumerable.Range(0, h * w).Select(i => i / w >= 3 ? 255f : 0f).ToArray();
        var stages = FilterPipeline.Run(_cpu, new ImageData(h, w, 1, pixels), FilterKernel.Parse("bottom_sobel"), new FilterOptions());
        double[] expectedRow = [0, 0, 4, 4, 0, 0, -4];
        for (int row = 0; row < h; row++)
            for (int col = 1; col < w - 1; col++)
            {
                Assert.That(stages.Filtered.Values[row * w + col], Is.EqualTo(expectedRow[row]).Within(1e-6), $"filtered ({row}, {col})");
                Assert.That(stages.Detected.Values[row * w + col], Is.EqualTo(Math.Max(0, expectedRow[row])).Within(1e-6), $"detected ({row}, {col})");
            }
    }

    [Test]
    public void Detected_IsReluOfFiltered()
    {
        var stages = FilterPipeline.Run(_cpu, RandomGrey(6, 6, seed: 5), FilterKernel.Parse("edge"), new FilterOptions());
        var filtered = ToGrid(stages.Filtered.Values, 6, 6);
        Assert.That(stages.Filtered.Values.Min(), Is.LessThan(0), "the test needs negative responses");
        AssertClose(stages.Detected, Relu(filtered), 0);
    }

    // The course's condense step: tf.nn.pool(MAX, window 2, strides 2, padding SAME); odd sizes round up.
    [TestCase(2)]
    [TestCase(3)]
    public void Condensed_IsSameMaxPoolOfDetected(int pool)
    {
        var stages = FilterPipeline.Run(_cpu, RandomGrey(9, 7, seed: 6), FilterKernel.Parse("emboss"), new FilterOptions(Pool: pool));
        var detected = ToGrid(stages.Detected.Values, 9, 7);
        AssertClose(stages.Condensed.Single(), MaxPoolSame(detected, pool), 0);
    }

    // Each condense step maps n to ceil(n/2): 13×9 → 7×5 → 4×3 → 2×2.
    [Test]
    public void Repeat3_CondensesThreeTimes_HalvingWithCeil()
    {
        var stages = FilterPipeline.Run(_cpu, RandomGrey(13, 9, seed: 7), FilterKernel.Parse("sharpen"), new FilterOptions(Repeat: 3));
        Assert.That(stages.Condensed.Select(c => (c.Name, c.Height, c.Width)),
            Is.EqualTo(new[] { ("condensed", 7, 5), ("condensed_2", 4, 3), ("condensed_3", 2, 2) }));
        var expected = ToGrid(stages.Detected.Values, 13, 9);
        foreach (var condensed in stages.Condensed)
        {
            expected = MaxPoolSame(expected, 2);
            AssertClose(condensed, expected, 0);
        }
    }

    // The same kernels through ILGPU's CPU accelerator (the code path of cuda and opencl) give the same maps.
    [Test]
    public void Stages_OnIlgpuCpu_MatchTheCpuBackend()
    {
        var image = RandomGrey(9, 10, seed: 9);
        var kernel = FilterKernel.Parse("emboss");
        var options = new FilterOptions(Stride: 2, Repeat: 2);
        var onCpu = FilterPipeline.Run(_cpu, image, kernel, options);
        using var ilgpu = ConvEngine.Kernels.Backends.Create("ilgpu-cpu");
        var onIlgpu = FilterPipeline.Run(ilgpu, image, kernel, options);
        foreach (var (a, b) in onCpu.All.Zip(onIlgpu.All))
            AssertClose(b, ToGrid(a.Values, a.Height, a.Width));
    }

    [Test]
    public void KernelLargerThanImage_WithValidPadding_IsANamedShapeError()
    {
        var e = Assert.Throws<ShapeException>(() =>
            FilterPipeline.Run(_cpu, RandomGrey(2, 2, seed: 8), FilterKernel.Parse("edge"), new FilterOptions(Padding: Padding.Valid)));
        Assert.That(e!.Message, Does.Contain("Conv2D").And.Contain("(1, 2, 2, 1)"));
    }
}
