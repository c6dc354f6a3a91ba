using ConvEngine.Cli.Commands;
using ConvEngine.Data.Images;
using ConvEngine.Visualization;
using NUnit.Framework;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Spectre.Console;
using Spectre.Console.Cli;
using static ConvEngine.Tests.Cli.FilterReference;

namespace ConvEngine.Tests.Cli;

/// <summary>`convengine filter` run in-process through Spectre's CommandApp, on small PNGs the tests write.</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class FilterCommandTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = Directory.CreateTempSubdirectory("convengine-filter-tests-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static CliHarness.Result Run(params string[] args) => CliHarness.Run<FilterCommand>(args);

    /// <summary>A horizontal step with some texture: rows below the middle are bright.</summary>
    private string WriteStepPng(int height, int width, string name = "step.png")
    {
        var pixels = new float[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                pixels[y * width + x] = (y >= height / 2 ? 200 : 30) + (x * 7 + y * 3) % 11;
        string path = Path.Combine(_dir, name);
        ImageIO.SavePng(path, pixels, height, width, 1);
        return path;
    }

    private static byte[,] ReadGrey(string path)
    {
        using var image = Image.Load<L8>(path);
        var bytes = new byte[image.Height, image.Width];
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                bytes[y, x] = image[x, y].PackedValue;
        return bytes;
    }

    private static (int Height, int Width) SizeOf(string path)
    {
        var info = Image.Identify(path);
        return (info.Height, info.Width);
    }

    [Test]
    public void Run_WritesTheKernelAndEveryStageAsPng_AndPrintsTheShapes()
    {
        string input = WriteStepPng(9, 12);
        string outDir = Path.Combine(_dir, "out");
        var result = Run(input, "--kernel", "bottom_sobel", "--out", outDir);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(SizeOf(Path.Combine(outDir, "image.png")), Is.EqualTo((9, 12)));
        Assert.That(SizeOf(Path.Combine(outDir, "filtered.png")), Is.EqualTo((9, 12)));
        Assert.That(SizeOf(Path.Combine(outDir, "detected.png")), Is.EqualTo((9, 12)));
        Assert.That(SizeOf(Path.Combine(outDir, "condensed.png")), Is.EqualTo((5, 6)));
        Assert.That(File.Exists(Path.Combine(outDir, "kernel.png")));
        Assert.That(Directory.GetFiles(outDir, "*.tmp*"), Is.Empty, "atomic writes leave no temp files");
        Assert.That(result.Out, Does.Contain("(1, 9, 12, 1)").And.Contain("(1, 5, 6, 1)").And.Contain("min–max normalised"));
    }

    // The course shows maps with plt.imshow, which scales min..max to the colour range; the file must
    // equal that scaling of an independent double-precision correlation.
    [TestCase("bottom_sobel", "filtered")]
    [TestCase("edge", "detected")]
    public void FeatureMapPng_IsMinMaxNormalisedReferenceMap(string kernelName, string stage)
    {
        string input = WriteStepPng(8, 10);
        string outDir = Path.Combine(_dir, "out");
        Assert.That(Run(input, "--kernel", kernelName, "--out", outDir).ExitCode, Is.EqualTo(0));

        var unit = ToGrid(ImageIO.Load(input, ColorMode.Grayscale).Pixels, 8, 10);
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 10; j++)
                unit[i, j] /= 255.0;
        var map = Correlate(unit, Square(FilterKernel.Parse(kernelName).Values), stride: 1, same: true);
        if (stage == "detected") map = Relu(map);
        var expected = ToDisplayBytes(map);

        var actual = ReadGrey(Path.Combine(outDir, stage + ".png"));
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 10; j++)
                Assert.That((int)actual[i, j], Is.EqualTo(expected[i, j]).Within(1), $"{stage} ({i}, {j})");
    }

    [Test]
    public void Repeat3_WritesThreeCondensedImages_OfHalvingSizes()
    {
        string input = WriteStepPng(13, 9);
        string outDir = Path.Combine(_dir, "out");
        Assert.That(Run(input, "--kernel", "edge", "--repeat", "3", "--out", outDir).ExitCode, Is.EqualTo(0));
        Assert.That(new[] { "condensed.png", "condensed_2.png", "condensed_3.png" }.Select(f => SizeOf(Path.Combine(outDir, f))),
            Is.EqualTo(new[] { (7, 5), (4, 3), (2, 2) }));
        Assert.That(File.Exists(Path.Combine(outDir, "condensed_4.png")), Is.False);
    }

    [Test]
    public void CustomKernel_StrideAndValidPadding_SetTheFilteredShape()
    {
        string input = WriteStepPng(10, 11);
        string outDir = Path.Combine(_dir, "out");
        var result = Run(input, "--kernel", "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1", "--stride", "2", "--padding", "valid", "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        // valid: ceil((n − k + 1)/s) = ceil(7/2) = 4 rows, ceil(8/2) = 4 columns.
        Assert.That(SizeOf(Path.Combine(outDir, "filtered.png")), Is.EqualTo((4, 4)));
    }

    // Spectre reads "-1 …" after --kernel as the single number −1; the command must see the whole kernel.
    [TestCase("--kernel")]
    [TestCase("-k")]
    public void CustomKernel_StartingWithMinus_IsReadWhole(string flag)
    {
        string outDir = Path.Combine(_dir, "out");
        var result = Run(WriteStepPng(6, 6), flag, "-1 -2 -1; 0 0 0; 1 2 1", "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("custom (3x3)").And.Contain("(3, 3, 1, 1)"));
    }

    [Test]
    public void Help_RendersEveryOption()
    {
        var result = Run("--help");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Out);
        Assert.That(result.Out, Does.Contain("--max-pixels").And.Contain("min–max normalised").And.Not.Contain("Error"));
    }

    [Test]
    public void CorruptImage_ExitsWith1_NamingTheFile_WithoutStackTrace()
    {
        string path = Path.Combine(_dir, "corrupt.png");
        File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 1, 2, 3, 4, 5]);
        var result = Run(path, "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(path));
        Assert.That(result.Error, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(Directory.Exists(Path.Combine(_dir, "out")), Is.False, "nothing written for a bad input");
    }

    [Test]
    public void MissingImage_ExitsWith1_NamingTheFile()
    {
        string path = Path.Combine(_dir, "absent.png");
        var result = Run(path, "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(path).And.Contain("does not exist"));
    }

    [Test]
    public void ImageOverPixelLimit_ExitsWith1_NamingTheFileAndTheLimit()
    {
        string input = WriteStepPng(5, 6);
        var result = Run(input, "--max-pixels", "29", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(input).And.Contain("30 pixels").And.Contain("limit of 29"));
    }

    [Test]
    public void UnknownBackend_ExitsWith1_WithTheRegistryMessage()
    {
        var result = Run(WriteStepPng(4, 4), "--backend", "tpu", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("Unknown backend 'tpu'"));
    }

    [Test]
    public void BadCustomKernel_ExitsWith1_SayingWhy()
    {
        var result = Run(WriteStepPng(4, 4), "--kernel", "1 2 3 4 5", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("5 numbers"));
    }

    [Test]
    public void MinMaxTo255_MapsMinToZeroAndMaxTo255()
    {
        // (v − (−1)) / 4 · 255: −1 → 0, 0 → 63.75, 3 → 255.
        Assert.That(TileColors.MinMaxTo255([-1f, 0f, 3f]), Is.EqualTo(new[] { 0f, 63.75f, 255f }));
    }

    // matplotlib's Normalize maps everything to 0 when vmin = vmax.
    [Test]
    public void MinMaxTo255_ConstantMap_IsBlack() =>
        Assert.That(TileColors.MinMaxTo255([0.5f, 0.5f]), Is.EqualTo(new[] { 0f, 0f }));

    // Headless rendering through ScottPlot/SkiaSharp: row 0 of bottom_sobel (−1 −2 −1) sits at the top and
    // is darker than row 2 (1 2 1) under the Blues colour map, and the numbers are drawn in the cells.
    [Test]
    public void KernelHeatmap_PutsRowZeroAtTheTop_AndWritesTheNumbers()
    {
        using var image = Image.Load<Rgb24>(KernelHeatmap.RenderPng(FilterKernel.Parse("bottom_sobel").Values, 3));
        Assert.That(image.Width, Is.EqualTo(image.Height));
        int cell = image.Width / 3;
        static double Luma(Rgb24 p) => 0.299 * p.R + 0.587 * p.G + 0.114 * p.B;
        // Sample near a cell's corner, away from its centred label.
        double topMiddle = Luma(image[cell + 4, 4]), bottomMiddle = Luma(image[cell + 4, 2 * cell + 4]);
        Assert.That(topMiddle, Is.LessThan(bottomMiddle), "−2 (top) is darker than 2 (bottom)");

        // A constant kernel: every cell has the background colour of its corner, so contrasting
        // pixels in the middle of each cell can only be the label's ink.
        using var constant = Image.Load<Rgb24>(KernelHeatmap.RenderPng(FilterKernel.Parse("1 1 1 1").Values, 2));
        int half = constant.Width / 2;
        double background = Luma(constant[2, 2]);
        foreach (var (cx, cy) in new[] { (0, 0), (half, 0), (0, half), (half, half) })
        {
            int ink = 0;
            for (int y = cy + half / 4; y < cy + 3 * half / 4; y++)
                for (int x = cx + half / 4; x < cx + 3 * half / 4; x++)
                    if (Math.Abs(Luma(constant[x, y]) - background) > 60) ink++;
            Assert.That(ink, Is.GreaterThan(20), $"the weight is written in the cell at ({cx}, {cy})");
        }
    }

    [TestCase(1f, "1")]
    [TestCase(-2f, "-2")]
    [TestCase(0.0625f, "0.0625")]
    [TestCase(1f / 9, "0.1111")]
    public void KernelHeatmap_Labels_KeepFourSignificantDigits(float value, string label) =>
        Assert.That(KernelHeatmap.Label(value), Is.EqualTo(label));

    // --color-mode rgb runs the kernel on each channel on its own: each channel of filtered equals the greyscale pipeline
    // on that channel alone (a depthwise convolution), and the PNGs keep 3 channels.
    [Test]
    public void ColourImage_IsFilteredPerChannel()
    {
        var random = new Random(3);
        var rgb = Enumerable.Range(0, 7 * 8 * 3).Select(_ => (float)random.Next(256)).ToArray();
        var image = new ImageData(7, 8, 3, rgb);
        using var cpu = new ConvEngine.Kernels.Cpu.CpuBackend(threads: 1);
        var kernel = FilterKernel.Parse("sharpen");
        var colour = FilterPipeline.Run(cpu, image, kernel, new FilterOptions());
        Assert.That(colour.Filtered.Shape.ToArray(), Is.EqualTo(new[] { 1, 7, 8, 3 }));
        for (int c = 0; c < 3; c++)
        {
            var channel = new ImageData(7, 8, 1, Enumerable.Range(0, 56).Select(p => rgb[p * 3 + c]).ToArray());
            var grey = FilterPipeline.Run(cpu, channel, kernel, new FilterOptions());
            var mine = Enumerable.Range(0, 56).Select(p => colour.Filtered.Values[p * 3 + c]);
            Assert.That(mine, Is.EqualTo(grey.Filtered.Values).Within(1e-6f), $"channel {c}");
        }

        string input = Path.Combine(_dir, "colour.png");
        ImageIO.SavePng(input, rgb, 7, 8, 3);
        string outDir = Path.Combine(_dir, "out");
        var result = Run(input, "--color-mode", "rgb", "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("RGB, per channel").And.Contain("(1, 7, 8, 3)"));
        using var filtered = Image.Load<Rgb24>(Path.Combine(outDir, "filtered.png"));
        Assert.That((filtered.Height, filtered.Width), Is.EqualTo((7, 8)));
        Assert.That(Image.Identify(Path.Combine(outDir, "filtered.png")).PixelType.BitsPerPixel, Is.EqualTo(24), "an RGB PNG");
    }

    // Pool padding valid drops the odd last row and column (7 → 3), same keeps it (7 → 4); the table shows the arithmetic.
    [TestCase("valid", 3, "ceil((7-2+1)/2)=3")]
    [TestCase("same", 4, "ceil(7/2)=4")]
    public void PoolPadding_ChangesTheCondensedSize_AndTheTableShowsWhy(string padding, int size, string arithmetic)
    {
        string outDir = Path.Combine(_dir, "out");
        var result = Run(WriteStepPng(7, 7), "--pool-padding", padding, "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(SizeOf(Path.Combine(outDir, "condensed.png")), Is.EqualTo((size, size)));
        Assert.That(result.Out, Does.Contain(arithmetic));
    }

    // Strides show on the output size: stride 2, same → ceil(9/2) = 5 rows, ceil(12/2) = 6 columns.
    [Test]
    public void Stride_IsShownOnTheOutputSize()
    {
        var result = Run(WriteStepPng(9, 12), "--stride", "2", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("ceil(9/2)=5 x ceil(12/2)=6"));
    }

    [Test]
    public void ImageSize_ResizesBeforeFiltering()
    {
        string outDir = Path.Combine(_dir, "out");
        var result = Run(WriteStepPng(9, 12), "--image-size", "6x4", "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(SizeOf(Path.Combine(outDir, "image.png")), Is.EqualTo((6, 4)));
        Assert.That(SizeOf(Path.Combine(outDir, "filtered.png")), Is.EqualTo((6, 4)));
        Assert.That(result.Out, Does.Contain("resized from 9x12"));
    }

    [Test]
    public void BundledPhoto_IsCopiedNextToTheExecutable_AndDecodes()
    {
        var photo = ImageIO.Load(Path.Combine(AppContext.BaseDirectory, "Assets", "chelsea.png"), ColorMode.Grayscale);
        Assert.That((photo.Height, photo.Width), Is.EqualTo((300, 451)));
    }
}
