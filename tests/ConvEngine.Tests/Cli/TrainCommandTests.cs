using System.Globalization;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Data.Images;
using ConvEngine.Layers;
using ConvEngine.Losses;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;
using NUnit.Framework;
using SixLabors.ImageSharp;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Tests.Cli;

/// <summary>`convengine train` run in-process on tiny synthetic image folders (12×12 grey, 16 per class), 1–3 epochs.</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class TrainCommandTests
{
    private SyntheticImages _images = null!;

    [SetUp] public void SetUp() => _images = new SyntheticImages();
    [TearDown] public void TearDown() => _images.Dispose();

    [Test]
    public void Train_JsonConfig_WritesModelDatasetHistoryPlotsAndCheckpoints()
    {
        string data = _images.TrainValid(["bright", "dark"]);
        string config = _images.TinyConfig(units: 1, activation: "sigmoid");
        string outDir = _images.PathOf("out");

        var run = CliHarness.Run<TrainCommand>("--model", config, "--data", data, "--epochs", "2", "--batch-size", "8", "--out", outDir);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var output = new TrainingOutput(outDir);
        using (var model = Model.Load(output.ModelDirectory))
        {
            Assert.That(model.InputShape, Is.EqualTo(new[] { 12, 12, 1 }));
            // A sigmoid head trains with binary cross-entropy (the course's compile).
            Assert.That(model.Loss, Is.InstanceOf<BinaryCrossentropy>());
        }
        Assert.That(Directory.GetDirectories(output.CheckpointDirectory).Select(Path.GetFileName), Is.EquivalentTo(new[] { "epoch-0001", "epoch-0002" }));
        Assert.That(DatasetInfo.Read(output.DatasetFile).ClassNames, Is.EqualTo(new[] { "bright", "dark" }));

        var csv = HistoryCsv.Read(output.HistoryCsv);
        Assert.That(csv.Header, Is.EqualTo(new[] { "epoch", "loss", "binary_accuracy", "val_loss", "val_binary_accuracy" }));
        Assert.That(csv.Column("epoch"), Is.EqualTo(new[] { 0.0, 1.0 }), "Keras's CSVLogger numbers epochs from 0");
        // An accuracy over 32 training and 8 validation images is a whole number of images.
        foreach (double a in csv.Column("binary_accuracy")) Assert.That(a * 32, Is.EqualTo(Math.Round(a * 32)).Within(1e-9));
        foreach (double a in csv.Column("val_binary_accuracy")) Assert.That(a * 8, Is.EqualTo(Math.Round(a * 8)).Within(1e-9));

        foreach (var plot in new[] { output.LossPlot, output.AccuracyPlot })
        {
            using var image = Image.Load(plot); // decodes every pixel, not just the header
            Assert.That((image.Width, image.Height), Is.EqualTo((HistoryFiles.PlotWidth, HistoryFiles.PlotHeight)), plot);
        }
        string last = csv.Column("val_binary_accuracy")[^1].ToString("F4", CultureInfo.InvariantCulture);
        Assert.That(run.Out, Does.Contain($"Final validation accuracy: {last}"));
        Assert.That(run.Out, Does.Contain("Epoch 1/2 - 4/4").And.Contain("Epoch 2/2 - 4/4"), "one plain progress line per epoch when output is redirected");
    }

    [Test]
    public void Train_Resume_ContinuesFromTheLastCheckpointUpToTheTotalEpochs()
    {
        string data = _images.TrainValid(["bright", "dark"]);
        string config = _images.TinyConfig(units: 1, activation: "sigmoid");
        string outDir = _images.PathOf("out");
        var first = CliHarness.Run<TrainCommand>("--model", config, "--data", data, "--epochs", "1", "--batch-size", "8", "--out", outDir);
        Assert.That(first.ExitCode, Is.EqualTo(0), first.Error);
        var firstRows = File.ReadAllLines(Path.Combine(outDir, "history.csv"));

        var resumed = CliHarness.Run<TrainCommand>("--resume", "--data", data, "--epochs", "3", "--batch-size", "8", "--out", outDir);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Error);
        var rows = File.ReadAllLines(Path.Combine(outDir, "history.csv"));
        Assert.That(HistoryCsv.Read(Path.Combine(outDir, "history.csv")).Column("epoch"), Is.EqualTo(new[] { 0.0, 1.0, 2.0 }));
        Assert.That(rows[1], Is.EqualTo(firstRows[1]), "the first epoch's row is the first run's, not a new epoch 1");
        Assert.That(resumed.Out, Does.Contain("Epoch 2/3").And.Contain("Epoch 3/3").And.Not.Contain("Epoch 1/3"));
        Assert.That(Directory.Exists(Path.Combine(outDir, "checkpoints", "epoch-0003")));
    }

    [Test]
    public void Train_ResumeWithoutCheckpoint_SaysThereIsNoneToContinueFrom()
    {
        string data = _images.TrainValid(["bright", "dark"]);
        var run = CliHarness.Run<TrainCommand>("--resume", "--data", data, "--out", _images.PathOf("empty"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("no checkpoint").And.Contain("checkpoints"));
    }

    [Test]
    public void Train_SigmoidHeadOnThreeClasses_FailsNamingTheHeadTheClassesAndTheFix()
    {
        string data = _images.TrainValid(["a", "b", "c"]);
        var run = CliHarness.Run<TrainCommand>("--data", data, "--epochs", "1", "--out", _images.PathOf("out"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("one sigmoid unit").And.Contain("3 classes [a, b, c]").And.Contain("custom-convnet-softmax"));
        Assert.That(Directory.Exists(_images.PathOf("out/checkpoints")), Is.False, "nothing is trained");
    }

    [Test]
    public void Train_SoftmaxHeadWithTooFewUnits_FailsNamingBothCounts()
    {
        string data = _images.TrainValid(["a", "b", "c"]);
        string config = _images.TinyConfig(units: 4, activation: "softmax");
        var run = CliHarness.Run<TrainCommand>("--model", config, "--data", data, "--out", _images.PathOf("out"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("4 softmax units").And.Contain("3 classes").And.Contain("3 units"));
    }

    [Test]
    public void Train_BuiltInSoftmaxOnThreeClasses_UsesSparseCategoricalCrossentropyAndTheImageSizeAsked()
    {
        string data = _images.TrainValid(["a", "b", "c"]);
        string outDir = _images.PathOf("out");
        var run = CliHarness.Run<TrainCommand>("--model", "custom-convnet-softmax", "--data", data, "--image-size", "16x16",
            "--epochs", "1", "--batch-size", "16", "--out", outDir);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        using var model = Model.Load(Path.Combine(outDir, "model"));
        Assert.That(model.InputShape, Is.EqualTo(new[] { 16, 16, 1 }));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 3 }));
        // Keras pairs integer labels (label_mode "int") with the sparse loss and its accuracy.
        Assert.That(model.Loss, Is.InstanceOf<SparseCategoricalCrossentropy>());
        Assert.That(HistoryCsv.Read(Path.Combine(outDir, "history.csv")).Header,
            Is.EqualTo(new[] { "epoch", "loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy" }));
        // The softmax variant keeps Keras's default Adam epsilon; only the course's binary nets use 0.01.
        Assert.That(((Adam)model.Optimizer!).Epsilon, Is.EqualTo(1e-7));
    }

    [Test]
    public void Train_ValidationSplit_HoldsOutThatFractionOfTheClassFolders()
    {
        string data = _images.ClassFolders("flat", ["bright", "dark"], perClass: 16);
        string outDir = _images.PathOf("out");
        var run = CliHarness.Run<TrainCommand>("--model", _images.TinyConfig(1, "sigmoid"), "--data", data, "--validation-split", "0.25",
            "--epochs", "1", "--batch-size", "8", "--out", outDir);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        // Keras: int(0.25 · 32) = 8 files for validation, the other 24 for training.
        Assert.That(run.Out, Does.Contain("Using 24 files for training").And.Contain("Using 8 files for validation"));
        double accuracy = HistoryCsv.Read(Path.Combine(outDir, "history.csv")).Column("val_binary_accuracy")[0];
        Assert.That(accuracy * 8, Is.EqualTo(Math.Round(accuracy * 8)).Within(1e-9));
    }

    [Test]
    public void Train_FolderWithoutSplits_FailsSuggestingValidationSplit()
    {
        string data = _images.ClassFolders("flat", ["bright", "dark"], perClass: 4);
        var run = CliHarness.Run<TrainCommand>("--data", data, "--out", _images.PathOf("out"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("no train/ and valid/").And.Contain("--validation-split"));
    }

    [Test]
    public void Train_FashionMnistAbsent_SaysHowToInstallIt()
    {
        var run = CliHarness.Run<TrainCommand>("--fashion-mnist", _images.PathOf("no-such-folder"), "--out", _images.PathOf("out"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("apt-get install dataset-fashion-mnist").And.Contain("no-such-folder"));
    }

    [Test]
    public void Train_JsonConfigWithOtherImageSize_FailsNamingTheModelInput()
    {
        string data = _images.TrainValid(["bright", "dark"]);
        var run = CliHarness.Run<TrainCommand>("--model", _images.TinyConfig(1, "sigmoid"), "--data", data, "--image-size", "20", "--out", _images.PathOf("out"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("--image-size 20").And.Contain("(None, 12, 12, 1)"));
    }

    /// <summary>
    /// The README's main command, `convengine train` with every default (the bundled fashion-mnist-shoes sample,
    /// custom-convnet, Adam ε 0.01), cut to one training step and one validation step.
    /// </summary>
    [Test]
    public void Train_ReadmeMainCommandDefaults_BuildTheCoursesConvnetOnTheBundledSampleAndRunAStep()
    {
        string outDir = _images.PathOf("out");
        var run = CliHarness.Run<TrainCommand>("--epochs", "1", "--steps-per-epoch", "1", "--validation-steps", "1", "--out", outDir);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("Found 2000 files belonging to 2 classes").And.Contain("Found 500 files belonging to 2 classes"));
        Assert.That(run.Out, Does.Contain("Epoch 1/1 - 1/1"));
        using var model = Model.Load(Path.Combine(outDir, "model"));
        Assert.That(model.Name, Is.EqualTo("custom_convnet"));
        Assert.That(model.InputShape, Is.EqualTo(new[] { 28, 28, 1 }), "the sample's 28×28 grey images set the input");
        Assert.That(((Adam)model.Optimizer!).Epsilon, Is.EqualTo(0.01), "the course compiles with Adam(epsilon=0.01)");
        Assert.That(HistoryCsv.Read(Path.Combine(outDir, "history.csv")).Column("epoch"), Is.EqualTo(new[] { 0.0 }));
    }

    /// <summary>
    /// The course's model at its 128×128×3 input: conv 5·5·3·32+32 = 2,432; 3·3·32·64+64 = 18,496; 3·3·64·128+128 = 73,856;
    /// three 2×2 pools leave 16·16·128 = 32,768 features; Dense 6: 32,768·6+6 = 196,614; Dense 1: 7. Total 291,405.
    /// </summary>
    [Test]
    public void CustomConvnet_HasTheCoursesLayersAndParameterCount()
    {
        using var model = BuiltInModels.Create("custom-convnet", [128, 128, 3], classCount: 2);
        Assert.That(model.Layers.Select(l => l.ClassName), Is.EqualTo(new[]
        {
            "Rescaling", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense",
        }));
        Assert.That(model.TrainableParameterCount, Is.EqualTo(291_405));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 1 }));
    }

    /// <summary>
    /// Blocks of 2, 2 and 3 3×3 convs: 896 + 9,248 + 18,496 + 36,928 + 73,856 + 2·147,584, then the same
    /// 196,614 + 7 head on 16·16·128 features: 631,213; the dropout has no weights.
    /// </summary>
    [Test]
    public void CustomConvnetImproved_HasTwoTwoThreeConvBlocksAndDropout()
    {
        using var model = BuiltInModels.Create("custom-convnet-improved", [128, 128, 3], classCount: 2);
        Assert.That(model.Layers.Count(l => l is Conv2D), Is.EqualTo(7));
        Assert.That(model.Layers.OfType<Dropout>().Single().Rate, Is.EqualTo(0.2));
        Assert.That(model.TrainableParameterCount, Is.EqualTo(631_213));
    }

    /// <summary>
    /// At Fashion-MNIST's 28×28×1 with 10 classes: 832 + 18,496 + 73,856 conv weights; 28 → 14 → 7 → 3 leaves
    /// 3·3·128 = 1,152 features; Dense 128: 147,584; Dense 10: 1,290. Total 242,058.
    /// </summary>
    [Test]
    public void CustomConvnetSoftmax_AtFashionMnistSize_HasTheDense128DropoutSoftmaxHead()
    {
        using var model = BuiltInModels.Create("custom-convnet-softmax", [28, 28, 1], classCount: 10);
        Assert.That(model.TrainableParameterCount, Is.EqualTo(242_058));
        Assert.That(model.Layers.OfType<Dropout>().Single().Rate, Is.EqualTo(0.5));
        var head = ModelHead.Of(model);
        Assert.That((head.Kind, head.ClassCount), Is.EqualTo((HeadKind.Softmax, 10)));
    }

    [Test]
    public void ProgressBar_Redirected_PrintsOneKerasLineAtEachEpochsEnd()
    {
        var text = new StringWriter();
        var progress = new ProgressBarCallback(text, live: false);
        progress.OnTrainBegin(new TrainingParams(Epochs: 2, InitialEpoch: 0, Steps: 4, Samples: 32, HasValidation: true));
        progress.OnEpochBegin(0);
        for (int b = 0; b < 4; b++) progress.OnTrainBatchEnd(b, new Dictionary<string, double> { ["loss"] = 0.5, ["binary_accuracy"] = 0.75 });
        progress.OnEpochEnd(0, new Dictionary<string, double> { ["loss"] = 0.5, ["binary_accuracy"] = 0.75, ["val_loss"] = 0.25, ["val_binary_accuracy"] = 0.875 });

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("Epoch 1/2 - 4/4 ━━━━━━━━━━━━━━━━━━━━ "));
        Assert.That(lines[0], Does.Match(@"\d+ms/step - loss: 0\.5000 - binary_accuracy: 0\.7500 - val_loss: 0\.2500 - val_binary_accuracy: 0\.8750$"));
        Assert.That(lines[0], Does.Not.Contain("\r"));
        Assert.That(progress.Timings.Single().Samples, Is.EqualTo(32));
    }

    [Test]
    public void ProgressBar_OnATerminal_RedrawsTheLineInPlaceAndEndsTheEpochWithANewline()
    {
        var text = new StringWriter();
        var progress = new ProgressBarCallback(text, live: true);
        progress.OnTrainBegin(new TrainingParams(Epochs: 3, InitialEpoch: 1, Steps: 2, Samples: 16, HasValidation: false));
        progress.OnEpochBegin(1);
        progress.OnTrainBatchEnd(0, new Dictionary<string, double> { ["loss"] = 0.75 });
        progress.OnTrainBatchEnd(1, new Dictionary<string, double> { ["loss"] = 0.5 });
        progress.OnEpochEnd(1, new Dictionary<string, double> { ["loss"] = 0.5 });

        string output = text.ToString();
        Assert.That(output, Does.StartWith("Epoch 2/3" + Environment.NewLine));
        // The first redraw at step 1 of 2 shows half a bar and an ETA; the last shows it full.
        Assert.That(output, Does.Contain("\r1/2 ━━━━━━━━━━────────── ETA: "));
        Assert.That(output, Does.Contain("\r2/2 ━━━━━━━━━━━━━━━━━━━━ "));
        Assert.That(output, Does.EndWith("loss: 0.5000\u001b[K" + Environment.NewLine));
    }

    [Test]
    public void ProgressBar_OnANarrowTerminal_CutsTheRedrawsButWritesTheFinishedLineWhole()
    {
        var text = new StringWriter();
        var progress = new ProgressBarCallback(text, live: true, width: 40);
        progress.OnTrainBegin(new TrainingParams(Epochs: 1, InitialEpoch: 0, Steps: 2, Samples: 16, HasValidation: true));
        progress.OnEpochBegin(0);
        progress.OnTrainBatchEnd(0, new Dictionary<string, double> { ["loss"] = 0.75, ["binary_accuracy"] = 0.5 });
        progress.OnTrainBatchEnd(1, new Dictionary<string, double> { ["loss"] = 0.5, ["binary_accuracy"] = 0.5 });
        progress.OnEpochEnd(0, new Dictionary<string, double> { ["loss"] = 0.5, ["binary_accuracy"] = 0.5, ["val_loss"] = 0.25, ["val_binary_accuracy"] = 1 });

        // A redraw longer than the terminal would wrap, and "\r" would then return only to its last row.
        var redraws = text.ToString().Split('\r').Skip(1).Select(r => r.Split("\u001b[K")[0]).ToList();
        Assert.That(redraws.SkipLast(1), Has.All.Length.LessThan(40));
        Assert.That(redraws[^1], Does.EndWith("val_loss: 0.2500 - val_binary_accuracy: 1.0000"));
    }

    [TestCase("28", 28, 28)]
    [TestCase("128x96", 128, 96)]
    [TestCase("64,32", 64, 32)]
    public void ImageSize_ParsesSquareAndHeightByWidth(string text, int height, int width) =>
        Assert.That(TrainCommand.ParseImageSize(text), Is.EqualTo((height, width)));

    [TestCase("0")]
    [TestCase("12x")]
    [TestCase("1x2x3")]
    [TestCase("-4")]
    public void ImageSize_RefusesWhatIsNotAPositiveSize(string text) => Assert.That(TrainCommand.ParseImageSize(text), Is.Null);
}

