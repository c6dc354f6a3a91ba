using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

public class SafeTensorsTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "convengine-st-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private static readonly float[] Kernel = [1.5f, -2f, 3.25f, float.Epsilon, -0f, 1e30f];
    private static readonly float[] Bias = [0.125f, -7f];

    private string WriteSample(string name = "w.safetensors")
    {
        string path = Path.Combine(_dir, name);
        SafeTensors.Write(path, [("dense/kernel", [3, 2], Kernel), ("dense/bias", [2], Bias)], new Dictionary<string, string> { ["note"] = "hi" });
        return path;
    }

    /// <summary>A file written by hand: 8-byte little-endian header length, the JSON header, then the data.</summary>
    private string WriteRaw(string header, byte[] data, ulong? declaredLength = null)
    {
        string path = Path.Combine(_dir, "raw.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void RoundTrip_KeepsValuesShapesAndMetadata()
    {
        using var file = SafeTensors.Open(WriteSample());
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "dense/kernel", "dense/bias" }));
        Assert.That(file["dense/kernel"].Shape, Is.EqualTo(new[] { 3, 2 }));
        Assert.That(file.Read("dense/kernel"), Is.EqualTo(Kernel));
        Assert.That(BitConverter.SingleToInt32Bits(file.Read("dense/kernel")[4]), Is.EqualTo(BitConverter.SingleToInt32Bits(-0f)));
        Assert.That(file.Read("dense/bias"), Is.EqualTo(Bias));
        Assert.That(file.Metadata["note"], Is.EqualTo("hi"));
    }

    // The safetensors layout: u64 LE header length N, N bytes of JSON, then the raw little-endian data at data_offsets.
    [Test]
    public void File_FollowsTheSafetensorsLayout()
    {
        var bytes = File.ReadAllBytes(WriteSample());
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))!.AsObject();
        Assert.That(header["dense/kernel"]!.ToJsonString(), Is.EqualTo("{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}"));
        Assert.That(header["dense/bias"]!["data_offsets"]!.ToJsonString(), Is.EqualTo("[24,32]"));
        Assert.That(bytes.Length, Is.EqualTo(8 + n + 32));
        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n + 24))), Is.EqualTo(0.125f));
    }

    [Test]
    public void TruncatedFile_NamesTheTensorWhoseBytesAreMissing()
    {
        string path = WriteSample();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!;
        Assert.That(error.Message, Does.Contain("'dense/bias'").And.Contain("truncated").And.Contain(path));
    }

    [Test]
    public void FileCutInsideTheHeader_SaysSo()
    {
        string path = WriteSample();
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..20]);
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!.Message, Does.Contain("header length field"));
    }

    [Test]
    public void HugeDeclaredHeader_IsRejectedBeforeAllocating()
    {
        string path = WriteRaw("{}", [], declaredLength: ulong.MaxValue / 2);
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!.Message, Does.Contain("only 2 bytes follow"));
    }

    [Test]
    public void HugeDeclaredTensor_IsRejectedAsTruncated_NamingIt()
    {
        string path = WriteRaw("{\"giant\":{\"dtype\":\"F32\",\"shape\":[1000000000,1000],\"data_offsets\":[0,4000000000000]}}", new byte[16]);
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!.Message, Does.Contain("'giant'").And.Contain("truncated"));
    }

    [Test]
    public void OffsetsThatDisagreeWithTheShape_NameTheTensor()
    {
        string path = WriteRaw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", new byte[12]);
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!.Message, Does.Contain("'w'").And.Contain("16 bytes").And.Contain("span 12"));
    }

    [Test]
    public void OverlappingTensors_AreNamed()
    {
        string path = WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!.Message, Does.Contain("'b'").And.Contain("inside the previous"));
    }

    [Test]
    public void OtherDtypes_AndBrokenJson_AreNamedErrors()
    {
        string path = WriteRaw("{\"half\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]);
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!.Message, Does.Contain("'half' has dtype F16"));
        path = WriteRaw("{\"x\":{\"dtype\":", []);
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Open(path))!.Message, Does.Contain("not valid JSON"));
    }

    private static Sequential SmallModel(ulong seed) => new(backend: TestBackend.Instance, seed: seed)
    {
        new InputLayer([6, 6, 1], "img"),
        new Conv2D(2, 3, activation: "relu", name: "conv"),
        new MaxPool2D(name: "pool"),
        new Flatten(name: "flat"),
        new Dense(3, activation: "softmax", name: "probs"),
    };

    [Test]
    public void SaveAndLoad_Model_PredictsTheSame()
    {
        using var model = SmallModel(5);
        model.Compile(new Optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"]);
        var x = TestData.Uniform(2 * 36, 9);
        var before = model.Predict(x);
        string dir = Path.Combine(_dir, "saved");
        model.Save(dir);
        Assert.That(File.Exists(Path.Combine(dir, "config.json")) && File.Exists(Path.Combine(dir, "model.safetensors")));

        using var loaded = Model.Load(dir, TestBackend.Instance);
        Assert.That(loaded.Predict(x), Is.EqualTo(before));
        Assert.That(loaded.IsCompiled && loaded.Loss!.Name == "sparse_categorical_crossentropy" && loaded.Optimizer is Optimizers.Adam { LearningRate: 0.01 });
        Assert.That(loaded.Metrics.Select(m => (m.Name, m.GetType().Name)), Is.EqualTo(new[] { ("accuracy", "SparseCategoricalAccuracy") }));
    }

    [Test]
    public void LoadWeights_WithAnotherShape_NamesTensorAndBothShapes()
    {
        using var model = SmallModel(1);
        string path = Path.Combine(_dir, "w.safetensors");
        model.SaveWeights(path);
        using var other = new Sequential(backend: TestBackend.Instance, seed: 1)
        {
            new InputLayer([6, 6, 1], "img"), new Conv2D(2, 3, activation: "relu", name: "conv"), new MaxPool2D(name: "pool"),
            new Flatten(name: "flat"), new Dense(4, activation: "softmax", name: "probs"),
        };
        var error = Assert.Throws<ShapeException>(() => other.LoadWeights(path))!;
        Assert.That(error.Message, Does.Contain("'probs/kernel'").And.Contain("(8, 3)").And.Contain("(8, 4)"));
    }

    [Test]
    public void LoadWeights_MissingTensor_IsNamed()
    {
        string path = Path.Combine(_dir, "partial.safetensors");
        SafeTensors.Write(path, [("conv/kernel", [3, 3, 1, 2], new float[18])]);
        using var model = SmallModel(1);
        Assert.That(Assert.Throws<InvalidDataException>(() => model.LoadWeights(path))!.Message, Does.Contain("no tensor 'conv/bias'"));
    }

    // Transfer learning: a frozen pretrained base inside a Sequential survives save and load, weights and frozen flags included.
    [Test]
    public void NestedFrozenBase_SavesAndLoads()
    {
        var baseInput = new InputLayer([6, 6, 1], "base_in");
        using var baseModel = new Model(baseInput, new Conv2D(2, 3, activation: "relu", name: "base_conv").Apply(baseInput), "base", TestBackend.Instance, 3);
        baseModel.Trainable = false;
        using var model = new Sequential(name: "transfer", backend: TestBackend.Instance, seed: 4) { baseModel, new Flatten(name: "flat"), new Dense(1, activation: "sigmoid", name: "head") };
        model.Compile("adam", "binary_crossentropy", ["accuracy"]);
        var x = TestData.Uniform(3 * 36, 2);
        string dir = Path.Combine(_dir, "transfer");
        model.Save(dir);

        using var loaded = Model.Load(dir, TestBackend.Instance);
        Assert.That(loaded.Predict(x), Is.EqualTo(model.Predict(x)));
        Assert.That(loaded.Summary(), Is.EqualTo(model.Summary()));
        Assert.That(loaded.NamedParameters.Select(p => (p.Path, p.Parameter.Trainable)),
            Is.EqualTo(new[] { ("base/base_conv/kernel", false), ("base/base_conv/bias", false), ("head/kernel", true), ("head/bias", true) }));
    }
}
