using ConvEngine.Import.Keras;
using NUnit.Framework;
using PureHDF;

namespace ConvEngine.Tests.Import;

/// <summary>Reading Keras HDF5 weight files: the real tf.keras 2.15 file and Keras 1 / full-model files the tests write.</summary>
public class KerasWeightsFileTests
{
    private TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder("convengine-keras-read-");
    [TearDown] public void TearDown() => _temp.Dispose();

    [Test]
    public void RealTfKerasFile_ListsLayersInLayerNamesOrder()
    {
        // fixtures/keras/README.md: the model is conv2d, max_pooling2d, conv2d_1, max_pooling2d_1, flatten, dense, dropout, dense_1.
        var file = KerasWeightsFile.Read(KerasTestFiles.MnistCnnWeights);

        Assert.That(file.Layers.Select(l => l.Name), Is.EqualTo(new[]
            { "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense", "dropout", "dense_1" }));
        Assert.That(file.KerasVersion, Is.EqualTo("2.15.0"));
        Assert.That(file.Backend, Is.EqualTo("tensorflow"));
        Assert.That(file.ModelConfigJson, Is.Null, "save_weights writes no architecture");
        Assert.That(file.WeightedLayers.Select(l => l.Name), Is.EqualTo(new[] { "conv2d", "conv2d_1", "dense", "dense_1" }));
    }

    [Test]
    public void RealTfKerasFile_ReadsWeightsInWeightNamesOrder_KernelBeforeBias()
    {
        // HDF5 lists a group's links alphabetically (bias:0 before kernel:0); Keras's order is weight_names: kernel, bias.
        var file = KerasWeightsFile.Read(KerasTestFiles.MnistCnnWeights);

        var expected = new (string Layer, string[] Names, int[][] Shapes)[]
        {
            ("conv2d", ["conv2d/kernel:0", "conv2d/bias:0"], [[3, 3, 1, 32], [32]]),
            ("conv2d_1", ["conv2d_1/kernel:0", "conv2d_1/bias:0"], [[3, 3, 32, 64], [64]]),
            ("dense", ["dense/kernel:0", "dense/bias:0"], [[1600, 128], [128]]),
            ("dense_1", ["dense_1/kernel:0", "dense_1/bias:0"], [[128, 10], [10]]),
        };
        foreach (var (layer, names, shapes) in expected)
        {
            Assert.That(file[layer].Weights.Select(w => w.Name), Is.EqualTo(names), layer);
            Assert.That(file[layer].Weights.Select(w => w.Shape), Is.EqualTo(shapes), layer);
            Assert.That(file[layer].Weights.Select(w => w.ShortName), Is.EqualTo(new[] { "kernel", "bias" }), layer);
        }
        Assert.That(file["max_pooling2d"].Weights, Is.Empty);
    }

    [Test]
    public void RealTfKerasFile_ValuesEqualADirectPureHdfRead()
    {
        string path = KerasTestFiles.MnistCnnWeights;
        var file = KerasWeightsFile.Read(path);
        using var h5 = H5File.OpenRead(path);

        foreach (var layer in file.WeightedLayers)
            foreach (var weight in layer.Weights)
            {
                var direct = h5.Dataset($"{layer.Name}/{weight.Name}").Read<float[]>();
                Assert.That(weight.Values, Is.EqualTo(direct), $"{layer.Name}/{weight.Name}");
            }
    }

    [Test]
    public void Keras1Layout_DatasetsDirectlyUnderTheLayerGroup_WithFixedLengthNames_AreRead()
    {
        // keras-semantics.md C: block1_conv1/block1_conv1_W_1:0 (kernel, H×W×in×out) and block1_conv1/block1_conv1_b_1:0, no keras_version.
        string path = _temp.File("keras1.h5");
        var kernel = KerasTestFiles.Random("block1_conv1_W_1:0", [3, 3, 3, 4], seed: 1);
        var bias = KerasTestFiles.Random("block1_conv1_b_1:0", [4], seed: 2);
        KerasTestFiles.Write(path, [new TestLayer("input_1"), new TestLayer("block1_conv1", kernel, bias), new TestLayer("block1_pool")],
            fixedLengthStrings: true);

        var file = KerasWeightsFile.Read(path);

        Assert.That(file.KerasVersion, Is.Null);
        Assert.That(file.Layers.Select(l => l.Name), Is.EqualTo(new[] { "input_1", "block1_conv1", "block1_pool" }));
        var weights = file["block1_conv1"].Weights;
        Assert.That(weights.Select(w => w.Name), Is.EqualTo(new[] { "block1_conv1_W_1:0", "block1_conv1_b_1:0" }));
        Assert.That(weights[0].Shape, Is.EqualTo(new[] { 3, 3, 3, 4 }));
        Assert.That(weights[0].Values, Is.EqualTo(kernel.Values));
        Assert.That(weights[1].Values, Is.EqualTo(bias.Values));
    }

    [Test]
    public void WeightNamesOrder_DecidesTheOrder_NotTheDatasetNames()
    {
        // A layer whose weight_names lists "z" before "a": Keras reads g[name] for name in weight_names.
        string path = _temp.File("order.h5");
        var z = KerasTestFiles.Random("layer/z:0", [2], seed: 3);
        var a = KerasTestFiles.Random("layer/a:0", [5], seed: 4);
        KerasTestFiles.Write(path, [new TestLayer("layer", z, a)]);

        var weights = KerasWeightsFile.Read(path)["layer"].Weights;

        Assert.That(weights.Select(w => w.Name), Is.EqualTo(new[] { "layer/z:0", "layer/a:0" }));
        Assert.That(weights[0].Values, Is.EqualTo(z.Values));
    }