/// <summary>A history.csv read back independently of the writer: header names and numeric columns.</summary>
internal sealed record HistoryCsv(string[] Header, double[][] Rows)
{
    public static HistoryCsv Read(string path)
    {
        var lines = File.ReadAllLines(path);
        return new HistoryCsv(lines[0].Split(','),
            lines.Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray());
    }

    public double[] Column(string name)
    {
        int index = Array.IndexOf(Header, name);
        Assert.That(index, Is.GreaterThanOrEqualTo(0), $"history.csv has no column '{name}': {string.Join(",", Header)}");
        return Rows.Select(r => r[index]).ToArray();
    }
}

/// <summary>
/// Tiny grey image folders for the CLI tests: per class, images whose brightness says the class (class k of n
/// around 40 + 180·k/(n−1)) with a little texture, so a small convnet can tell them apart.
/// </summary>
internal sealed class SyntheticImages : IDisposable
{
    public const int Size = 12;

    public SyntheticImages() => Root = Directory.CreateTempSubdirectory("convengine-train-tests-").FullName;

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>train/ with 16 images per class and valid/ with 4 per class.</summary>
    public string TrainValid(IReadOnlyList<string> classes, string name = "data")
    {
        ClassFolders(Path.Combine(name, "train"), classes, perClass: 16);
        ClassFolders(Path.Combine(name, "valid"), classes, perClass: 4, firstIndex: 100);
        return PathOf(name);
    }

