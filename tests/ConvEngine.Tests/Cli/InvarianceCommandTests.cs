using ConvEngine.Cli.Commands;
using ConvEngine.Data.Images;
using NUnit.Framework;
using SixLabors.ImageSharp;

namespace ConvEngine.Tests.Cli;

[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class InvarianceCommandTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = Directory.CreateTempSubdirectory("convengine-invariance-tests-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static CliHarness.Result Run(params string[] args) => CliHarness.Run<InvarianceCommand>(args);

    // The hand computation of TranslationInvarianceTests, as the command writes it: 4, 2, 2 and 0 differing cells.
    [Test]
    public void TwoDots_WritesTheGridAndTheHandComputedTable()
    {
        string outDir = Path.Combine(_dir, "out");
        var result = Run("--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        var csv = File.ReadAllLines(Path.Combine(outDir, "invariance.csv"));
        Assert.That(csv, Is.EqualTo(new[]
        {
            "level,height,width,max_abs_difference,mean_abs_difference,differing_cells,fraction_differing",
            "0,32,32,1,0.00390625,4,0.00390625",
            "1,16,16,1,0.0078125,2,0.0078125",
            "2,8,8,1,0.03125,2,0.03125",
            "3,4,4,0,0,0,0",
        }));
        Assert.That(result.Out, Does.Contain("After 3 pooling(s) the two are identical"));
        // Rows original, shifted, difference of four 128-pixel tiles (every level enlarged to 128): the grid holds them.
        var png = Image.Identify(Path.Combine(outDir, "invariance.png"));
        Assert.That(png.Width, Is.InRange(4 * 128, 4 * 128 + 600));
        Assert.That(png.Height, Is.InRange(3 * 128, 3 * 128 + 300));
    }

    // "-2,1" starts with a minus: Spectre alone would read it as the number −2.
    [Test]
    public void NegativeShift_IsReadWhole()
    {
        var result = Run("--shift", "-2,1", "--repeat", "1", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("shifted -2 right and 1 down"));
    }

    [TestCase("1")]
    [TestCase("a,b")]
    public void BadShift_ExitsWith1_NamingTheValue(string shift)
    {
        var result = Run("--shift", shift, "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("--shift").And.Contain($"'{shift}'"));
    }

    [Test]
    public void ImageOverPixelLimit_ExitsWith1_NamingTheFileAndTheLimit()
    {
        string image = Path.Combine(_dir, "big.png");
        ImageIO.SavePng(image, new float[6 * 5], 6, 5, 1);
        var result = Run(image, "--max-pixels", "29", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(image).And.Contain("limit of 29"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "out")), Is.False);
    }

    [Test]
    public void GivenImage_IsShiftedAndPooled()
    {
        string image = Path.Combine(_dir, "ramp.png");
        ImageIO.SavePng(image, Enumerable.Range(0, 64).Select(i => (float)(i * 4)).ToArray(), 8, 8, 1);
        var result = Run(image, "--repeat", "2", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "out", "invariance.csv")), Has.Length.EqualTo(4), "header and levels 0, 1, 2");
    }
}
