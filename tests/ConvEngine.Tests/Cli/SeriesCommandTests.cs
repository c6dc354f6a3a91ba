using ConvEngine.Cli.Commands;
using NUnit.Framework;
using SixLabors.ImageSharp;

namespace ConvEngine.Tests.Cli;

[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class SeriesCommandTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = Directory.CreateTempSubdirectory("convengine-series-tests-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static CliHarness.Result Run(params string[] args) => CliHarness.Run<SeriesCommand>(args);

    private string Write(string text, string name = "s.csv")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    // The course's exercise: detrend, valid, stride 1 on the bundled CO2 series: 2284 weeks → 2283 differences.
    [Test]
    public void BundledCo2_Detrend_WritesThePlotAndTheCsv()
    {
        string outDir = Path.Combine(_dir, "out");
        var result = Run("--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("2284 values -> 2283").And.Contain("59 empty cell(s)"));
        var csv = File.ReadAllLines(Path.Combine(outDir, "filtered.csv"));
        Assert.That(csv, Has.Length.EqualTo(2284));
        Assert.That(csv[0], Is.EqualTo("step,end_row,date,value"));
        // 1958-04-05 minus 1958-03-29: 317.3 − 316.1.
        Assert.That(csv[1], Does.StartWith("0,1,19580405,"));
        Assert.That(float.Parse(csv[1].Split(',')[3], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(1.2f).Within(1e-4f));
        var png = Image.Identify(Path.Combine(outDir, "series.png"));
        Assert.That((png.Width, png.Height), Is.EqualTo((900, 640)), "two 900x320 panels");
    }

    // A kernel that starts with a minus is read whole, and same padding keeps the length.
    [Test]
    public void CustomKernel_SamePadding_KeepsTheLength()
    {
        string path = Write("t,v\n0,1\n1,2\n2,4\n3,8\n");
        string outDir = Path.Combine(_dir, "out");
        var result = Run(path, "--kernel", "-1 0 1", "--padding", "same", "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        // same, k = 3: one zero each side: [2 − 0, 4 − 1, 8 − 2, 0 − 4].
        var values = File.ReadAllLines(Path.Combine(outDir, "filtered.csv")).Skip(1).Select(l => l.Split(',')[3]);
        Assert.That(values, Is.EqualTo(new[] { "2", "3", "6", "-4" }));
    }

    [Test]
    public void MissingColumn_ExitsWith1_NamingTheFileAndTheColumns()
    {
        string path = Write("date,co2\n1,2\n");
        var result = Run(path, "--column", "ch4", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(path).And.Contain("'ch4'").And.Contain("date, co2"));
        Assert.That(result.Error.Trim().Split('\n'), Has.Length.EqualTo(1), "one line");
    }

    [Test]
    public void NonNumericCell_ExitsWith1_NamingTheLine()
    {
        string path = Write("t,v\n0,1\n1,abc\n");
        var result = Run(path, "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(path).And.Contain("line 3").And.Contain("'abc'"));
    }

    [Test]
    public void SeriesShorterThanTheKernel_InValidMode_ExitsWith1_GivingBothLengths()
    {
        string path = Write("t,v\n0,1\n1,2\n2,3\n");
        var result = Run(path, "--kernel", "spencer", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(path).And.Contain("3 values").And.Contain("15 of kernel 'spencer'"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "out")), Is.False, "nothing written");
    }

    [Test]
    public void UnknownKernel_ExitsWith1_NamingIt()
    {
        var result = Run("--kernel", "smooth", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("Unknown kernel 'smooth'"));
    }

    // The 1-D convnet example on the bundled sunspots (309 years): it trains and reports the baseline it is set against.
    [Test]
    public void SeriesTrain_ReportsValidationAccuracyAgainstTheMajorityBaseline()
    {
        string outDir = Path.Combine(_dir, "train");
        string sunspots = SeriesCommand.SeriesSettings.BundledSeries("sunspots.csv");
        var result = CliHarness.Run<SeriesTrainCommand>(sunspots, "--window", "16", "--epochs", "2", "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Out, Does.Contain("majority-class baseline").And.Contain("Epoch 2/2"));
        Assert.That(File.Exists(Path.Combine(outDir, "model", "config.json")));
        Assert.That(File.ReadAllLines(Path.Combine(outDir, "history.csv")), Has.Length.EqualTo(3));
    }
}
