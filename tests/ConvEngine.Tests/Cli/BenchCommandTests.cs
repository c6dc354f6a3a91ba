using System.Globalization;
using System.Text.RegularExpressions;
using ConvEngine.Cli.Commands;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;

namespace ConvEngine.Tests.Cli;

/// <summary>
/// `convengine bench` and the FMA peak of `convengine devices`: the CSV parsed row by row; the errors it reports are
/// checked to be real measurements (zero only for the reference against itself, small but not zero for the fast
/// variants, whose summation order differs). Times are only checked to be positive numbers: no timing assertions.
/// </summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console, and sets CONVENGINE_TUNING_CACHE
public class BenchCommandTests
{
    private sealed record Row(string Op, string Shape, int Layers, string Variant, double Ms, double Gflops, double? Percent, double MaxAbs, double Relative);

    private static List<Row> ParseCsv(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToList();
        Assert.That(lines[0], Is.EqualTo("op,shape,layers,variant,ms,gflops,percent_of_peak,max_abs_error,relative_error"));
        return lines.Skip(1).Select(line =>
        {
            // The shape holds commas, so it is quoted.
            var m = Regex.Match(line, "^(\\w+),\"([^\"]+)\",(\\d+),([^,]+),([^,]+),([^,]+),([^,]*),([^,]+),([^,]+)$");
            Assert.That(m.Success, Is.True, line);
            double D(int i) => double.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture);
            return new Row(m.Groups[1].Value, m.Groups[2].Value, int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), m.Groups[4].Value,
                D(5), D(6), m.Groups[7].Value.Length > 0 ? D(7) : null, D(8), D(9));
        }).ToList();
    }

    /// <summary>The dense rows (their shape has no commas, so no quotes).</summary>
    private static List<Row> ParseDenseCsv(string csv) => csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("dense,", StringComparison.Ordinal))
        .Select(line => line.Split(','))
        .Select(f => new Row(f[0], f[1], int.Parse(f[2], CultureInfo.InvariantCulture), f[3], Num(f[4]), Num(f[5]), f[6].Length > 0 ? Num(f[6]) : null, Num(f[7]), Num(f[8])))
        .ToList();

    private static double Num(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private string _cache = null!;

    [SetUp]
    public void PrivateCache()
    {
        _cache = Path.Combine(Path.GetTempPath(), $"convengine-bench-test-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING_CACHE", _cache);
    }

    [TearDown]
    public void RestoreCache()
    {
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING_CACHE", null);
        File.Delete(_cache);
    }

    [Test]
    public void Conv2D_EveryVariant_GetsARowWithItsTimeThroughputAndErrorAgainstTheReference()
    {
        var run = CliHarness.Run<BenchCommand>("--op", "conv2d", "--shape", "2x9x11x5,k3x3,oc20", "--variants", "all", "--repeats", "1", "--tuning", "off", "--format", "csv");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);
        Assert.That(run.Out, Does.StartWith("# bench conv2d 2x9x11x5,k3x3,oc20,s1,same").And.Contains("FMA peak"));
        var rows = ParseCsv(run.Out);
        using var cpu = new CpuBackend(tuning: TuningMode.Off);
        Assert.That(rows.Select(r => r.Variant), Is.EqualTo(cpu.Variants.Available["conv2d"]));
        double flops = 2.0 * 2 * 9 * 11 * 20 * 3 * 3 * 5;
        foreach (var r in rows)
        {
            Assert.That(r.Op, Is.EqualTo("conv2d"));
            Assert.That(r.Ms, Is.GreaterThan(0).And.LessThan(double.PositiveInfinity), r.Variant);
            Assert.That(r.Gflops, Is.EqualTo(flops / r.Ms / 1e6).Within(0.01 * r.Gflops + 0.01), "GFLOP/s is the conv's FLOPs over its time");
            Assert.That(r.Percent, Is.Not.Null.And.GreaterThan(0), "the cpu backend has a measured FMA peak");
            Assert.That(r.Relative, Is.LessThan(1e-5), $"{r.Variant} agrees with the reference kernel");
        }
        Assert.That(rows.Single(r => r.Variant == "reference").MaxAbs, Is.Zero, "the reference against itself");
        Assert.That(rows.Where(r => r.Variant != "reference").Max(r => r.MaxAbs), Is.GreaterThan(0),
            "a fast variant sums in another order, so a real comparison sees rounding differences");
    }

    [Test]
    public void Dense_DefaultVariant_IsOneRowAgreeingWithTheReference()
    {
        var run = CliHarness.Run<BenchCommand>("--op", "dense", "--shape", "6x300x17", "--repeats", "2", "--format", "csv");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);
        var row = ParseDenseCsv(run.Out).Single();
        Assert.That((row.Op, row.Shape, row.Variant), Is.EqualTo(("dense", "6x300x17", "default")));
        Assert.That(row.Relative, Is.LessThan(1e-5).And.GreaterThanOrEqualTo(0));
        Assert.That(row.Ms, Is.GreaterThan(0));
    }

    [Test]
    public void Model_EachDistinctConvAndDenseShape_IsOneRow_WithItsLayerCount()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"convengine-bench-model-{Guid.NewGuid():N}");
        try
        {
            using (var model = new Sequential([
                       new InputLayer(12, 12, 3), new Conv2D(8, 3, padding: "same", activation: "relu"), new Conv2D(8, 3, padding: "same", activation: "relu"),
                       new Conv2D(8, 3, padding: "same"), new MaxPool2D(2), new Flatten(), new Dense(4)], seed: 5))
                model.Save(folder);
            var run = CliHarness.Run<BenchCommand>("--model", folder, "--batch-size", "2", "--repeats", "1", "--tuning", "off", "--format", "csv");
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);
            var rows = ParseCsv(string.Join('\n', run.Out.Split('\n').Where(l => !l.StartsWith("dense", StringComparison.Ordinal))));
            Assert.That(rows.Select(r => (r.Shape, r.Layers)), Is.EqualTo(new[]
            {
                ("2x12x12x3,k3x3,oc8,s1,same", 1),
                ("2x12x12x8,k3x3,oc8,s1,same", 2),
            }));
            Assert.That(rows[0].Variant, Is.EqualTo("default (direct)"), "an RGB first layer runs the direct kernel");
            var dense = ParseDenseCsv(run.Out).Single(r => r.Op == "dense");
            Assert.That((dense.Shape, dense.Layers), Is.EqualTo(("2x288x4", 1)));
            Assert.That(rows.Concat([dense]).Select(r => r.Relative), Has.All.LessThan(1e-5));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [TestCase("--op", "conv2d", "--shape", "1x9x9,k3,oc4", "needs 4 sizes")]
    [TestCase("--op", "conv2d", "--shape", "1x9x9x3,k3", "needs the kernel (k3x3) and output channels (oc64)")]
    [TestCase("--op", "conv2d", "--shape", "1x9x9x3,k3,oc4,z2", "'z2' is not a conv2d shape part")]
    [TestCase("--op", "conv2d", "--shape", "1x2x2x3,k5,oc4,valid", "larger than")]
    [TestCase("--op", "conv2d", "--shape", "1x9x9x3,k3,oc4", "--variants", "fast", "has no conv2d variant 'fast'")]
    [TestCase("--op", "pool", "--shape", "1x9x9x3", "--op must be conv2d or dense; got 'pool'")]
    [TestCase("--op", "dense", "--shape", "4x0x2", "needs a positive whole number")]
    [TestCase("--shape", "4x3x2", "needs --model M or --op")]
    [TestCase("--op", "dense", "--shape", "4x3x2", "--repeats", "0", "--repeats must be at least 1")]
    [TestCase("--op", "dense", "--shape", "4x3x2", "--tuning", "maybe", "--tuning must be on or off")]
    public void BadOptions_AreOneLineErrorsNamingWhatToFix(params string[] argsThenMessage)
    {
        var run = CliHarness.Run<BenchCommand>(argsThenMessage[..^1]);
        Assert.That(run.ExitCode, Is.Not.Zero);
        Assert.That(run.Out + run.Error, Does.Contain(argsThenMessage[^1]));
    }

    [Test]
    public void ClearTuning_DeletesTheCacheFile_AndSaysHowManyEntriesWent()
    {
        using (var cpu = new CpuBackend(threads: 1, tuning: TuningMode.Off))
            new TuningCache(_cache).Set("some machine | conv2d shape", CpuTuner.Default(cpu.Simd));
        Assert.That(File.Exists(_cache), Is.True);
        var run = CliHarness.Run<BenchCommand>("--clear-tuning");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain($"Cleared 1 tuning entry from {_cache}"));
        Assert.That(File.Exists(_cache), Is.False);
    }

    [Test]
    public void Devices_ShowsAMeasuredFmaPeakForTheCpuBackend()
    {
        var run = CliHarness.Run<DevicesCommand>();
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var cpuRow = run.Out.Split('\n').First(l => Regex.IsMatch(l, @"^\W*cpu\s"));
        var peak = Regex.Match(cpuRow, @"(\d+\.\d) GFLOP/s");
        Assert.That(peak.Success, Is.True, cpuRow);
        Assert.That(double.Parse(peak.Groups[1].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0.1));
    }
}
