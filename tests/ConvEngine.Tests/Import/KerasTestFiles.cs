using ConvEngine.Kernels;
using NUnit.Framework;
using PureHDF;

namespace ConvEngine.Tests.Import;

/// <summary>A weight to write: its name as it goes into weight_names (a path relative to the layer group), shape and values.</summary>
internal sealed record TestWeight(string Name, int[] Shape, float[] Values);

/// <summary>A layer group to write; no weights for pooling, flatten, input layers.</summary>
internal sealed record TestLayer(string Name, params TestWeight[] Weights);

/// <summary>
/// Writes Keras-layout HDF5 files with PureHDF, the way Keras's hdf5_format writes them: root attribute layer_names,
/// one group per layer with attribute weight_names, each dataset at group/weight_name; an empty weight_names is an
/// empty float64 array (numpy's default dtype for []).
/// </summary>
internal static class KerasTestFiles
{
    /// <param name="fixedLengthStrings">Keras 1 and h5py-from-numpy-bytes files store fixed-length strings; tf.keras 2.15 variable-length ones.</param>
    /// <param name="modelConfig">Written as the root attribute model_config, with the weights under model_weights/ (a full-model file).</param>
    public static void Write(string path, IReadOnlyList<TestLayer> layers, bool fixedLengthStrings = false,
        string? modelConfig = null, string? kerasVersion = null)
    {
        var weightsRoot = modelConfig is null ? new H5File() : new H5Group();
        foreach (var layer in layers)
        {
            var group = new H5Group();
            group.Attributes["weight_names"] = layer.Weights.Length == 0
                ? new H5Attribute(Array.Empty<double>(), dimensions: [0])
                : layer.Weights.Select(w => w.Name).ToArray();
            foreach (var weight in layer.Weights) AddDataset(group, weight);
            weightsRoot[layer.Name] = group;
        }
        weightsRoot.Attributes["layer_names"] = layers.Select(l => l.Name).ToArray();
        if (kerasVersion is not null) weightsRoot.Attributes["keras_version"] = kerasVersion;
        weightsRoot.Attributes["backend"] = "tensorflow";

        var file = weightsRoot as H5File ?? new H5File { ["model_weights"] = weightsRoot };
        if (modelConfig is not null) file.Attributes["model_config"] = modelConfig;

        var strings = layers.SelectMany(l => l.Weights.Select(w => w.Name).Append(l.Name)).Append(modelConfig ?? "").Append(kerasVersion ?? "");
        file.Write(path, fixedLengthStrings ? new H5WriteOptions(DefaultStringLength: strings.Max(s => s.Length) + 1) : new H5WriteOptions());
    }

    /// <summary>Puts the dataset at group/name, making the intermediate groups of a name such as "conv2d/kernel:0".</summary>
    private static void AddDataset(H5Group group, TestWeight weight)
    {
        string[] parts = weight.Name.Split('/');
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (!group.TryGetValue(parts[i], out var child))
                group[parts[i]] = child = new H5Group();
            group = (H5Group)child;
        }
        group[parts[^1]] = new H5Dataset(weight.Values, fileDims: weight.Shape.Select(d => (ulong)d).ToArray());
    }

    /// <summary>Values in [−scale, scale) from a counter-based stream: the same on every run.</summary>
    public static float[] Uniform(long length, ulong seed, float scale = 0.1f)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++) values[i] = (2f * CounterRng.Uniform(seed, (ulong)i) - 1f) * scale;
        return values;
    }

    /// <summary>A weight with uniform random values of the given shape.</summary>
    public static TestWeight Random(string name, int[] shape, ulong seed, float scale = 0.1f) =>
        new(name, shape, Uniform(shape.Aggregate(1L, (a, d) => a * d), seed, scale));

    /// <summary>Exact equality of two float arrays, fast on millions of values; a failure names the first differing index.</summary>
    public static void AssertSameValues(float[] actual, float[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        int at = actual.AsSpan().CommonPrefixLength(expected);
        if (at < actual.Length)
            Assert.Fail($"{what}: value {at} is {actual[at]:R}, expected {expected[at]:R}.");
    }

    /// <summary>A file under shared/ (see <see cref="SharedFiles"/>: skipped where absent, a failure in CI).</summary>
    public static string SharedFile(string relative) => SharedFiles.Require(relative);

    /// <summary>The real tf.keras 2.15 save_weights file (../shared/fixtures/keras/README.md).</summary>
    public static string MnistCnnWeights => SharedFile("fixtures/keras/mnist_cnn_tfkeras.weights.h5");

    /// <summary>
    /// The Keras VGG16 notop layer table, in the Keras 1 naming of vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
    /// (keras-semantics.md C): input_1, block1_conv1 … block5_pool, kernels block1_conv1_W_1:0 (3, 3, in, out), biases _b_1:0.
    /// </summary>
    public static List<TestLayer> Vgg16NotopKeras1Layers(ulong seed, float scale = 0.05f)
    {
        (int Filters, int Convs)[] blocks = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)];
        var layers = new List<TestLayer> { new("input_1") };
        int channels = 3;
        ulong s = seed;
        for (int b = 0; b < blocks.Length; b++)
        {
            for (int c = 0; c < blocks[b].Convs; c++)
            {
                string name = $"block{b + 1}_conv{c + 1}";
                int filters = blocks[b].Filters;
                layers.Add(new TestLayer(name,
                    Random($"{name}_W_1:0", [3, 3, channels, filters], s++, scale),
                    Random($"{name}_b_1:0", [filters], s++, scale)));
                channels = filters;
            }
            layers.Add(new TestLayer($"block{b + 1}_pool"));
        }
        return layers;
    }
}

/// <summary>
/// One full-size file in the layout of Keras's VGG16 notop file (Keras 1 names, fixed-length strings, 14,714,688
/// small random float32 values), written once per test run and removed when the process exits. The real file
/// cannot be downloaded here (ARCHITECTURE.md).
/// </summary>
internal static class Vgg16NotopFixture
{
    public const ulong Seed = 1_000;
    private static readonly Lazy<(string Path, List<TestLayer> Layers)> Written = new(() =>
    {
        string dir = Directory.CreateTempSubdirectory("convengine-vgg16-fixture-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } };
        string path = System.IO.Path.Combine(dir, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5");
        var layers = KerasTestFiles.Vgg16NotopKeras1Layers(Seed);
        KerasTestFiles.Write(path, layers, fixedLengthStrings: true);
        return (path, layers);
    });

    public static string Path => Written.Value.Path;
    public static IReadOnlyList<TestLayer> Layers => Written.Value.Layers;
}

/// <summary>A temporary folder per test, removed afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix) => Path = Directory.CreateTempSubdirectory(prefix).FullName;
    public string Path { get; }
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
