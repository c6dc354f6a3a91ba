using System.Security.Cryptography;
using ConvEngine.Cli.Commands;
using ConvEngine.Import.Applications;
using ConvEngine.Layers;
using ConvEngine.Serialization;
using ConvEngine.Tests.Import;
using NUnit.Framework;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Tests.Cli;

/// <summary>`convengine weights list` and `convengine weights convert`, run in-process through Spectre's CommandApp in temp folders.</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class WeightsCommandTests
{
    private TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder("convengine-weights-cli-");
    [TearDown] public void TearDown() => _temp.Dispose();

    private sealed record RunResult(int ExitCode, string Out, string Error);

    private static RunResult Run(params string[] args)
    {
        var error = new StringWriter();
        var output = new StringWriter();
        var previousError = Console.Error;
        var previousConsole = AnsiConsole.Console;
        Console.SetError(error);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No });
        console.Profile.Width = 400; // no wrapping inside what the tests look for
        AnsiConsole.Console = console;
        try
        {
            var app = new CommandApp();
            app.Configure(c =>
            {
                c.ConfigureConsole(console);
                WeightsCommands.Configure(c);
            });
            int code = app.Run(args);
            return new RunResult(code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetError(previousError);
            AnsiConsole.Console = previousConsole;
        }
    }

    [Test]
    public void List_ShowsEveryManifestEntry_WhatIsPresent_AndConvertedFiles()
    {
        string dir = Directory.CreateDirectory(_temp.File("weights")).FullName;
        File.WriteAllBytes(Path.Combine(dir, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"), new byte[10]);
        SafeTensors.Write(Path.Combine(dir, "converted.safetensors"), [("a/kernel", [2, 3], new float[6]), ("a/bias", [3], new float[3])],
            new Dictionary<string, string> { ["model"] = "vgg16" });

        var result = Run("weights", "list", "--dir", dir);

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        foreach (var entry in WeightsManifest.BuiltIn.Entries)
            Assert.That(result.Out, Does.Contain(entry.Name));
        Assert.That(result.Out, Does.Contain("built-in"));
        Assert.That(result.Out, Does.Contain("present, but 10 bytes, not 58,889,256"));
        Assert.That(result.Out, Does.Contain("caffe, BGR 0-255, mean [103.939, 116.779, 123.68]"));
        Assert.That(result.Out, Does.Contain("converted.safetensors").And.Contain("2 tensors, 9 values, model 'vgg16'"));
    }

    [Test]
    public void List_WithALocalManifest_ReadsIt()
    {
        string dir = Directory.CreateDirectory(_temp.File("weights")).FullName;
        File.WriteAllText(Path.Combine(dir, "manifest.json"), """{"entries": [{"name": "only-entry", "file": "x.h5", "size_bytes": 3}]}""");
        File.WriteAllBytes(Path.Combine(dir, "x.h5"), [1, 2, 3]);

        var result = Run("weights", "list", "--dir", dir);

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Out, Does.Contain("only-entry").And.Contain("present: ").And.Not.Contain("keras-vgg16-notop"));
    }

    [Test]
    public void Convert_Vgg16NotopLayout_WritesEngineSafetensorsWithEveryWeight()
    {
        string output = _temp.File("out/vgg16-notop.safetensors");

        var result = Run("weights", "convert", Vgg16NotopFixture.Path, "--arch", "vgg16", "-o", output, "--dir", _temp.Path);

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Out, Does.Contain("not verified").And.Contain("Loaded 13 layers").And.Contain("14,714,688 values"));
        using (var file = SafeTensors.Open(output))
        {
            Assert.That(file.Tensors, Has.Count.EqualTo(26));
            var last = Vgg16NotopFixture.Layers.Last(l => l.Weights.Length > 0);
            Assert.That(file[$"{last.Name}/kernel"].Shape, Is.EqualTo(new[] { 3, 3, 512, 512 }));
            Assert.That(file.Read($"{last.Name}/kernel"), Is.EqualTo(last.Weights[0].Values));
            Assert.That(file.Read("block1_conv1/bias"), Is.EqualTo(Vgg16NotopFixture.Layers[1].Weights[1].Values));
        }
        // The converted file is what the application builder takes as weights.
        using var model = Vgg16.Create(inputShape: [32, 32, 3], weights: output);
        Assert.That(((Conv2D)model.GetLayer("block3_conv2")).Kernel!.ToArray(), Is.EqualTo(Vgg16NotopFixture.Layers.Single(l => l.Name == "block3_conv2").Weights[0].Values));
    }

    [Test]
    public void Convert_AFileOfTheKnownSizeWithAnotherChecksum_IsAnError_AndWritesNothing()
    {
        // 58,889,256 bytes is the size of the Keras VGG16 notop file (keras-semantics.md C); these are zeros.
        string input = _temp.File("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5");
        using (var stream = File.Create(input)) stream.SetLength(58_889_256);
        string output = _temp.File("out.safetensors");

        var result = Run("weights", "convert", input, "--arch", "vgg16", "-o", output, "--dir", _temp.Path);

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("keras-vgg16-notop").And.Contain("not 6d6bbae143d832006294945121d1f1fc").And.Contain(input));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Convert_AFullModelFileOfAKnownSizeAndChecksum_IsVerified_AndBuiltFromItsConfig()
    {
        string input = _temp.File("tiny.h5");
        var kernel = KerasTestFiles.Random("head/kernel:0", [4, 2], 30);
        var bias = KerasTestFiles.Random("head/bias:0", [2], 31);
        KerasTestFiles.Write(input, [new TestLayer("head", kernel, bias)], modelConfig: """
            {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
              {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
              {"class_name": "Dense", "config": {"name": "head", "units": 2, "activation": "softmax"}}]}}
            """);
        string md5 = Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(input)));
        string manifest = _temp.File("manifest.json");
        File.WriteAllText(manifest, $$"""{"entries": [{"name": "tiny-model", "file": "tiny.h5", "size_bytes": {{new FileInfo(input).Length}}, "md5": "{{md5}}", "checksum_source": "test"}]}""");
        string output = _temp.File("tiny.safetensors");

        var result = Run("weights", "convert", input, "-o", output, "--manifest", manifest);

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Out, Does.Contain("verified as 'tiny-model'").And.Contain("(keras)"));
        using var file = SafeTensors.Open(output);
        Assert.That(file.Read("head/kernel"), Is.EqualTo(kernel.Values));
        Assert.That(file.Read("head/bias"), Is.EqualTo(bias.Values));
    }

    [Test]
    public void Convert_WeightsOnlyFileWithoutArch_AsksForTheArchitecture()
    {
        var result = Run("weights", "convert", KerasTestFiles.MnistCnnWeights, "-o", _temp.File("x.safetensors"), "--dir", _temp.Path);

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("weights only").And.Contain("--arch"));
    }

    [Test]
    public void Convert_AFileOfAnotherArchitecture_SaysWhatDoesNotMatch()
    {
        var result = Run("weights", "convert", KerasTestFiles.MnistCnnWeights, "--arch", "vgg16", "-o", _temp.File("x.safetensors"), "--dir", _temp.Path);

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("4 layers with weights").And.Contain("'vgg16' has 13"));
    }

    [Test]
    public void Convert_OutputMustBeSafetensors()
    {
        var result = Run("weights", "convert", KerasTestFiles.MnistCnnWeights, "--arch", "vgg16", "-o", _temp.File("x.bin"));

        Assert.That(result.ExitCode, Is.Not.Zero);
        Assert.That(result.Out + result.Error, Does.Contain(".safetensors"));
    }
}
