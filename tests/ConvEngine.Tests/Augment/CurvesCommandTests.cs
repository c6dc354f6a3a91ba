using ConvEngine.Cli.Commands;
using ConvEngine.Tests.Cli;
using NUnit.Framework;
using SixLabors.ImageSharp;

namespace ConvEngine.Tests.Augment;

/// <summary>`convengine curves`: several runs' history.csv side by side, with the numbers the README quotes.</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class CurvesCommandTests
{
    private static string Csv(string folder, params (double Loss, double Acc, double ValLoss, double ValAcc)[] epochs)
    {
        Directory.CreateDirectory(folder);
        var lines = new List<string> { "epoch,loss,binary_accuracy,val_loss,val_binary_accuracy" };
        lines.AddRange(epochs.Select((e, i) => FormattableString.Invariant($"{i},{e.Loss},{e.Acc},{e.ValLoss},{e.ValAcc}")));
        string path = Path.Combine(folder, "history.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Test]
    public void Curves_TwoRuns_WritesOnePanelPerRunAndRow_AndTabulatesFinalBestAndGap()
    {
        string root = Directory.CreateTempSubdirectory("convengine-curves-").FullName;
        try
        {
            Csv(Path.Combine(root, "plain"), (0.6, 0.70, 0.55, 0.75), (0.3, 0.90, 0.40, 0.85), (0.1, 0.97, 0.45, 0.84));
            string augmented = Csv(Path.Combine(root, "augmented"), (0.65, 0.65, 0.6, 0.70), (0.4, 0.85, 0.38, 0.86), (0.3, 0.89, 0.33, 0.88));
            string png = Path.Combine(root, "curves.png");
            var run = CliHarness.Run<CurvesCommand>(Path.Combine(root, "plain"), augmented, "--titles", "without, with", "--out", png);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
            using (var image = Image.Load(png))
                Assert.That((image.Width, image.Height), Is.EqualTo((2 * ConvEngine.Visualization.LearningCurves.PanelWidth, 2 * ConvEngine.Visualization.LearningCurves.PanelHeight)));
            // without: final 0.84, best 0.85 at epoch 2, gap 0.97 − 0.84 = 0.13; with: final and best 0.88, gap 0.01.
            Assert.That(run.Out, Does.Contain("| without | 3 | 0.8400 | 0.8500 (2) | 0.9700 | 0.1300 | 0.4500 | 0.3500 |"));
            Assert.That(run.Out, Does.Contain("| with | 3 | 0.8800 | 0.8800 (3) | 0.8900 | 0.0100 | 0.3300 | 0.0300 |"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void ReadCsv_IsTheInverseOfToCsv_AndNamesABadLine()
    {
        string root = Directory.CreateTempSubdirectory("convengine-curves-").FullName;
        try
        {
            string path = Csv(root, (0.5, 0.75, 0.25, 0.875), (0.125, 1, 0.0625, 0.5));
            var history = HistoryFiles.ReadCsv(path);
            Assert.That(HistoryFiles.ToCsv(history), Is.EqualTo(File.ReadAllText(path).Replace("\r", "")));
            File.AppendAllText(path, "2,0.1,x,0.2,0.3\n");
            var e = Assert.Throws<FormatException>(() => HistoryFiles.ReadCsv(path))!;
            Assert.That(e.Message, Does.Contain("line 4").And.Contain("binary_accuracy").And.Contain("\"x\""));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
