using ConvEngine.Data.Images;
using ConvEngine.Import.Applications;
using ConvEngine.Import.Onnx;
using ConvEngine.Import.Transfer;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Import;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;

namespace ConvEngine.Tests.Transfer;

/// <summary>
/// ONNX graphs turned into engine layers (OnnxToModel) must compute what ONNX Runtime 1.31.1 computes on the same
/// file: small graphs with ResNet's ingredients (CNTK's asymmetric pads, BatchNorm folded or kept, residual Add,
/// global pooling, Gemm after a 4-D Flatten), then the real ImageNet ResNet18 against our ONNX importer on a photo.
/// </summary>
[NonParallelizable]
public partial class OnnxToModelTests
{
    private CpuBackend _cpu = null!;
    private readonly List<string> _files = [];

    [OneTimeSetUp] public void Open() => _cpu = new CpuBackend(threads: 2);

    [OneTimeTearDown]
    public void Close()
    {
        _cpu.Dispose();
        foreach (var f in _files) File.Delete(f);
    }

    private string Save(OnnxTestModel m)
    {
        string path = m.Save();
        _files.Add(path);
        return path;
    }

    /// <summary>(N, C, H, W) → (N, H, W, C).</summary>
    private static float[] ToNhwc(float[] nchw, int n, int c, int h, int w)
    {
        var nhwc = new float[nchw.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < h * w; p++)
                    nhwc[(b * h * w + p) * c + ch] = nchw[(b * c + ch) * h * w + p];
        return nhwc;
    }

