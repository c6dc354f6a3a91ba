using ConvEngine.Cli.Commands;
using ConvEngine.Data.Images;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Import;
using ConvEngine.Tests.Training;
using ConvEngine.Tests.Transfer;
using NUnit.Framework;
using SixLabors.ImageSharp;

namespace ConvEngine.Tests.Cli;

/// <summary>`convengine visualize` and `convengine summary` on models of each format predict reads.</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class VisualizeCommandTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = Directory.CreateTempSubdirectory("convengine-visualize-tests-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>An RGB convnet saved as an engine model folder: conv (3 → 4) relu, pool, conv (4 → 6), flatten, dense.</summary>
    private string SaveEngineModel()
    {
        using var model = new Sequential(backend: TestBackend.Instance, seed: 2, name: "rgbnet")
        {
            new InputLayer([8, 8, 3], "pixels"),
            new Conv2D(4, 3, padding: "same", activation: "relu", name: "conv_a"),
            new MaxPool2D(name: "pool"),
            new Conv2D(6, 3, name: "conv_b"),
            new Flatten(name: "flat"),
            new Dense(2, activation: "softmax", name: "probs"),
        };
        string folder = Path.Combine(_dir, "model");
        model.Save(folder);
        return folder;
    }

    private string WriteImage(int height, int width, int channels, string name = "input.png")
    {
        var random = new Random(height * 31 + width);
        string path = Path.Combine(_dir, name);
        ImageIO.SavePng(path, Enumerable.Range(0, height * width * channels).Select(_ => (float)random.Next(256)).ToArray(), height, width, channels);
        return path;
    }

    [Test]
    public void EngineModel_AllLayers_WritesAFeatureGridPerLayer_AndKernelGridsForConvs()
    {
        string outDir = Path.Combine(_dir, "out");
        var result = CliHarness.Run<VisualizeCommand>("--model", SaveEngineModel(), WriteImage(10, 12, 3), "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        var files = Directory.GetFiles(outDir).Select(Path.GetFileName).Order().ToArray();
        Assert.That(files, Is.EqualTo(new[]
        {
            "01-conv_a-kernels.png", "01-conv_a.png", "02-pool.png", "03-conv_b-kernels.png", "03-conv_b.png", "04-flat.png", "05-probs.png",
        }));
        // conv_a: 4 channels of 8×8 in a 2×2 grid, each enlarged 8× to 64 pixels.
        var features = Image.Identify(Path.Combine(outDir, "01-conv_a.png"));
        Assert.That(features.Width, Is.InRange(2 * 64, 2 * 64 + 700));
        Assert.That(features.Height, Is.InRange(2 * 64, 2 * 64 + 200));
        Assert.That(result.Out, Does.Contain("(None, 8, 8, 4)").And.Contain("(None, 2, 2, 6)"));
        foreach (var file in files) Assert.DoesNotThrow(() => Image.Identify(Path.Combine(outDir, file!)), file!);
    }

    // The first conv reads RGB: its kernels are colour tiles; the second reads 4 channels: per input channel; both say so.
    [Test]
    public void KernelGrids_SayWhichViewTheyDraw()
    {
        string model = SaveEngineModel();
        string outDir = Path.Combine(_dir, "out");
        var result = CliHarness.Run<VisualizeCommand>("--model", model, WriteImage(8, 8, 3), "--layer", "conv_a", "--layer", "conv_b", "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        using var rgb = Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(Path.Combine(outDir, "01-conv_a-kernels.png"));
        Assert.That(rgb.Width, Is.GreaterThanOrEqualTo(2 * 48), "4 filters in a 2×2 grid of 48-pixel tiles");
        Assert.That(Directory.GetFiles(outDir), Has.Length.EqualTo(4));
    }

    [Test]
    public void UnknownLayer_ExitsWith1_ListingTheLayers()
    {
        var result = CliHarness.Run<VisualizeCommand>("--model", SaveEngineModel(), WriteImage(8, 8, 3), "--layer", "conv_z", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("'conv_z'").And.Contain("pixels, conv_a, pool, conv_b, flat, probs"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "out")), Is.False);
    }

    [Test]
    public void ImageOverPixelLimit_ExitsWith1_NamingTheFile()
    {
        string image = WriteImage(8, 8, 3);
        var result = CliHarness.Run<VisualizeCommand>("--model", SaveEngineModel(), image, "--max-pixels", "63", "--out", Path.Combine(_dir, "out"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain(image).And.Contain("limit of 63"));
    }

    // An ONNX file is rebuilt as engine layers named after its nodes; its conv kernels are drawn too.
    [Test]
    public void OnnxModel_IsVisualizedThroughItsEngineLayers()
    {
        string onnx = Path.Combine(_dir, "conv.onnx");
        File.WriteAllBytes(onnx, new OnnxTestModel().InputWithBatch("X", 0, 3, 5, 5).Random("W", 1, 2, 3, 3, 3).Random("B", 2, 2)
            .Node("Conv", ["X", "W", "B"], ["c"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", ["c"], ["Y"]).Output("Y").Bytes());
        string outDir = Path.Combine(_dir, "out");
        var result = CliHarness.Run<VisualizeCommand>("--model", onnx, WriteImage(5, 5, 3), "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(Directory.GetFiles(outDir, "*-kernels.png"), Has.Length.EqualTo(1));
        Assert.That(result.Error, Does.Contain("Onnx model"));

        var summary = CliHarness.Run<SummaryCommand>("--model", onnx);
        Assert.That(summary.ExitCode, Is.EqualTo(0), summary.Error);
        Assert.That(summary.Out, Does.Contain("Layer (type)").And.Contain("(None, 5, 5, 2)").And.Contain("Total params: 56"));
    }

    // A Keras to_json() config with .npy input: the Dense output is drawn as a strip.
    [Test]
    public void KerasJson_WithNpyInput_DrawsTheDenseOutput_AndSummaryPrintsKerasTable()
    {
        string json = Path.Combine(_dir, "tiny.json");
        File.WriteAllText(json, ModelFormatsTests.KerasJson);
        string npy = Path.Combine(_dir, "x.npy");
        NpyFile.Write(npy, [0.5f, -1.25f, 2f, 0.75f], [4]);
        string outDir = Path.Combine(_dir, "out");
        var result = CliHarness.Run<VisualizeCommand>("--model", json, npy, "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(Directory.GetFiles(outDir).Select(Path.GetFileName), Is.EqualTo(new[] { "01-head.png" }));
        Assert.That(result.Error, Does.Contain("random initialisation"));

        var summary = CliHarness.Run<SummaryCommand>("--model", json);
        Assert.That(summary.ExitCode, Is.EqualTo(0), summary.Error);
        Assert.That(summary.Out, Does.StartWith("Model: \"tiny\"").And.Contain("head (Dense)").And.Contain("Total params: 15"));
    }

    // The shared loader reads Keras 3 archives and TensorFlow.js Layers models (the fixtures Keras 3 and tfjs 4.22 wrote):
    // visualize and summary take them with no code of their own.
    [TestCase("keras3/sequential_cnn.keras")]
    [TestCase("tfjs/models/sequential_cnn/model.json")]
    public void Keras3AndTfjsModels_AreVisualizedThroughTheSharedLoader(string fixture)
    {
        string model = Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);
        string outDir = Path.Combine(_dir, "out");
        var result = CliHarness.Run<VisualizeCommand>("--model", model, WriteImage(9, 9, 3), "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(Directory.GetFiles(outDir, "*-kernels.png"), Has.Length.EqualTo(2), "two Conv2D layers");
        Assert.That(result.Out, Does.Contain("(None, 9, 9, 4)"));
        var summary = CliHarness.Run<SummaryCommand>("--model", model);
        Assert.That(summary.ExitCode, Is.EqualTo(0), summary.Error);
        Assert.That(summary.Out, Does.Contain("Total params: 513"));
    }

    // MobileNet's block (tfjs fixture): DepthwiseConv2D and SeparableConv2D draw their depthwise kernels too.
    [Test]
    public void DepthwiseAndSeparableConvs_DrawTheirDepthwiseKernels()
    {
        string model = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tfjs", "models", "mobilenet_block", "model.json");
        string outDir = Path.Combine(_dir, "out");
        var result = CliHarness.Run<VisualizeCommand>("--model", model, WriteImage(10, 10, 3), "--out", outDir);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        var kernels = Directory.GetFiles(outDir, "*-kernels.png").Select(Path.GetFileName).ToList();
        Assert.That(kernels, Has.Some.Contains("DepthwiseConv2D").And.Some.Contains("SeparableConv2D"));
    }

    [Test]
    public void Summary_OfAMissingModel_ExitsWith1_NamingIt()
    {
        var result = CliHarness.Run<SummaryCommand>("--model", Path.Combine(_dir, "absent.h5"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("absent.h5"));
    }
}
