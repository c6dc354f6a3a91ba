using ConvEngine.Import.Keras;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;
using PureHDF;

namespace ConvEngine.Tests.Import;

/// <summary>Loading Keras weights into engine models: the real MNIST CNN file, and Keras 1 (VGG16-layout) files the tests write.</summary>
public class KerasWeightLoadingTests
{
    private TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder("convengine-keras-load-");
    [TearDown] public void TearDown() => _temp.Dispose();

    /// <summary>The model of fixtures/keras/README.md, built with the engine's API; null names are generated.</summary>
    private static Sequential MnistCnn(string?[] names) => new(
    [
        new InputLayer(28, 28, 1),
        new Conv2D(32, 3, activation: "relu", name: names[0]),
        new MaxPool2D(2, name: names[1]),
        new Conv2D(64, 3, activation: "relu", name: names[2]),
        new MaxPool2D(2, name: names[3]),
        new Flatten(names[4]),
        new Dense(128, "relu", name: names[5]),
        new Dropout(0.5, name: names[6]),
        new Dense(10, "softmax", name: names[7]),
    ], seed: 1);

    private static readonly string?[] KerasNames = ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense", "dropout", "dense_1"];

    [Test]
    public void MnistCnn_ByName_EveryWeightEqualsWhatPureHdfReadsDirectly()
    {
        string path = KerasTestFiles.MnistCnnWeights;
        using var model = MnistCnn(KerasNames);

        var report = KerasWeights.Load(model, path);

        Assert.That(report.Matching, Is.EqualTo(KerasWeightMatching.ByName), "the names are Keras's, so Auto pairs by name");
        Assert.That(report.Loaded.Select(l => l.ModelLayer), Is.EqualTo(new[] { "conv2d", "conv2d_1", "dense", "dense_1" }));
        // Independent read: the datasets at <layer>/<layer>/kernel:0 and bias:0 (fixtures/keras/README.md).
        using var h5 = H5File.OpenRead(path);
        foreach (var (weightPath, parameter) in model.NamedParameters)
        {
            string layer = parameter.Owner.Name;
            var direct = h5.Dataset($"{layer}/{layer}/{parameter.Name}:0").Read<float[]>();
            Assert.That(parameter.ToArray(), Is.EqualTo(direct), weightPath);
        }
        Assert.That(report.ValueCount, Is.EqualTo(320 + 18_496 + 204_928 + 1_290), "3·3·1·32+32, 3·3·32·64+64, 1600·128+128, 128·10+10");
    }

    [Test]
    public void MnistCnn_WithOtherNames_LoadsTopologically_AsKerasLoadWeightsDoes()
    {
        string path = KerasTestFiles.MnistCnnWeights;
        using var model = MnistCnn(["c1", "p1", "c2", "p2", "f", "d1", "drop", "d2"]);

        var report = KerasWeights.Load(model, path);

        Assert.That(report.Matching, Is.EqualTo(KerasWeightMatching.Topological));
        Assert.That(report.Loaded.Select(l => (l.FileLayer, l.ModelLayer)),
            Is.EqualTo(new[] { ("conv2d", "c1"), ("conv2d_1", "c2"), ("dense", "d1"), ("dense_1", "d2") }));
        using var h5 = H5File.OpenRead(path);
        Assert.That(((Dense)model.GetLayer("d1")).Kernel!.ToArray(), Is.EqualTo(h5.Dataset("dense/dense/kernel:0").Read<float[]>()));
    }