    /// <summary>Converts the model, runs it and ONNX Runtime on the same random input; outputs must agree within 1e-5 + 1e-4·|ORT|.</summary>
    private Model MatchesOnnxRuntime(OnnxTestModel m, int[] nchw, OnnxToModelOptions? options = null)
    {
        string path = Save(m);
        var data = OnnxTestModel.RandomValues(nchw.Aggregate(1, (p, d) => p * d), 7, -2f, 2f);
        float[] expected;
        int[] expectedDims;
        using (var session = new InferenceSession(path))
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("X", new DenseTensor<float>(data, nchw))]);
            var tensor = results.First().AsTensor<float>();
            expected = tensor.ToArray();
            expectedDims = tensor.Dimensions.ToArray();
        }
        var model = OnnxToModel.Convert(path, options, _cpu, seed: 1);
        var input = nchw.Length == 4 ? ToNhwc(data, nchw[0], nchw[1], nchw[2], nchw[3]) : data;
        var got = model.Predict(input, batchSize: nchw[0]);
        if (expectedDims.Length == 4 && expectedDims[2] * expectedDims[3] > 1)
            expected = ToNhwc(expected, expectedDims[0], expectedDims[1], expectedDims[2], expectedDims[3]);
        Assert.That(got, Has.Length.EqualTo(expected.Length), "output length");
        for (int i = 0; i < got.Length; i++)
            if (!(Math.Abs(got[i] - expected[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i])))
                Assert.Fail($"element {i}: engine model {got[i]}, ONNX Runtime {expected[i]}");
        return model;
    }

    /// <summary>
    /// A ResNet in miniature, as CNTK exports it: a stride-2 conv with pads [top, left, bottom, right] = [1, 1, 0, 0], BatchNorm,
    /// Relu, a 3×3/2 max pool with the same pads, a 3×3 "same" conv with BatchNorm, the residual Add, Relu, global average
    /// pooling, Flatten and a Gemm classifier (transB).
    /// </summary>
    private static OnnxTestModel MiniResNet()
    {
        var m = new OnnxTestModel().InputWithBatch("X", 0, 3, 9, 9)
            .Random("W1", 1, 4, 3, 3, 3).Random("W2", 2, 4, 4, 3, 3).Random("B2", 3, 4).Random("Wfc", 4, 5, 4).Random("Bfc", 5, 5);
        foreach (var (bn, seed) in new[] { ("bn1", 10), ("bn2", 20) })
            m.Random($"{bn}_gamma", seed, 4).Random($"{bn}_beta", seed + 1, 4).Random($"{bn}_mean", seed + 2, 4)
             .Floats($"{bn}_var", OnnxTestModel.RandomValues(4, seed + 3, 0.2f, 2f), 4);
        return m
            .Node("Conv", ["X", "W1"], ["c1"], ("pads", new long[] { 1, 1, 0, 0 }), ("strides", new long[] { 2, 2 }), ("kernel_shape", new long[] { 3, 3 }))
            .Node("BatchNormalization", ["c1", "bn1_gamma", "bn1_beta", "bn1_mean", "bn1_var"], ["b1"], ("epsilon", 1e-5f))
            .Node("Relu", ["b1"], ["r1"])
            .Node("MaxPool", ["r1"], ["p1"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 0, 0 }))
            .Node("Conv", ["p1", "W2", "B2"], ["c2"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("BatchNormalization", ["c2", "bn2_gamma", "bn2_beta", "bn2_mean", "bn2_var"], ["b2"], ("epsilon", 1e-5f))
            .Node("Add", ["b2", "p1"], ["s"])
            .Node("Relu", ["s"], ["r2"])
            .Node("GlobalAveragePool", ["r2"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "Wfc", "Bfc"], ["Y"], ("transB", 1L))
            .Output("Y");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void MiniResNet_BatchNormFoldedOrKept_MatchesOnnxRuntime(bool fold)
    {
        using var model = MatchesOnnxRuntime(MiniResNet(), [2, 3, 9, 9], new OnnxToModelOptions { FoldBatchNorm = fold });
        int batchNorms = model.Layers.Count(l => l is BatchNormalization);
        Assert.That(batchNorms, Is.EqualTo(fold ? 0 : 2), "folded BatchNorms disappear into the convs; kept ones are layers");
    }

    // TensorFlow's SAME for a 3×3/1 conv pads 1 on every side: that conv needs no extra layer; CNTK's [1,1,0,0] on a
    // stride-2 conv is not SAME (SAME would put the odd pixel after: [0,0,1,1]), so a ZeroPadding2D goes before a valid conv.
    [Test]
    public void Conversion_UsesSamePaddingWhenItIsTensorFlowsSplit_AndZeroPadding2DOtherwise()
    {
        using var model = OnnxToModel.Convert(Save(MiniResNet()), backend: _cpu);
        var convs = model.Layers.OfType<Conv2D>().ToList();
        Assert.That(convs.Select(c => c.Padding.ToString()), Is.EqualTo(new[] { "valid", "same" }));
        var pad = model.Layers.OfType<ZeroPadding2D>().Single();
        Assert.That((pad.Top, pad.Bottom, pad.Left, pad.Right), Is.EqualTo((1, 0, 1, 0)));
        Assert.That(model.Layers.OfType<GlobalAveragePooling2D>().Count(), Is.EqualTo(1));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 5 }));
    }

    // ONNX's Flatten of (N, C, H, W) orders features C, H, W; the engine's Flatten of (H, W, C) orders them H, W, C.
    // The Gemm after it must read the same features: its rows are reordered at conversion.
    [Test]
    public void FlattenOf4D_ThenGemm_ReordersTheWeightRows_AndMatchesOnnxRuntime() => MatchesOnnxRuntime(new OnnxTestModel()
            .InputWithBatch("X", 0, 3, 4, 5).Random("W", 21, 7, 60).Random("C", 22, 7)
            .Node("Flatten", ["X"], ["f"])
            .Node("Gemm", ["f", "W", "C"], ["Y"], ("transB", 1L), ("alpha", 0.5f), ("beta", 2f))
            .Output("Y"), [2, 3, 4, 5]).Dispose();

    [Test]
    public void AnOperatorWithoutAnEngineLayer_IsRefused_NamingTheNode()
    {
        string path = Save(new OnnxTestModel().Input("X", 1, 2, 4, 4)
            .Node("Relu", ["X"], ["r"]).Node("LpNormalization", ["r"], ["Y"]).Output("Y"));
        var e = Assert.Throws<OnnxUnsupportedException>(() => OnnxToModel.Convert(path, backend: _cpu).Dispose())!;
        Assert.That(e.OpType, Is.EqualTo("LpNormalization"));
        Assert.That(e.Message, Does.Contain("lpnormalization_1").And.Contain("OnnxImporter.Load"));
    }

    // The acceptance check of the real base: the engine-layer ResNet18 (its preprocessing layer included) gives the
    // features the ONNX importer gives (itself checked against ONNX Runtime) on a real photo, within 1e-3 of their scale.
    [TestCase(true)]
    [TestCase(false)]
    public void ResNet18_AsEngineLayers_GivesTheOnnxImportersFeatures_OnARealPhoto(bool foldBatchNorm)
    {
        string model = OnnxTestFiles.ResNet18Model;
        Assume.That(File.Exists(model), $"ResNet18.onnx is not at {model} (dotnet restore downloads it).");
        var image = Resize.Apply(ImageIO.Load(Path.Combine(AppContext.BaseDirectory, "Assets", "chelsea.png"), ColorMode.Rgb),
            ResNet18.Size, ResNet18.Size, Interpolation.Bilinear);

        float[] reference;
        using (var onnx = OnnxImporter.Load(model, _cpu))
        using (var input = ResNet18Preprocessing.Load(OnnxTestFiles.ResNet18Preprocess).ToTensor(_cpu, image))
        using (var output = onnx.RunChannelsLast(input))
            reference = output.ToArray();

        using var resnet = ResNet18.Create(model, includePreprocessing: true, foldBatchNorm, backend: _cpu);
        Assert.That(resnet.InputShape, Is.EqualTo(new[] { 224, 224, 3 }));
        Assert.That(resnet.OutputShape, Is.EqualTo(new[] { 512 }));
        float[] features = resnet.Predict(image.Pixels);

        double scale = reference.Max(v => Math.Abs(v));
        double worst = features.Zip(reference, (a, b) => Math.Abs((double)a - b)).Max();
        TestContext.Out.WriteLine($"max |engine layers − importer| = {worst:G3}, scale {scale:G4}");
        Assert.That(scale, Is.GreaterThan(1), "the features are not all near zero");
        Assert.That(worst, Is.LessThanOrEqualTo(1e-3 * scale));
        // The file has 22 Conv and 9 Add nodes (ARCHITECTURE.md): a stem and 9 residual blocks, which fine-tuning unfreezes from the top.
        Assert.That(resnet.Layers.OfType<Conv2D>().Count(), Is.EqualTo(22));
        Assert.That(resnet.Layers.OfType<Add>().Count(), Is.EqualTo(9));
        Assert.That(resnet.Layers.OfType<BatchNormalization>().Count(), Is.EqualTo(foldBatchNorm ? 0 : 22));
        var blocks = ModelBlocks.Of(resnet);
        Assert.That(blocks.Select(b => b.Name), Is.EqualTo(new[] { "stem" }.Concat(Enumerable.Range(1, 9).Select(i => $"block{i}"))));
        Assert.That(blocks.Sum(b => b.Layers.OfType<Conv2D>().Count()), Is.EqualTo(22), "every conv belongs to one block");
        Assert.That(blocks.Skip(1).All(b => b.Layers.OfType<Add>().Count() == 1), Is.True, "each residual block ends in its Add");
    }
}
