using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ConvEngine.Import.Applications;
using ConvEngine.Import.Keras;
using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>The application builders (VGG16, InceptionV1) and the manifest of known pretrained weights.</summary>
public class ApplicationsTests
{
    /// <summary>keras-semantics.md C: five blocks of 3×3 same convs (64, 128, 256, 512, 512 filters; 2, 2, 3, 3, 3 convs).</summary>
    private static readonly (int Filters, int Convs)[] VggBlocks = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)];

    /// <summary>Σ over the conv table of 3·3·in·out + out, counted here from the architecture, not from the builder.</summary>
    private static long VggConvParameters()
    {
        long total = 0;
        int channels = 3;
        foreach (var (filters, convs) in VggBlocks)
            for (int c = 0; c < convs; c++)
            {
                total += 9L * channels * filters + filters;
                channels = filters;
            }
        return total;
    }

    [Test]
    public void Vgg16_NoTop_At128x128_Outputs4x4x512_With14714688Parameters()
    {
        // keras-semantics.md C: "At 128×128 input the base outputs 4×4×512"; "14,714,688 parameters".
        using var model = Vgg16.Create(includeTop: false, inputShape: [128, 128, 3]);

        Assert.That(model.OutputShape, Is.EqualTo(new[] { 4, 4, 512 }));
        Assert.That(VggConvParameters(), Is.EqualTo(14_714_688));
        Assert.That(model.TrainableParameterCount, Is.EqualTo(14_714_688));
        Assert.That(model.NonTrainableParameterCount, Is.Zero);
    }

    [Test]
    public void Vgg16_HasKerasLayerNames_Block1Conv1ToBlock5Pool_And3x3SameReluConvs()
    {
        using var model = Vgg16.Create(includeTop: false, inputShape: [64, 64, 3]);

        var expected = new List<string> { "input_1" };
        for (int b = 0; b < VggBlocks.Length; b++)
        {
            for (int c = 0; c < VggBlocks[b].Convs; c++) expected.Add($"block{b + 1}_conv{c + 1}");
            expected.Add($"block{b + 1}_pool");
        }
        Assert.That(model.Name, Is.EqualTo("vgg16"));
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(expected));
        foreach (var conv in model.Layers.OfType<Conv2D>())
            Assert.That((conv.KernelSize, conv.Strides, conv.Padding.ToString(), conv.Activation.Name), Is.EqualTo((new Size2D(3, 3), new Size2D(1, 1), "same", "relu")), conv.Name);
        foreach (var pool in model.Layers.OfType<MaxPool2D>())
            Assert.That((pool.PoolSize, pool.Strides), Is.EqualTo((new Size2D(2, 2), new Size2D(2, 2))), pool.Name);
        Assert.That(model.Layers.OfType<Conv2D>().Count(), Is.EqualTo(13));
    }

    [Test]
    public void Vgg16_WithTop_AddsFc1Fc2AndPredictions()
    {
        // Flatten 7·7·512 = 25,088 → fc1 4096 → fc2 4096 → predictions 1000: the 138,357,544 weights of Keras's VGG16.
        using var model = Vgg16.Create(includeTop: true);

        Assert.That(model.Layers.TakeLast(4).Select(l => l.Name), Is.EqualTo(new[] { "flatten", "fc1", "fc2", "predictions" }));
        long top = (25_088L * 4096 + 4096) + (4096L * 4096 + 4096) + (4096L * 1000 + 1000);
        Assert.That(model.TrainableParameterCount, Is.EqualTo(VggConvParameters() + top).And.EqualTo(138_357_544));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 1000 }));
    }

    [Test]
    public void Vgg16_Below32Pixels_IsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => Vgg16.Create(inputShape: [16, 40, 3]))!;
        Assert.That(e.Message, Does.Contain("32").And.Contain("16×40"));
    }

    [Test]
    public void Vgg16_WithAKerasNotopLayoutFile_LoadsEveryKernelAndBiasByName()
    {
        // A full-size file in the Keras 1 layout of vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 (keras-semantics.md C).
        using var model = Vgg16.Create(includeTop: false, inputShape: [32, 32, 3], weights: Vgg16NotopFixture.Path);

        foreach (var layer in Vgg16NotopFixture.Layers.Where(l => l.Weights.Length > 0))
        {
            var conv = (Conv2D)model.GetLayer(layer.Name);
            Assert.That(conv.Kernel!.Shape.ToArray(), Is.EqualTo(layer.Weights[0].Shape), layer.Name);
            Assert.That(conv.Kernel.ToArray(), Is.EqualTo(layer.Weights[0].Values), layer.Name);
            Assert.That(conv.Bias!.ToArray(), Is.EqualTo(layer.Weights[1].Values), layer.Name);
        }
    }

    // ---- InceptionV1 (keras-semantics.md D) ----

    private static bool EngineHasInceptionLayers => InceptionV1.RequiredLayerClasses.All(LayerRegistry.ClassNames.Contains);

    [Test]
    public void InceptionV1_WithoutBatchNormalizationOrConcatenate_SaysPreciselyWhatIsMissing()
    {
        Assume.That(EngineHasInceptionLayers, Is.False, "the engine has both layers; the builder runs (see the next test)");

        var e = Assert.Throws<NotSupportedException>(() => InceptionV1.Create())!;

        foreach (var missing in InceptionV1.RequiredLayerClasses.Except(LayerRegistry.ClassNames))
            Assert.That(e.Message, Does.Contain(missing));
    }

    [Test]
    public void InceptionV1_At224_GivesSlimModuleWidths_And1024Features()
    {
        Assume.That(EngineHasInceptionLayers, Is.True, "the engine has no BatchNormalization or Concatenate layer yet");

        using var model = InceptionV1.Create(inputShape: [224, 224, 3]);

        // keras-semantics.md D: output channels 3b 256, 3c 480, 4b 512, 4c 512, 4d 512, 4e 528, 4f 832, 5b 832, 5c 1024;
        // SAME everywhere: 224 → 112 (conv /2) → 56 (pool /2) → 28 (pool /2) for Mixed_3x → 14 for Mixed_4x → 7 for Mixed_5x.
        var widths = new[] { ("Mixed_3b", 28, 256), ("Mixed_3c", 28, 480), ("Mixed_4b", 14, 512), ("Mixed_4c", 14, 512), ("Mixed_4d", 14, 512),
            ("Mixed_4e", 14, 528), ("Mixed_4f", 14, 832), ("Mixed_5b", 7, 832), ("Mixed_5c", 7, 1024) };
        foreach (var (name, size, channels) in widths)
            Assert.That(model.GetLayer(name).OutputShape, Is.EqualTo(new[] { size, size, channels }), name);
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 1024 }));
        Assert.That(model.Layers.OfType<Conv2D>().Count(), Is.EqualTo(3 + 9 * 6), "three stem convs and six per module");
        Assert.That(model.Layers.OfType<Conv2D>().All(c => !c.UseBias), Is.True, "BatchNorm's beta replaces the bias");
    }

    // ---- the manifest ----

    [Test]
    public void Manifest_Vgg16Notop_HasTheSizeChecksumAndParameterCountOfTheReference()
    {
        // keras-semantics.md C: "58,889,256 bytes, md5 6d6bbae143d832006294945121d1f1fc; 14,714,688 parameters".
        string reference = File.ReadAllText(KerasTestFiles.SharedFile("reference/keras-semantics.md"));
        var m = Regex.Match(reference, @"([\d,]+) bytes, md5 ([0-9a-f]{32}); ([\d,]+) parameters");
        Assert.That(m.Success, Is.True, "keras-semantics.md C states the notop file's size, md5 and parameter count");

        var entry = WeightsManifest.BuiltIn["keras-vgg16-notop"];

        Assert.That(entry.SizeBytes, Is.EqualTo(long.Parse(m.Groups[1].Value.Replace(",", ""))));
        Assert.That(entry.Md5, Is.EqualTo(m.Groups[2].Value));
        Assert.That(entry.Parameters, Is.EqualTo(long.Parse(m.Groups[3].Value.Replace(",", ""))));
        Assert.That(entry.File, Is.EqualTo("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"));
        Assert.That(entry.Preprocessing!.Mode, Is.EqualTo("caffe"));
        Assert.That(entry.Preprocessing.Mean, Is.EqualTo(new[] { 103.939, 116.779, 123.68 }), "keras-semantics.md C: BGR means");
    }

    [Test]
    public void Manifest_ResNet18_SizeAndSha256MatchTheRestoredNuGetPackage()
    {
        var entry = WeightsManifest.BuiltIn["nuget-resnet18"];
        string? path = entry.NuGetCachePath();
        Assume.That(path is not null && File.Exists(path), $"the NuGet package is not restored here ({path})");

        using var stream = File.OpenRead(path!);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));

        Assert.That(new FileInfo(path!).Length, Is.EqualTo(entry.SizeBytes));
        Assert.That(sha256, Is.EqualTo(entry.Sha256));
    }

    [Test]
    public void Manifest_EveryKnownChecksumSaysWhereItCameFrom()
    {
        foreach (var entry in WeightsManifest.BuiltIn.Entries.Where(e => e.Md5 is not null || e.Sha256 is not null))
            Assert.That(entry.ChecksumSource, Is.Not.Null.And.Not.Empty, entry.Name);
        Assert.That(WeightsManifest.BuiltIn["onnx-vgg16-7"].Sha256, Is.Null, "the .onnx file's checksum is not published; only its archive's");
    }

    [Test]
    public void ManifestCheck_RecognisesAFileBySize_ThenVerifiesOrRejectsItsChecksum()
    {
        using var temp = new TempFolder("convengine-manifest-");
        byte[] content = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        string file = temp.File("model.h5");
        File.WriteAllBytes(file, content);
        string md5 = Convert.ToHexStringLower(MD5.HashData(content));
        string manifestJson(string checksum) => $$"""{"entries": [{"name": "thing", "file": "thing.h5", "size_bytes": 1000, "md5": "{{checksum}}", "checksum_source": "test"}]}""";

        var good = WeightsManifest.Parse(manifestJson(md5), "test").Check(file);
        var bad = WeightsManifest.Parse(manifestJson(new string('0', 32)), "test").Check(file);
        File.WriteAllBytes(file, content[..999]);
        var unknown = WeightsManifest.Parse(manifestJson(md5), "test").Check(file);

        Assert.That((good.Status, good.Entry?.Name, good.Md5), Is.EqualTo((WeightsCheckStatus.Verified, "thing", md5)));
        Assert.That(bad.Status, Is.EqualTo(WeightsCheckStatus.ChecksumMismatch));
        Assert.That(bad.Message, Does.Contain(md5).And.Contain("'thing'").And.Contain("corrupt"));
        Assert.That(unknown.Status, Is.EqualTo(WeightsCheckStatus.Unknown));
    }

    [Test]
    public void ManifestParse_RejectsAMalformedChecksum()
    {
        var e = Assert.Throws<FormatException>(() => WeightsManifest.Parse("""{"entries": [{"name": "x", "file": "x.h5", "md5": "ABC"}]}""", "m.json"))!;
        Assert.That(e.Message, Does.Contain("m.json").And.Contain("'x'").And.Contain("md5"));
    }
}