    [Test]
    public void MnistCnn_ForwardOnADigitLikeImage_MatchesADoublePrecisionForwardOfTheRawArrays()
    {
        string path = KerasTestFiles.MnistCnnWeights;
        using var model = MnistCnn(KerasNames);
        KerasWeights.Load(model, path);
        float[] image = SevenLikeImage();

        float[] probabilities = model.Predict(image, batchSize: 1);

        using var h5 = H5File.OpenRead(path);
        float[] W(string dataset) => h5.Dataset(dataset).Read<float[]>();
        double[] expected = DoubleMnistForward(image,
            W("conv2d/conv2d/kernel:0"), W("conv2d/conv2d/bias:0"), W("conv2d_1/conv2d_1/kernel:0"), W("conv2d_1/conv2d_1/bias:0"),
            W("dense/dense/kernel:0"), W("dense/dense/bias:0"), W("dense_1/dense_1/kernel:0"), W("dense_1/dense_1/bias:0"));

        Assert.That(probabilities, Has.Length.EqualTo(10));
        Assert.That(probabilities.Sum(p => (double)p), Is.EqualTo(1.0).Within(1e-5));
        for (int k = 0; k < 10; k++)
            Assert.That(probabilities[k], Is.EqualTo(expected[k]).Within(2e-5), $"class {k}");
        // The file holds a trained MNIST model (fixtures README): it reads the drawn 7 as a 7 (0.996 when this was written).
        Assert.That(Array.IndexOf(probabilities, probabilities.Max()), Is.EqualTo(7),
            $"class probabilities: {string.Join(" ", probabilities.Select(p => p.ToString("F4")))}");
    }

