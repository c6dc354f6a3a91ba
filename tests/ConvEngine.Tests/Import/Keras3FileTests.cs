using System.IO.Compression;
using System.Text.Json.Nodes;
using ConvEngine.Import.Keras;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Import.TfJs;
using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;
using PureHDF;

namespace ConvEngine.Tests.Import;

/// <summary>
/// Keras 3 files written by h5py (tests/keras3/make_fixtures.py: Keras 3's zip members, config spelling and
/// weights paths, worked out by hand from saving_lib's rules) holding the weights of the TensorFlow.js fixtures, so
/// the predictions must be tfjs's. Then the engine's own .keras writer, compared path for path with h5py's files.
/// </summary>
[TestFixture]
public sealed class Keras3FileTests
{
    private static readonly string[] Models = ["sequential_cnn", "functional_branches", "functional_depth_order"];

    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "keras3", file);

    private static string TfjsModelJson(string name) => Path.Combine(TfjsFixtures.ModelDir(name), "model.json");

    /// <summary>The architecture alone, from the tfjs topology, with a fresh random initialisation.</summary>
    private static Model Architecture(string name)
    {
        var root = TfjsFixtures.Json(TfjsModelJson(name));
        var model = KerasModels.FromJson(TfjsModels.ModelConfig(root, name), seed: 5);
        model.Initialize();
        return model;
    }

    private static void AssertPredictsAsTfjs(Model model, string name)
    {
        var expected = TfjsFixtures.ExpectedOf(name);
        TfjsFixtures.AssertClose(model.Predict(expected.Input, expected.InputShape[0]), expected.Output, 2e-5, 2e-4, name);
    }

    [TestCaseSource(nameof(Models))]
    public void KerasArchive_LoadsArchitectureAndWeights(string name)
    {
        using var model = KerasFiles.Load(Fixture($"{name}.keras"));
        AssertPredictsAsTfjs(model, name);
    }

    [TestCaseSource(nameof(Models))]
    public void WeightsH5_WithNames_LoadsIntoTheArchitecture(string name)
    {
        using var model = Architecture(name);
        var report = KerasWeights.Load(model, Fixture($"{name}.weights.h5"));
        Assert.That(report.Loaded, Is.Not.Empty);
        AssertPredictsAsTfjs(model, name);
    }

    /// <summary>Keras 3.0–3.5 wrote no name attributes: the layers are found by Keras 3's paths alone.</summary>
    [TestCase("sequential_cnn")]
    [TestCase("functional_depth_order")]
    public void WeightsH5_WithoutNames_LoadsByKeras3Paths(string name)
    {
        using var model = Architecture(name);
        var report = KerasWeights.Load(model, Fixture($"{name}-keras30.weights.h5"));
        Assert.That(report.Matching, Is.EqualTo(KerasWeightMatching.Topological), "found by path, not by name");
        AssertPredictsAsTfjs(model, name);
    }

    /// <summary>tf.keras 2.13–2.15 wrote _layer_checkpoint_dependencies where Keras 3 writes layers.</summary>
    [Test]
    public void WeightsH5_TfKeras213Layout_Loads()
    {
        using var model = Architecture("functional_branches");
        KerasWeights.Load(model, Fixture("functional_branches-tf213.weights.h5"));
        AssertPredictsAsTfjs(model, "functional_branches");
    }

    /// <summary>
    /// Keras 3 orders a functional model's layers by depth from the output, then by a walk from the output: conv_a
    /// (the deepest) is conv2d, then conv_b before conv_a2 (Add's first input first). A plain topological sort that
    /// follows conv_b's branch first would name conv_b conv2d.
    /// </summary>
    [Test]
    public void LayerOrder_IsKeras3s_ByDepthThenTraversal()
    {
        using var model = Architecture("functional_depth_order");
        var paths = Keras3Layout.Paths(model).ToDictionary(p => p.Layer.Name, p => p.Path);
        Assert.That(paths["conv_a"], Is.EqualTo("layers/conv2d"));
        Assert.That(paths["conv_b"], Is.EqualTo("layers/conv2d_1"));
        Assert.That(paths["conv_a2"], Is.EqualTo("layers/conv2d_2"));
        Assert.That(paths["head"], Is.EqualTo("layers/dense"));
        Assert.That(Keras3Layout.SnakeCase("MaxPooling2D"), Is.EqualTo("max_pooling2d"));
        Assert.That(Keras3Layout.SnakeCase("GlobalAveragePooling2D"), Is.EqualTo("global_average_pooling2d"));
        Assert.That(Keras3Layout.SnakeCase("ReLU"), Is.EqualTo("re_lu"));
        Assert.That(Keras3Layout.SnakeCase("Conv2DTranspose"), Is.EqualTo("conv2d_transpose"));
    }

    [TestCaseSource(nameof(Models))]
    public void ModelFormats_RecognisesKerasArchiveByContent(string name)
    {
        string renamed = Path.Combine(Directory.CreateTempSubdirectory("convengine-keras3-").FullName, "model.bin");
        File.Copy(Fixture($"{name}.keras"), renamed);
        try
        {
            Assert.That(ModelFormats.Detect(renamed), Is.EqualTo(ModelFormat.KerasArchive));
            using var loaded = ModelFormats.Load(renamed);
            var expected = TfjsFixtures.ExpectedOf(name);
            TfjsFixtures.AssertClose(loaded.Predict(expected.Input, expected.InputShape[0]), expected.Output, 2e-5, 2e-4, name);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(renamed)!, recursive: true);
        }
    }

    /// <summary>The engine's writer produces the same groups, datasets and shapes as the h5py-written file, and the same zip members.</summary>
    [TestCaseSource(nameof(Models))]
    public void Save_WritesKeras3sMembersAndPaths_AndReloads(string name)
    {
        using var model = KerasFiles.Load(Fixture($"{name}.keras"));
        string dir = Directory.CreateTempSubdirectory("convengine-keras3-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.keras");
            KerasFiles.Save(model, path);
            using (var zip = ZipFile.OpenRead(path))
            {
                Assert.That(zip.Entries.Select(e => e.FullName), Is.EqualTo(new[] { "metadata.json", "config.json", "model.weights.h5" }));
                var metadata = JsonNode.Parse(new StreamReader(zip.GetEntry("metadata.json")!.Open()).ReadToEnd())!;
                Assert.That(metadata["keras_version"]!.GetValue<string>(), Does.StartWith("3."));
                var config = JsonNode.Parse(new StreamReader(zip.GetEntry("config.json")!.Open()).ReadToEnd())!;
                Assert.That(config["module"], Is.Not.Null, "serialize_keras_object form");
                zip.GetEntry("model.weights.h5")!.ExtractToFile(Path.Combine(dir, "ours.h5"));
            }
            Assert.That(Hdf5Tree(Path.Combine(dir, "ours.h5")), Is.EqualTo(Hdf5Tree(Fixture($"{name}.weights.h5"))),
                "groups, datasets, shapes and name attributes as h5py wrote them");
            using var again = KerasFiles.Load(path);
            AssertPredictsAsTfjs(again, name);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every object of an HDF5 file as "path [shape] name=…", sorted.</summary>
    private static List<string> Hdf5Tree(string path)
    {
        var lines = new List<string>();
        using var file = H5File.OpenRead(path);
        Walk(file, "");
        lines.Sort(StringComparer.Ordinal);
        return lines;

        void Walk(IH5Group group, string prefix)
        {
            foreach (var child in group.Children())
            {
                string p = $"{prefix}/{child.Name}";
                string name = child.AttributeExists("name") ? $" name={child.Attribute("name").Read<string>()}" : "";
                if (child is IH5Group g)
                {
                    lines.Add($"{p}/{name}");
                    Walk(g, p);
                }
                else if (child is IH5Dataset d)
                    lines.Add($"{p} [{string.Join(",", d.Space.Dimensions)}] {d.Type.Class}{d.Type.Size}");
            }
        }
    }

    [Test]
    public void SaveWeights_ThenLoad_RoundTrips()
    {
        using var model = KerasFiles.Load(Fixture("functional_depth_order.keras"));
        string dir = Directory.CreateTempSubdirectory("convengine-keras3-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.weights.h5");
            KerasFiles.SaveWeights(model, path);
            using var other = Architecture("functional_depth_order");
            KerasWeights.Load(other, path);
            AssertPredictsAsTfjs(other, "functional_depth_order");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