    [Test]
    public void FullModelFile_ReadsModelConfig_AndWeightsUnderModelWeights()
    {
        string path = _temp.File("full.h5");
        var kernel = KerasTestFiles.Random("dense/kernel:0", [4, 2], seed: 5);
        KerasTestFiles.Write(path, [new TestLayer("dense", kernel)], modelConfig: "{\"class_name\": \"Sequential\"}", kerasVersion: "2.15.0");

        var file = KerasWeightsFile.Read(path);

        Assert.That(file.ModelConfigJson, Is.EqualTo("{\"class_name\": \"Sequential\"}"));
        Assert.That(file.KerasVersion, Is.EqualTo("2.15.0"));
        Assert.That(file["dense"].Weights[0].Values, Is.EqualTo(kernel.Values));
    }

    [Test]
    public void LayerNamesSplitAcrossNumberedAttributes_AreJoined()
    {
        // Keras's save_attributes_to_hdf5_group splits lists over 64 KB into layer_names0, layer_names1, …
        string path = _temp.File("chunked.h5");
        var file = new H5File
        {
            ["a"] = new H5Group { Attributes = new() { ["weight_names"] = new H5Attribute(Array.Empty<double>(), dimensions: [0]) } },
            ["b"] = new H5Group { Attributes = new() { ["weight_names"] = new H5Attribute(Array.Empty<double>(), dimensions: [0]) } },
        };
        file.Attributes["layer_names0"] = new[] { "a" };
        file.Attributes["layer_names1"] = new[] { "b" };
        file.Write(path);

        Assert.That(KerasWeightsFile.Read(path).Layers.Select(l => l.Name), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void MissingDataset_IsAnErrorNamingTheFileAndTheDataset()
    {
        string path = _temp.File("missing.h5");
        var file = new H5File
        {
            ["dense"] = new H5Group
            {
                ["kernel:0"] = new H5Dataset(new float[6], fileDims: [2, 3]),
                Attributes = new() { ["weight_names"] = new[] { "kernel:0", "bias:0" } },
            },
        };
        file.Attributes["layer_names"] = new[] { "dense" };
        file.Write(path);

        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("/dense/bias:0").And.Contain("missing"));
    }

    [Test]
    public void Float64Dataset_IsAnErrorNamingTheDatasetAndItsType()
    {
        string path = _temp.File("float64.h5");
        var file = new H5File
        {
            ["dense"] = new H5Group
            {
                ["kernel:0"] = new H5Dataset(new double[6], fileDims: [2, 3]),
                Attributes = new() { ["weight_names"] = new[] { "kernel:0" } },
            },
        };
        file.Attributes["layer_names"] = new[] { "dense" };
        file.Write(path);

        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("/dense/kernel:0").And.Contain("float64").And.Contain("float32"));
    }

    [Test]
    public void TruncatedFile_IsAnErrorNamingTheFile()
    {
        string path = _temp.File("truncated.h5");
        byte[] whole = File.ReadAllBytes(KerasTestFiles.MnistCnnWeights);
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);

        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("truncated"));
    }

    [Test]
    public void NotHdf5_IsAnErrorNamingTheFile()
    {
        string path = _temp.File("noise.h5");
        File.WriteAllBytes(path, KerasTestFiles.Uniform(1000, seed: 6).Select(v => (byte)(v * 1000)).ToArray());

        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path));
    }

    [Test]
    public void DeclaredShapeLargerThanTheFile_IsRejectedBeforeReading()
    {
        // A dataset written as (7, 13) whose dataspace is then patched to (7, 2^28): 7.5 GB declared in a 5 KB file.
        string path = _temp.File("huge.h5");
        var file = new H5File
        {
            ["dense"] = new H5Group
            {
                ["kernel:0"] = new H5Dataset(new float[7 * 13], fileDims: [7, 13]),
                Attributes = new() { ["weight_names"] = new[] { "kernel:0" } },
            },
        };
        file.Attributes["layer_names"] = new[] { "dense" };
        file.Write(path);
        byte[] bytes = File.ReadAllBytes(path);
        byte[] dims = [.. BitConverter.GetBytes(7UL), .. BitConverter.GetBytes(13UL)];
        int at = bytes.AsSpan().IndexOf(dims);
        Assume.That(at, Is.GreaterThan(0), "the dataspace message holds the dimensions as two little-endian u64");
        BitConverter.GetBytes(1UL << 28).CopyTo(bytes, at + 8);
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("/dense/kernel:0").And.Contain("(7, 268435456)").And.Contain("truncated or its header is corrupt"));
    }

    [Test]
    public void FileWithoutLayerNames_IsNotAKerasFile()
    {
        string path = _temp.File("plain.h5");
        new H5File { ["x"] = new float[] { 1, 2 } }.Write(path);

        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("layer_names"));
    }

    [Test]
    public void MissingFile_IsFileNotFound()
    {
        string path = _temp.File("absent.h5");
        var e = Assert.Throws<FileNotFoundException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path));
    }
}