    /// <summary>A 28×28 stroke image in [0, 1], MNIST-like: a "7" (top bar and a diagonal), values fading over a pixel.</summary>
    private static float[] SevenLikeImage()
    {
        var image = new float[28 * 28];
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                double bar = y is >= 5 and <= 7 && x is >= 7 and <= 21 ? 1 : 0;
                // Distance to the diagonal from (7, 21) to (23, 12): ink within 1.5 pixels.
                double t = Math.Clamp(((x - 21.0) * -9 + (y - 7.0) * 16) / (81 + 256), 0, 1);
                double dx = x - (21 - 9 * t), dy = y - (7 + 16 * t);
                double diagonal = Math.Clamp(1.5 - Math.Sqrt(dx * dx + dy * dy), 0, 1);
                image[y * 28 + x] = (float)Math.Max(bar, diagonal);
            }
        return image;
    }

    /// <summary>
    /// The README's model in double precision, written out loop by loop: Conv2D valid (cross-correlation, kernel
    /// (kh, kw, in, out)) + ReLU, MaxPool 2×2/2 (floor), again, Flatten in (h, w, c) order, Dense + ReLU, Dense + softmax.
    /// Dropout is the identity at inference.
    /// </summary>
    private static double[] DoubleMnistForward(float[] image, float[] k1, float[] b1, float[] k2, float[] b2, float[] w3, float[] b3, float[] w4, float[] b4)
    {
        var (c1, h1, wd1) = Conv(image.Select(v => (double)v).ToArray(), 28, 28, 1, k1, b1, 32);
        var (p1, hp1, wp1) = Pool(c1, h1, wd1, 32);
        var (c2, h2, wd2) = Conv(p1, hp1, wp1, 32, k2, b2, 64);
        var (p2, _, _) = Pool(c2, h2, wd2, 64);
        var hidden = DenseLayer(p2, w3, b3, 128).Select(v => Math.Max(0, v)).ToArray();
        var logits = DenseLayer(hidden, w4, b4, 10);
        double max = logits.Max();
        var exps = logits.Select(z => Math.Exp(z - max)).ToArray();
        double sum = exps.Sum();
        return exps.Select(e => e / sum).ToArray();

        static (double[], int, int) Conv(double[] x, int h, int w, int c, float[] k, float[] b, int f)
        {
            int oh = h - 2, ow = w - 2;
            var y = new double[oh * ow * f];
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < f; o++)
                    {
                        double s = b[o];
                        for (int di = 0; di < 3; di++)
                            for (int dj = 0; dj < 3; dj++)
                                for (int q = 0; q < c; q++)
                                    s += x[((i + di) * w + j + dj) * c + q] * k[((di * 3 + dj) * c + q) * f + o];
                        y[(i * ow + j) * f + o] = Math.Max(0, s);
                    }
            return (y, oh, ow);
        }

        static (double[], int, int) Pool(double[] x, int h, int w, int c)
        {
            int oh = h / 2, ow = w / 2;
            var y = new double[oh * ow * c];
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int q = 0; q < c; q++)
                        y[(i * ow + j) * c + q] = Math.Max(Math.Max(x[(2 * i * w + 2 * j) * c + q], x[(2 * i * w + 2 * j + 1) * c + q]),
                            Math.Max(x[((2 * i + 1) * w + 2 * j) * c + q], x[((2 * i + 1) * w + 2 * j + 1) * c + q]));
            return (y, oh, ow);
        }

        static double[] DenseLayer(double[] x, float[] w, float[] b, int units)
        {
            var y = new double[units];
            for (int u = 0; u < units; u++)
            {
                double s = b[u];
                for (int i = 0; i < x.Length; i++) s += x[i] * w[i * units + u];
                y[u] = s;
            }
            return y;
        }
    }

    // ---- Keras 1 (VGG16 notop) naming, small shapes ----

    private static List<TestLayer> SmallVggLayers() =>
    [
        new("input_1"),
        new("block1_conv1", KerasTestFiles.Random("block1_conv1_W_1:0", [3, 3, 3, 4], 10), KerasTestFiles.Random("block1_conv1_b_1:0", [4], 11)),
        new("block1_pool"),
        new("block2_conv1", KerasTestFiles.Random("block2_conv1_W_1:0", [3, 3, 4, 8], 12), KerasTestFiles.Random("block2_conv1_b_1:0", [8], 13)),
        new("block2_pool"),
    ];

    private static Model SmallVgg(string conv1 = "block1_conv1", string conv2 = "block2_conv1", int filters2 = 8)
    {
        var input = new InputLayer(16, 16, 3);
        var x = new Conv2D(4, 3, padding: "same", activation: "relu", name: conv1).Apply(input);
        x = new MaxPool2D(2, name: "block1_pool").Apply(x);
        x = new Conv2D(filters2, 3, padding: "same", activation: "relu", name: conv2).Apply(x);
        x = new MaxPool2D(2, name: "block2_pool").Apply(x);
        return new Model(input, x, "small_vgg", seed: 2);
    }

    [Test]
    public void Keras1Layout_LoadsByName_KernelFromW_BiasFromB()
    {
        // keras-semantics.md C: <layer>/<layer>_W_1:0 is the kernel (H×W×in×out), <layer>_b_1:0 the bias.
        string path = _temp.File("vgg-layout.h5");
        var layers = SmallVggLayers();
        KerasTestFiles.Write(path, layers, fixedLengthStrings: true);
        using var model = SmallVgg();

        var report = KerasWeights.Load(model, path);

        Assert.That(report.Matching, Is.EqualTo(KerasWeightMatching.ByName));
        var conv2 = (Conv2D)model.GetLayer("block2_conv1");
        Assert.That(conv2.Kernel!.ToArray(), Is.EqualTo(layers[3].Weights[0].Values));
        Assert.That(conv2.Bias!.ToArray(), Is.EqualTo(layers[3].Weights[1].Values));
        Assert.That(((Conv2D)model.GetLayer("block1_conv1")).Kernel!.ToArray(), Is.EqualTo(layers[1].Weights[0].Values));
    }

    [Test]
    public void ShapeMismatch_NamesTheLayerAndBothShapes()
    {
        string path = _temp.File("vgg-layout.h5");
        KerasTestFiles.Write(path, SmallVggLayers());
        using var model = SmallVgg(filters2: 6);

        var e = Assert.Throws<ShapeException>(() => KerasWeights.Load(model, path))!;

        Assert.That(e.Message, Does.Contain("'block2_conv1'").And.Contain("(3, 3, 4, 6)").And.Contain("(3, 3, 4, 8)")
            .And.Contain("kernel").And.Contain(path));
    }

    [Test]
    public void FailedLoad_LeavesEveryWeightAsItWas()
    {
        // Shapes are all checked before the first value is assigned.
        string path = _temp.File("vgg-layout.h5");
        KerasTestFiles.Write(path, SmallVggLayers());
        using var model = SmallVgg(filters2: 6);
        model.Initialize();
        var before = ((Conv2D)model.GetLayer("block1_conv1")).Kernel!.ToArray();

        Assert.Throws<ShapeException>(() => KerasWeights.Load(model, path));

        Assert.That(((Conv2D)model.GetLayer("block1_conv1")).Kernel!.ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void Topological_WithDifferentLayerCounts_NamesBothLists()
    {
        string path = _temp.File("vgg-layout.h5");
        KerasTestFiles.Write(path, SmallVggLayers()[..3]);
        using var model = SmallVgg("a", "b");

        var e = Assert.Throws<KerasImportException>(() => KerasWeights.Load(model, path))!;

        Assert.That(e.Message, Does.Contain("1 layers with weights").And.Contain("'block1_conv1'").And.Contain("has 2").And.Contain("'a', 'b'"));
    }

    [Test]
    public void ByName_LoadsMatchingLayers_AndReportsTheOthers()
    {
        // Keras's load_weights(by_name=True) loads the layers whose names match and leaves the rest.
        string path = _temp.File("vgg-layout.h5");
        var layers = SmallVggLayers();
        KerasTestFiles.Write(path, layers);
        using var model = SmallVgg(conv2: "head");

        var report = KerasWeights.Load(model, path, KerasWeightMatching.ByName);

        Assert.That(report.Loaded.Select(l => l.ModelLayer), Is.EqualTo(new[] { "block1_conv1" }));
        Assert.That(report.FileLayersNotInModel, Is.EqualTo(new[] { "block2_conv1" }));
        Assert.That(report.ModelLayersNotInFile, Is.EqualTo(new[] { "head" }));
        Assert.That(((Conv2D)model.GetLayer("block1_conv1")).Bias!.ToArray(), Is.EqualTo(layers[1].Weights[1].Values));
    }

    [Test]
    public void NestedBase_LoadsFromOneGroupHoldingAllItsWeights_AsKerasSavesATransferModel()
    {
        // Keras saves Sequential([base, Flatten(), Dense(1)]) with one group "small_vgg" whose weight_names list every
        // weight of the base ("block1_conv1/kernel:0", …) at small_vgg/block1_conv1/kernel:0, then the head's group.
        string path = _temp.File("transfer.h5");
        var baseWeights = new[]
        {
            KerasTestFiles.Random("block1_conv1/kernel:0", [3, 3, 3, 4], 40), KerasTestFiles.Random("block1_conv1/bias:0", [4], 41),
            KerasTestFiles.Random("block2_conv1/kernel:0", [3, 3, 4, 8], 42), KerasTestFiles.Random("block2_conv1/bias:0", [8], 43),
        };
        var head = new[] { KerasTestFiles.Random("dense/kernel:0", [128, 1], 44), KerasTestFiles.Random("dense/bias:0", [1], 45) };
        KerasTestFiles.Write(path, [new TestLayer("small_vgg", baseWeights), new TestLayer("flatten"), new TestLayer("dense", head)]);
        using var model = new Sequential([SmallVgg(), new Flatten("flatten"), new Dense(1, "sigmoid", name: "dense")]);

        var report = KerasWeights.Load(model, path);

        Assert.That(report.Matching, Is.EqualTo(KerasWeightMatching.ByName));
        var inner = (Model)model.GetLayer("small_vgg");
        Assert.That(((Conv2D)inner.GetLayer("block2_conv1")).Kernel!.ToArray(), Is.EqualTo(baseWeights[2].Values));
        Assert.That(((Conv2D)inner.GetLayer("block1_conv1")).Bias!.ToArray(), Is.EqualTo(baseWeights[1].Values));
        Assert.That(((Dense)model.GetLayer("dense")).Kernel!.ToArray(), Is.EqualTo(head[0].Values));
    }

    [Test]
    public void WrongWeightCount_NamesTheLayerAndBothLists()
    {
        // A conv without bias in the model, with kernel and bias in the file.
        string path = _temp.File("vgg-layout.h5");
        KerasTestFiles.Write(path, SmallVggLayers()[..3]);
        var input = new InputLayer(16, 16, 3);
        var x = new Conv2D(4, 3, padding: "same", useBias: false, name: "block1_conv1").Apply(input);
        using var model = new Model(input, x, "no_bias");

        var e = Assert.Throws<KerasImportException>(() => KerasWeights.Load(model, path))!;

        Assert.That(e.Message, Does.Contain("'block1_conv1' holds 2 weights").And.Contain("'block1_conv1_b_1:0'").And.Contain("has 1 ('kernel')"));
    }
}