    /// <summary>One folder per class holding <paramref name="perClass"/> PNGs.</summary>
    public string ClassFolders(string name, IReadOnlyList<string> classes, int perClass, int firstIndex = 0)
    {
        for (int k = 0; k < classes.Count; k++)
            for (int i = firstIndex; i < firstIndex + perClass; i++)
                Write(Path.Combine(name, classes[k], $"img-{i:D3}.png"), k, classes.Count, i);
        return PathOf(name);
    }

    /// <summary>Writes one image of class <paramref name="k"/> of <paramref name="classCount"/>; returns its path.</summary>
    public string Write(string relative, int k, int classCount, int index, int size = Size)
    {
        var pixels = new float[size * size];
        float level = 40 + 180f * k / Math.Max(1, classCount - 1);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                pixels[y * size + x] = level + (x * 7 + y * 13 + index * 29) % 31 - 15;
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        ImageIO.SavePng(path, pixels, size, size, 1);
        return path;
    }

    /// <summary>A small model as a Keras-format JSON config: 12×12×1 → rescale, conv 4 3×3, pool, flatten, Dense(units, activation).</summary>
    public string TinyConfig(int units, string activation)
    {
        var layers = new JsonArray
        {
            Layer("InputLayer", new JsonObject { ["batch_input_shape"] = new JsonArray(null, Size, Size, 1), ["name"] = "pixels" }),
            Layer("Rescaling", new JsonObject { ["scale"] = 1.0 / 255, ["offset"] = 0.0, ["name"] = "rescale" }),
            Layer("Conv2D", new JsonObject { ["filters"] = 4, ["kernel_size"] = new JsonArray(3, 3), ["padding"] = "same", ["activation"] = "relu", ["name"] = "conv" }),
            Layer("MaxPooling2D", new JsonObject { ["pool_size"] = new JsonArray(2, 2), ["name"] = "pool" }),
            Layer("Flatten", new JsonObject { ["name"] = "flatten" }),
            Layer("Dense", new JsonObject { ["units"] = units, ["activation"] = activation, ["name"] = "head" }),
        };
        var json = new JsonObject { ["class_name"] = "Sequential", ["config"] = new JsonObject { ["name"] = "tiny", ["layers"] = layers } };
        string path = PathOf($"tiny-{units}-{activation}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private static JsonObject Layer(string className, JsonObject config) => new() { ["class_name"] = className, ["config"] = config };

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
