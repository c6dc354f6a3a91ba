using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Cli;
using NUnit.Framework;
using SixLabors.ImageSharp;

namespace ConvEngine.Tests.Augment;

/// <summary>`convengine train --augment …` and `convengine augment`, in-process on tiny synthetic images.</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class AugmentCliTests
{
    private SyntheticImages _images = null!;
    private string _data = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _images = new SyntheticImages();
        _data = _images.TrainValid(["bright", "dark"]);
    }

    [OneTimeTearDown] public void TearDown() => _images.Dispose();

    [Test]
    public void Train_AugmentInTheModel_SavesTheLayers_AndTheSavedModelEvaluatesAsValidatedLast()
    {
        string outDir = _images.PathOf("aug-model");
        var run = CliHarness.Run<TrainCommand>("--data", _data, "--epochs", "1", "--batch-size", "8", "--out", outDir,
            "--augment", "preprocessing.RandomFlip('horizontal'), RandomContrast(factor=0.5), RandomRotation((-0.05, 0.05), fill_mode='nearest')");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);
        Assert.That(run.Out, Does.Contain("Augmentation in the model after its input, active in training only"));
        Assert.That(run.Out, Does.Contain("(RandomFlip").And.Contain("random_rotation"), "the summary lists the layers");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "model", "config.json")))!.ToJsonString();
        Assert.That(config, Does.Contain("\"RandomFlip\"").And.Contain("\"RandomContrast\"").And.Contain("\"fill_mode\":\"nearest\""));

        // Identity at inference: evaluating the saved model gives the last epoch's validation loss.
        var history = HistoryCsv.Read(Path.Combine(outDir, "history.csv"));
        var evaluate = CliHarness.Run<EvaluateCommand>("--model", outDir, "--data", _data, "--format", "json");
        Assert.That(evaluate.ExitCode, Is.EqualTo(0), evaluate.Error);
        double loss = JsonNode.Parse(evaluate.Out)!["loss"]!.GetValue<double>();
        Assert.That(loss, Is.EqualTo(history.Column("val_loss")[^1]).Within(1e-6));
    }

    [Test]
    public void Train_AugmentInThePipeline_WithAJsonModel_LeavesTheModelWithout()
    {
        string outDir = _images.PathOf("aug-pipeline");
        string layers = _images.PathOf("layers.json");
        File.WriteAllText(layers, """[{"class_name": "RandomFlip", "config": {"mode": "horizontal"}}, {"class_name": "RandomTranslation", "config": {"height_factor": 0.1, "width_factor": 0.1}}]""");
        var run = CliHarness.Run<TrainCommand>("--model", _images.TinyConfig(1, "sigmoid"), "--data", _data, "--epochs", "1", "--batch-size", "8",
            "--out", outDir, "--augment", layers, "--augment-in", "pipeline");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);
        Assert.That(run.Out, Does.Contain("Augmentation in the data pipeline").And.Contain("RandomTranslation(height_factor=0.1, width_factor=0.1)"));
        Assert.That(File.ReadAllText(Path.Combine(outDir, "model", "config.json")), Does.Not.Contain("Random"));
    }

    private static IEnumerable<TestCaseData> BadAugment()
    {
        yield return new TestCaseData("RandomFlop('horizontal')", new[] { "unknown layer 'RandomFlop'", "RandomFlip, RandomContrast" });
        yield return new TestCaseData("RandomRotation(0.2, fil_mode='constant')", new[] { "RandomRotation has no argument 'fil_mode'", "factor, fill_mode, interpolation" });
        yield return new TestCaseData("RandomContrast(1.5)", new[] { "RandomContrast", "factor 1.5", "outside Keras's range" });
        yield return new TestCaseData("RandomTranslation(0.1, 2)", new[] { "RandomTranslation", "width_factor 2", "[-1, 1]" });
        yield return new TestCaseData("RandomCrop(20, 20)", new[] { "RandomCrop", "20x20", "12x12" });
        yield return new TestCaseData("RandomWidth(0.15)", new[] { "RandomWidth changes the image size in training", "flattens its feature maps", "global pooling" });
        yield return new TestCaseData("RandomFlip('horizontal'", new[] { "')' is missing" });
        yield return new TestCaseData("RandomFlip(mode='vertical', 'x')", new[] { "positional argument follows a keyword argument" });
    }

    [TestCaseSource(nameof(BadAugment))]
    public void Train_BadAugment_FailsBeforeTraining_NamingTheLayerAndValue(string augment, string[] expected)
    {
        var run = CliHarness.Run<TrainCommand>("--data", _data, "--epochs", "1", "--batch-size", "8", "--out", _images.PathOf("bad-aug"), "--augment", augment);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Out);
        foreach (var part in expected) Assert.That(run.Error, Does.Contain(part));
        Assert.That(run.Out, Does.Not.Contain("Epoch 1/"));
    }

    /// <summary>
    /// With --base a bad layer is reported before the base is built (loading a pretrained base takes seconds): here the
    /// base's weights file is missing too, and the layer is what the error names.
    /// </summary>
    [Test]
    public void TrainBase_BadAugment_FailsBeforeTheBaseIsBuilt()
    {
        var run = CliHarness.Run<TrainCommand>("--base", "vgg16", "--base-weights", _images.PathOf("no-such-weights.h5"), "--image-size", "32",
            "--data", _data, "--epochs", "1", "--batch-size", "8", "--head", "dense:8",
            "--augment", "RandomRotation(0.2, fil_mode='constant')", "--out", _images.PathOf("bad-base-aug"));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Out);
        Assert.That(run.Error, Does.Contain("RandomRotation has no argument 'fil_mode'").And.Not.Contain("no-such-weights"));
        Assert.That(run.Out, Does.Not.Contain("Base vgg16").And.Not.Contain("Epoch 1/"));
    }

    [Test]
    public void Augment_ImageAndNpy_WritesGridsAndOutputs_AFixedDrawMatchesTheOp()
    {
        string image = Path.Combine(_data, "train", "bright", "img-000.png");
        var batch = Enumerable.Range(0, 2 * 5 * 7 * 3).Select(i => (i % 17) / 16f).ToArray();
        string npy = _images.PathOf("batch.npy");
        NpyFile.Write(npy, batch, [2, 5, 7, 3]);
        string outDir = _images.PathOf("augment-out"), saved = _images.PathOf("augment-npy");
        var run = CliHarness.Run<AugmentCommand>(image, npy, "--layers", "RandomRotation((0.125, 0.125), fill_mode='constant')", "--samples", "4",
            "--seed", "5", "--out", outDir, "--save-outputs", saved);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);

        // The image: 4 samples in a 2x2 grid of 12x12 tiles, 2 pixels apart; the batch: 2 rows of 4 tiles of 7x5.
        using (var png = Image.Load(Path.Combine(outDir, "img-000.png"))) Assert.That((png.Width, png.Height), Is.EqualTo((2 * 12 + 3 * 2, 2 * 12 + 3 * 2)));
        using (var png = Image.Load(Path.Combine(outDir, "batch.png"))) Assert.That((png.Width, png.Height), Is.EqualTo((4 * 7 + 5 * 2, 2 * 5 + 3 * 2)));
        var outputs = NpyFile.Read(Path.Combine(saved, "batch.npy"));
        Assert.That(outputs.Shape, Is.EqualTo(new[] { 8, 5, 7, 3 }), "(K·N, H, W, C)");

        // (0.125, 0.125) fixes the angle at π/4, so every sample is the same rotation, number for number.
        var cpu = new ConvEngine.Kernels.Cpu.CpuBackend();
        using var input = Tensor.FromArray(cpu, batch, 2, 5, 7, 3);
        var row = new float[8];
        ConvEngine.Layers.TransformMatrix.Rotation((float)(0.125 * 2 * Math.PI), 5, 7, row);
        using var expected = Ops.ImageTransform(input, row, FillMode.Constant, InterpolationMode.Bilinear);
        var once = expected.ToArray();
        for (int k = 0; k < 4; k++) Assert.That(outputs.Data.AsSpan(k * once.Length, once.Length).ToArray(), Is.EqualTo(once), $"sample {k}");
        Assert.That(NpyFile.Read(Path.Combine(saved, "img-000.npy")).Shape, Is.EqualTo(new[] { 4, 12, 12, 1 }));
    }

    [Test]
    public void Augment_DifferentSeeds_DifferentSamples_SameSeed_Same()
    {
        string image = Path.Combine(_data, "train", "dark", "img-001.png");
        float[] Samples(string seed, string dir)
        {
            var run = CliHarness.Run<AugmentCommand>(image, "--layers", "RandomFlip(), RandomRotation(0.3)", "--samples", "3", "--seed", seed,
                "--out", _images.PathOf(dir), "--save-outputs", _images.PathOf(dir));
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
            return NpyFile.Read(Path.Combine(_images.PathOf(dir), "img-001.npy")).Data;
        }
        Assert.That(Samples("7", "s7a"), Is.EqualTo(Samples("7", "s7b")));
        Assert.That(Samples("7", "s7c"), Is.Not.EqualTo(Samples("8", "s8")));
    }

    [Test]
    public void Augment_BadInputs_AreRefusedNamingThem()
    {
        string npy = _images.PathOf("flat.npy");
        NpyFile.Write(npy, new float[10], [10]);
        var wrongRank = CliHarness.Run<AugmentCommand>(npy, "--layers", "RandomFlip()", "--out", _images.PathOf("bad"));
        Assert.That(wrongRank.ExitCode, Is.EqualTo(1));
        Assert.That(wrongRank.Error, Does.Contain("flat.npy").And.Contain("(10,)").And.Contain("(N, H, W, C)"));
        var missing = CliHarness.Run<AugmentCommand>(_images.PathOf("nope.png"), "--layers", "RandomFlip()", "--out", _images.PathOf("bad"));
        Assert.That(missing.ExitCode, Is.EqualTo(1));
        Assert.That(missing.Error, Does.Contain("nope.png"));
        var noLayers = CliHarness.Run<AugmentCommand>(npy, "--out", _images.PathOf("bad"));
        Assert.That(noLayers.ExitCode, Is.Not.EqualTo(0));
    }

    [Test]
    public void TrainBase_WithAugmentation_SkipsTheFeatureCache_AndSaysSo()
    {
        string cache = _images.PathOf("aug-cache"), outDir = _images.PathOf("aug-base");
        var run = CliHarness.Run<TrainCommand>("--base", "vgg16", "--image-size", "32", "--data", _data, "--epochs", "1", "--batch-size", "8",
            "--head", "dense:8", "--feature-cache", cache, "--augment", "RandomFlip('horizontal'), RandomContrast(0.5)", "--out", outDir);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error + run.Out);
        Assert.That(run.Out, Does.Contain("the feature cache is not used").And.Contain($"--feature-cache {cache} is ignored").And.Contain("base runs on every batch"));
        Assert.That(run.Out, Does.Not.Contain("computed once per image"));
        Assert.That(Directory.Exists(cache), Is.False, "no features were cached");
        Assert.That(File.ReadAllText(Path.Combine(outDir, "model", "config.json")), Does.Contain("\"RandomFlip\""));
    }
}
