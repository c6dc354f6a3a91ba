using System.Text.Json.Nodes;
using ConvEngine.Import.Keras;
using ConvEngine.Import.TfJs;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// Damaged copies of a tfjs-written model (functional_branches): each fault is refused with a message naming the file
/// and the shard, weight, layer or tensor, before anything large is allocated.
/// </summary>
[TestFixture]
public sealed class TfjsBadInputTests
{
    private string _dir = "";

    private string ModelJson => Path.Combine(_dir, "model.json");

    [SetUp]
    public void CopyFixture() => _dir = TfjsFixtures.CopyToTemp("functional_branches");

    [TearDown]
    public void RemoveCopy() => Directory.Delete(_dir, recursive: true);

    private void Edit(Action<JsonObject> change)
    {
        var root = TfjsFixtures.Json(ModelJson);
        change(root);
        File.WriteAllText(ModelJson, root.ToJsonString());
    }

    private static JsonArray Layers(JsonObject root) => (JsonArray)root["modelTopology"]!["config"]!["layers"]!;

    private static JsonObject Layer(JsonObject root, string name) => Layers(root).OfType<JsonObject>().Single(l => (string)l["name"]! == name);

    private static JsonArray Weights(JsonObject root) => (JsonArray)root["weightsManifest"]![0]!["weights"]!;

    // Fuzz run seed 4, tfjs case 2488 (2026-12-04): an axis the engine does not support was refused without the file.
    [Test]
    public void BatchNormOnAnUnsupportedAxis_NamesTheFileAndTheLayer()
    {
        Edit(root =>
        {
            var inner = (JsonArray)Layer(root, "inner_block")["config"]!["layers"]!;   // the nested Sequential holds the BN
            var bn = inner.OfType<JsonObject>().Single(l => (string)l["config"]!["name"]! == "batch_normalization_BatchNormalization5");
            bn["config"]!["axis"] = int.MinValue;
        });
        var e = Assert.Throws<NotSupportedException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("batch_normalization_BatchNormalization5").And.Contain("axis"));
    }

    [Test]
    public void MissingShard_NamesTheShardAndTheManifest()
    {
        File.Delete(Path.Combine(_dir, "group1-shard1of1.bin"));
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("shard 'group1-shard1of1.bin'").And.Contain("missing"));
    }

    [Test]
    public void ShortShard_NamesTheWeightThatRunsPastIt()
    {
        string shard = Path.Combine(_dir, "group1-shard1of1.bin");
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..^10]);
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        // The last weight in the manifest (BN's moving_variance, 3 floats) is the one that no longer fits.
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("batch_normalization_BatchNormalization5/moving_variance").And.Contain("short"));
    }

    [Test]
    public void ShapesAndByteCountsDisagree_IsRefused()
    {
        // One value fewer in a shape: the shards then hold 4 bytes more than the manifest declares.
        Edit(root => Weights(root)[1]!["shape"] = new JsonArray(3));
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("declare").And.Contain("disagree"));
    }

    [Test]
    public void UnknownQuantisation_NamesTheWeightAndTheDtype()
    {
        Edit(root => Weights(root)[0]!["quantization"] = new JsonObject { ["dtype"] = "int4", ["scale"] = 1, ["min"] = 0 });
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("conv2d_Conv2D9/kernel").And.Contain("'int4'"));
    }

    [Test]
    public void AffineQuantisationWithoutScale_IsRefused()
    {
        Edit(root => Weights(root)[0]!["quantization"] = new JsonObject { ["dtype"] = "uint8", ["min"] = 0 });
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain("conv2d_Conv2D9/kernel").And.Contain("'scale'"));
    }

    [Test]
    public void HugeDeclaredShape_IsRefusedBeforeAllocating()
    {
        // 10^8 floats (400 MB) declared against a shard of a few hundred bytes.
        Edit(root => Weights(root)[0]!["shape"] = new JsonArray(10_000, 10_000));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(e.Message, Does.Contain("conv2d_Conv2D9/kernel").And.Contain("hold only"));
        Assert.That(allocated, Is.LessThan(16 << 20), "the declared size must be checked against the shards before any buffer is allocated");
    }

    [Test]
    public void ShapeBeyondOneArray_IsRefused()
    {
        Edit(root => Weights(root)[0]!["shape"] = new JsonArray(int.MaxValue, int.MaxValue, 4));
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain("conv2d_Conv2D9/kernel").And.Contain("more values than one array can hold"));
    }

    [Test]
    public void UnknownLayerClass_NamesTheLayerItsClassAndTheFile()
    {
        Edit(root => Layer(root, "add_Add1")["class_name"] = "FancyMerge");
        var e = Assert.Throws<UnsupportedLayerException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain("'add_Add1'").And.Contain("FancyMerge").And.Contain(ModelJson));
    }

    [Test]
    public void DanglingReference_NamesTheLayerAndTheMissingSource()
    {
        Edit(root => Layer(root, "add_Add1")["inbound_nodes"]![0]![1]![0] = "no_such_layer");
        var e = Assert.Throws<FormatException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("'add_Add1'").And.Contain("'no_such_layer'").And.Contain("dangling"));
    }

    [Test]
    public void CyclicGraph_NamesTheCycle()
    {
        // conv2d_Conv2D9 now reads from add_Add1, which reads from conv2d_Conv2D9.
        Edit(root => Layer(root, "conv2d_Conv2D9")["inbound_nodes"]![0]![0]![0] = "add_Add1");
        var e = Assert.Throws<FormatException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("cycle").And.Contain("'add_Add1'").And.Contain("'conv2d_Conv2D9'"));
    }

    [Test]
    public void WeightOfNoLayer_IsRefused()
    {
        Edit(root => Weights(root)[8]!["name"] = "not_a_layer/kernel");
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain(ModelJson).And.Contain("'not_a_layer'").And.Contain("match no layer"));
    }

    [Test]
    public void ShardPathOutsideTheFolder_AsAnUrl_IsRefused()
    {
        Edit(root => root["weightsManifest"]![0]!["paths"] = new JsonArray("https://example.invalid/group1-shard1of1.bin"));
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain("not a path relative to the manifest"));
    }

    [Test]
    public void GraphModel_IsRefusedAsNotKeras()
    {
        Edit(root => root["format"] = "graph-model");
        var e = Assert.Throws<TfjsImportException>(() => TfjsModels.Load(ModelJson))!;
        Assert.That(e.Message, Does.Contain("graph-model").And.Contain("layers-model"));
    }
}
