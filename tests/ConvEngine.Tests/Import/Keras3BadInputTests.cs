using System.IO.Compression;
using ConvEngine.Import.Keras;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;
using PureHDF;

namespace ConvEngine.Tests.Import;

/// <summary>Keras 3 files that are not what they claim: each refused with a message naming the file and the member, group or layer.</summary>
[TestFixture]
public sealed class Keras3BadInputTests
{
    private string _dir = "";

    [SetUp]
    public void MakeDir() => _dir = Directory.CreateTempSubdirectory("convengine-keras3-bad-").FullName;

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "keras3", file);

    private string Zip(string name, params (string Member, byte[] Bytes)[] members)
    {
        string path = Path.Combine(_dir, name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (member, bytes) in members)
        {
            using var s = zip.CreateEntry(member).Open();
            s.Write(bytes);
        }
        return path;
    }

    // Fuzz run seed 4, keras-archive case 905 (2026-12-04): a member name with a line break and binary bytes was listed
    // raw, so the refusal spanned lines.
    [Test]
    public void ZipThatIsNotKeras_QuotesMemberNamesEscaped_OnOneLine()
    {
        string path = Zip("damaged.keras", ("metadata.json", "{}"u8.ToArray()), ("config.json", "{}"u8.ToArray()), ("model\n\u0001.h5", [1]));
        var e = Assert.Throws<KerasImportException>(() => KerasFiles.Load(path))!;
        Assert.That(e.Message, Does.Not.Contain("\n").And.Contain(@"'model\n\u0001.h5'").And.Contain("'config.json'"));
    }

    [Test]
    public void ZipThatIsNotKeras_IsRefusedListingItsMembers()
    {
        string path = Zip("photos.keras", ("cat.png", [1, 2, 3]), ("readme.txt", "hello"u8.ToArray()));
        var e = Assert.Throws<KerasImportException>(() => KerasFiles.Load(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("not a .keras file").And.Contain("cat.png").And.Contain("model.weights.h5"));
        // ModelFormats sends any zip here, so predict says the same.
        Assert.That(ModelFormats.Detect(path), Is.EqualTo(ModelFormat.KerasArchive));
    }

    [Test]
    public void NpzWeights_AreRefusedByName()
    {
        string path = Zip("m.keras", ("config.json", "{}"u8.ToArray()), ("model.weights.npz", [0]));
        var e = Assert.Throws<KerasImportException>(() => KerasFiles.Load(path))!;
        Assert.That(e.Message, Does.Contain("model.weights.npz"));
    }

    [Test]
    public void TruncatedArchive_NamesTheFile()
    {
        var bytes = File.ReadAllBytes(Fixture("sequential_cnn.keras"));
        string path = Path.Combine(_dir, "cut.keras");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<KerasImportException>(() => KerasFiles.Load(path))!;
        Assert.That(e.Message, Does.Contain(path));
    }

    [Test]
    public void CorruptWeightsMember_NamesTheArchiveAndTheMember()
    {
        string config;
        using (var zip = ZipFile.OpenRead(Fixture("sequential_cnn.keras")))
            config = new StreamReader(zip.GetEntry("config.json")!.Open()).ReadToEnd();
        string path = Zip("m.keras", ("metadata.json", "{}"u8.ToArray()), ("config.json", System.Text.Encoding.UTF8.GetBytes(config)),
            ("model.weights.h5", new byte[300]));
        var e = Assert.Throws<KerasImportException>(() => KerasFiles.Load(path))!;
        Assert.That(e.Message, Does.Contain($"{path} (model.weights.h5)").And.Not.Contain($"convengine-{Environment.ProcessId}-"), "the temporary extraction is not named");
    }

    [Test]
    public void WeightsOfAnotherArchitecture_NameTheLayerAndThePath()
    {
        using var model = KerasFiles.Load(Fixture("functional_depth_order.keras"));
        var e = Assert.Throws<KerasImportException>(() => KerasWeights.Load(model, Fixture("sequential_cnn-keras30.weights.h5")))!;
        Assert.That(e.Message, Does.Contain("sequential_cnn-keras30.weights.h5").And.Contain("layers/conv2d"));
    }

    [Test]
    public void VariablesWithAGap_AreRefused()
    {
        string path = Path.Combine(_dir, "gap.weights.h5");
        var vars = new H5Group { ["0"] = new H5Dataset(new float[] { 1 }, fileDims: [1]), ["2"] = new H5Dataset(new float[] { 2 }, fileDims: [1]) };
        new H5File { ["layers"] = new H5Group { ["dense"] = new H5Group { ["vars"] = vars } } }.Write(path);
        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("/layers/dense/vars").And.Contain("0, 2"));
    }

    [Test]
    public void ShapeMismatch_NamesLayerWeightAndBothShapes_AndLoadsNothing()
    {
        using var model = KerasFiles.Load(Fixture("functional_depth_order.keras"));
        float[] before = model.GetLayer("head").Parameters[0].ToArray();
        string path = Path.Combine(_dir, "wrong.weights.h5");
        // conv2d (conv_a) right, head's kernel of the wrong shape.
        var file = new H5File
        {
            ["layers"] = new H5Group
            {
                ["conv2d"] = new H5Group { ["vars"] = Vars(model.GetLayer("conv_a")) },
                ["conv2d_1"] = new H5Group { ["vars"] = Vars(model.GetLayer("conv_b")) },
                ["conv2d_2"] = new H5Group { ["vars"] = Vars(model.GetLayer("conv_a2")) },
                ["dense"] = new H5Group { ["vars"] = new H5Group
                {
                    ["0"] = new H5Dataset(new float[6], fileDims: [2, 3]), ["1"] = new H5Dataset(new float[2], fileDims: [2]),
                } },
            },
        };
        file.Write(path);
        var e = Assert.Throws<ConvEngine.Kernels.Geometry.ShapeException>(() => KerasWeights.Load(model, path))!;
        Assert.That(e.Message, Does.Contain("'head'").And.Contain("(3, 2)").And.Contain("(2, 3)").And.Contain(path));
        Assert.That(model.GetLayer("head").Parameters[0].ToArray(), Is.EqualTo(before), "nothing assigned");

        static H5Group Vars(Layer layer)
        {
            var g = new H5Group();
            for (int i = 0; i < layer.Parameters.Count; i++)
                g[i.ToString()] = new H5Dataset(layer.Parameters[i].ToArray(), fileDims: layer.Parameters[i].Shape.ToArray().Select(d => (ulong)d).ToArray());
            return g;
        }
    }

    [Test]
    public void Save_OfALayerKerasLacks_NamesIt_AndLeavesTheOldFileAlone()
    {
        var input = new InputLayer(8, 8, 3);
        using var model = new Model(input, new LRN(3, name: "local_norm").Apply(new Conv2D(4, 3, name: "c").Apply(input)), "with_lrn", seed: 1);
        string path = Path.Combine(_dir, "m.keras");
        File.WriteAllText(path, "previous");
        var e = Assert.Throws<ModelExportException>(() => KerasFiles.Save(model, path))!;
        Assert.That(e.Message, Does.Contain("'local_norm'").And.Contain("LRN"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous"));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "no temp file left behind");
    }
}
