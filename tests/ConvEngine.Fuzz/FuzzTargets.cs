using System.IO.Compression;
using System.Text;
using ConvEngine.Cli.Commands;
using ConvEngine.Data;
using ConvEngine.Data.Images;
using ConvEngine.Data.Idx;
using ConvEngine.Import.Keras;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Import.Onnx;
using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Import.TfJs;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Serialization;
using Google.Protobuf;
using PureHDF;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvEngine.Fuzz;

/// <summary>
/// A valid input to mutate: files by relative path, the path the reader is given (a file, or "" for the case folder),
/// and which files a mutation may change.
/// </summary>
internal sealed record SeedCase(string Name, IReadOnlyDictionary<string, byte[]> Files, string Entry, IReadOnlyList<string> Mutable);

/// <summary>One format the engine reads: its seeds, whether it is JSON (structure-aware mutations), and the engine call that reads it.</summary>
internal sealed record FuzzTarget(string Name, bool Json, Func<SeedSources, List<SeedCase>> Seeds, Action<string> Read);

/// <summary>Where seeds come from besides the ones generated here: the repository and, when present, shared/.</summary>
internal sealed record SeedSources(string RepositoryRoot, string? SharedDirectory)
{
    public static SeedSources Find()
    {
        string? root = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && root is null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ConvEngine.sln"))) root = dir.FullName;
        root ??= Directory.GetCurrentDirectory();
        string? shared = Environment.GetEnvironmentVariable("CONVENGINE_SHARED") is { Length: > 0 } env && Directory.Exists(env) ? env : null;
        for (var dir = new DirectoryInfo(root); dir is not null && shared is null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "shared", "reference", "keras-semantics.md"))) shared = Path.Combine(dir.FullName, "shared");
        return new SeedSources(root, shared);
    }
}

/// <summary>
/// Every format the engine reads, as a fuzz target. A new format is one entry here: seeds (generated, or files from
/// the repository) and the call that reads it.
/// </summary>
internal static class FuzzTargets
{
    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        new("png", false, s => Images(s, ".png"), ReadImage),
        new("jpeg", false, s => Images(s, ".jpg"), ReadImage),
        new("bmp", false, s => Images(s, ".bmp"), ReadImage),
        new("gif", false, s => Images(s, ".gif"), ReadImage),
        new("tiff-named-png", false, s => Images(s, ".tiff"), ReadImage),
        new("idx", false, _ => Idx(gzip: false), p => IdxReader.Read(p)),
        new("idx-gz", false, _ => Idx(gzip: true), p => IdxReader.Read(p)),
        new("npy", false, _ => Npy(), p => NpyFile.Read(p)),
        new("csv-series", false, _ => CsvSeriesSeeds(), p => ConvEngine.Data.Series.CsvSeries.Read(p)),
        new("safetensors", false, _ => SafeTensorsSeeds(), ReadSafeTensors),
        new("engine-config", true, _ => ModelFolder(mutable: ModelFiles.ConfigFile), p => Model.Load(p).Dispose()),
        new("engine-weights", false, _ => ModelFolder(mutable: ModelFiles.WeightsFile), p => Model.Load(p).Dispose()),
        new("dataset-json", true, _ => DatasetJson(), p => DatasetInfo.Read(p)),
        new("checkpoint", true, _ => CheckpointFolder(), p => Checkpoint.Load(p).Dispose()),
        new("keras-json", true, _ => KerasJson(), p => ModelFormats.Load(p).Dispose()),
        new("keras-h5-weights", false, KerasWeightsH5, p => KerasWeightsFile.Read(p)),
        new("keras-h5-model", false, _ => KerasModelH5(), p => ModelFormats.Load(p).Dispose()),
        new("keras-archive", false, _ => KerasArchive(), p => KerasFiles.Load(p).Dispose()),
        new("onnx", false, Onnx, ReadOnnx),
        new("onnx-pb", false, OnnxTensors, p => OnnxTensorData.ReadFile(p)),
        new("tfjs", true, Tfjs, p => TfjsModels.Load(p).Dispose()),
    ];

    public static FuzzTarget Named(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown format '{name}'; known: {string.Join(", ", All.Select(t => t.Name))}");

    private static SeedCase Single(string name, string file, byte[] bytes) => new(name, new Dictionary<string, byte[]> { [file] = bytes }, file, [file]);

    // ---------------------------------------------------------------- images

    private static void ReadImage(string path) => ImageIO.Load(path, ColorMode.Rgb);

    private static Image<Rgb24> Picture(int width, int height, int seed)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)(x * 17 + seed), (byte)(y * 29 + seed * 3), (byte)((x * y + seed) * 7));
        return image;
    }

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    private static List<SeedCase> Images(SeedSources sources, string kind)
    {
        var seeds = new List<SeedCase>();
        using var small = Picture(12, 10, 1);
        using var odd = Picture(17, 9, 2);
        string file = kind == ".tiff" ? "image.png" : "image" + kind;
        void Add(string name, Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder) => seeds.Add(Single(name, file, Encode(image, encoder)));
        switch (kind)
        {
            case ".png":
                Add("rgb", small, new PngEncoder { ColorType = PngColorType.Rgb });
                Add("palette", odd, new PngEncoder { ColorType = PngColorType.Palette });
                Add("interlaced", odd, new PngEncoder { ColorType = PngColorType.Rgb, InterlaceMethod = PngInterlaceMode.Adam7 });
                Add("grey16", small, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 });
                Add("rgba", odd, new PngEncoder { ColorType = PngColorType.RgbWithAlpha });
                foreach (var png in Directory.EnumerateFiles(Path.Combine(sources.RepositoryRoot, "src", "ConvEngine.Data", "SampleData"), "*.png", SearchOption.AllDirectories).Order().Take(2))
                    seeds.Add(Single("sample " + Path.GetFileName(png), file, File.ReadAllBytes(png)));
                break;
            case ".jpg":
                Add("420", odd, new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 });
                Add("444", small, new JpegEncoder { Quality = 75, ColorType = JpegColorType.YCbCrRatio444 });
                Add("grey", odd, new JpegEncoder { Quality = 80, ColorType = JpegColorType.Luminance });
                break;
            case ".bmp":
                Add("24", odd, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 });
                Add("32", small, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel32 });
                Add("8", odd, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel8 });
                Add("1", small, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel1 });
                break;
            case ".gif":
            {
                Add("one frame", odd, new GifEncoder());
                using var two = Picture(12, 10, 3);
                two.Frames.AddFrame(small.Frames.RootFrame);
                Add("two frames", two, new GifEncoder());
                break;
            }
            default:
                Add("tiff", small, new TiffEncoder());
                break;
        }
        return seeds;
    }

    // ---------------------------------------------------------------- arrays and weights

    private static List<SeedCase> Idx(bool gzip)
    {
        static byte[] File(int magic, int[] dims)
        {
            var bytes = new List<byte> { 0, 0, (byte)(magic >> 8), (byte)magic };
            foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
            long count = dims.Aggregate(1L, (a, d) => a * d);
            for (long i = 0; i < count; i++) bytes.Add((byte)(i * 37));
            return bytes.ToArray();
        }
        byte[] Wrap(byte[] raw)
        {
            if (!gzip) return raw;
            var output = new MemoryStream();
            using (var z = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
            return output.ToArray();
        }
        string name = gzip ? "data-idx.gz" : "data-idx";
        return [Single("images", name, Wrap(File(0x0803, [3, 5, 4]))), Single("labels", name, Wrap(File(0x0801, [7])))];
    }

    // The series command's input: a dated column and a value column, and a quoted, gappy multi-column file.
    private static List<SeedCase> CsvSeriesSeeds() =>
    [
        Single("dated", "series.csv", Encoding.UTF8.GetBytes("date,co2\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"1958{i:D4},{316.1 + 0.37 * i:F1}\n")))),
        Single("quoted", "series.csv", Encoding.UTF8.GetBytes("\"t\",\"a, b\",value\n1,\"x\",0.5\n2,\"y \"\"q\"\"\",\n3,z,-1.25e3\n4,w,7\n")),
    ];

    private static List<SeedCase> Npy() =>
    [
        Single("batch", "x.npy", NpyFile.ToBytes(Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray(), [2, 3, 4])),
        Single("vector", "x.npy", NpyFile.ToBytes([1f, 2f, 3f], [3])),
    ];

    private static byte[] WrittenBy(string name, Action<string> write)
    {
        string dir = Directory.CreateTempSubdirectory("convengine-fuzz-seed-").FullName;
        try
        {
            string path = Path.Combine(dir, name);
            write(path);
            return File.ReadAllBytes(path);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static List<SeedCase> SafeTensorsSeeds() =>
    [
        Single("two tensors", "w.safetensors", WrittenBy("w.safetensors", p => SafeTensors.Write(p,
            [("conv2d/kernel", [3, 3, 1, 2], Enumerable.Range(0, 18).Select(i => i / 18f).ToArray()), ("conv2d/bias", [2], [0.5f, -0.5f])],
            new Dictionary<string, string> { ["format"] = "convengine" }))),
    ];

    private static void ReadSafeTensors(string path)
    {
        using var file = SafeTensors.Open(path);
        foreach (var tensor in file.Tensors) file.Read(tensor.Name);
    }

    // ---------------------------------------------------------------- engine files

    private static Model SmallModel(ulong seed = 3)
    {
        LayerNames.Reset();
        var model = new Sequential(seed: seed)
        {
            new InputLayer(8, 8, 1),
            new Conv2D(2, 3, padding: "same", activation: "relu"), new MaxPool2D(),
            new Flatten(),
            new Dense(2, activation: "softmax"),
        };
        model.Compile(new Adam(), "sparse_categorical_crossentropy", ["accuracy"]);
        return model;
    }

    private static Dictionary<string, byte[]> FolderFiles(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    private static List<SeedCase> ModelFolder(string mutable)
    {
        string dir = Directory.CreateTempSubdirectory("convengine-fuzz-seed-").FullName;
        try
        {
            using var model = SmallModel();
            model.Save(Path.Combine(dir, "m"));
            return [new SeedCase("model folder", FolderFiles(Path.Combine(dir, "m")), "", [mutable])];
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static List<SeedCase> DatasetJson() =>
    [
        Single("dataset", "dataset.json", Encoding.UTF8.GetBytes(new DatasetInfo(["cat", "dog"], 28, 28, ColorMode.Grayscale, "data/train").ToJson().ToJsonString())),
    ];

    private static List<SeedCase> CheckpointFolder()
    {
        string dir = Directory.CreateTempSubdirectory("convengine-fuzz-seed-").FullName;
        try
        {
            using var model = SmallModel();
            var samples = Enumerable.Range(0, 4 * 64).Select(i => (i % 13) / 13f).ToArray();
            model.Fit(new ArrayBatchSource(samples, [8, 8, 1], [0, 1, 1, 0], ["a", "b"], batchSize: 2), epochs: 1, checkpointDir: dir);
            string checkpoint = Checkpoint.FindLatest(dir)!;
            var files = FolderFiles(checkpoint);
            // Named as Fit names it, so the folder-name check applies; every file of it may be mutated.
            return [new SeedCase("epoch-0001", files.ToDictionary(kv => Path.Combine("epoch-0001", kv.Key), kv => kv.Value), "epoch-0001",
                files.Keys.Select(k => Path.Combine("epoch-0001", k)).ToList())];
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    // ---------------------------------------------------------------- Keras

    private static string KerasConfig()
    {
        using var model = SmallModel();
        // model.to_json(): the architecture without the engine's format stamp, as Keras writes it.
        var json = System.Text.Json.Nodes.JsonNode.Parse(model.ToJson())!.AsObject();
        json.Remove("format");
        json.Remove("format_version");
        return json.ToJsonString();
    }

    private static List<SeedCase> KerasJson() => [Single("sequential", "model.json", Encoding.UTF8.GetBytes(KerasConfig()))];

    private static void WriteKerasH5(string path, Model model, string? modelConfig)
    {
        var weightsRoot = modelConfig is null ? new H5File() : new H5Group();
        var layers = model.NamedParameters.GroupBy(p => p.Parameter.Owner.Name).ToList();
        var names = model.Layers.Select(l => l.Name).ToList();
        foreach (var layerName in names)
        {
            var group = new H5Group();
            var weights = layers.FirstOrDefault(g => g.Key == layerName)?.ToList() ?? [];
            group.Attributes["weight_names"] = weights.Count == 0 ? new H5Attribute(Array.Empty<double>(), dimensions: [0])
                : weights.Select(w => $"{layerName}/{w.Parameter.Name}:0").ToArray();
            if (weights.Count > 0)
            {
                var inner = new H5Group();
                foreach (var w in weights)
                    inner[$"{w.Parameter.Name}:0"] = new H5Dataset(w.Parameter.ToArray(), fileDims: w.Parameter.Shape.ToArray().Select(d => (ulong)d).ToArray());
                group[layerName] = inner;
            }
            weightsRoot[layerName] = group;
        }
        weightsRoot.Attributes["layer_names"] = names.ToArray();
        weightsRoot.Attributes["backend"] = "tensorflow";
        weightsRoot.Attributes["keras_version"] = "2.15.0";
        var file = weightsRoot as H5File ?? new H5File { ["model_weights"] = weightsRoot };
        if (modelConfig is not null) file.Attributes["model_config"] = modelConfig;
        file.Write(path);
    }

    private static List<SeedCase> KerasWeightsH5(SeedSources sources)
    {
        using var model = SmallModel();
        model.Initialize();
        var seeds = new List<SeedCase> { Single("purehdf-written", "weights.h5", WrittenBy("weights.h5", p => WriteKerasH5(p, model, null))) };
        // A real tf.keras 2.15 file, as h5py writes it (symbol-table groups, the layout Keras files have).
        if (sources.SharedDirectory is { } shared && Path.Combine(shared, "fixtures", "keras", "mnist_cnn_tfkeras.weights.h5") is var real && File.Exists(real))
            seeds.Add(Single("tf.keras 2.15", "weights.h5", File.ReadAllBytes(real)));
        return seeds;
    }

    private static List<SeedCase> KerasModelH5()
    {
        using var model = SmallModel();
        model.Initialize();
        string config = KerasConfig();
        return [Single("full model", "model.h5", WrittenBy("model.h5", p => WriteKerasH5(p, model, config)))];
    }

    private static List<SeedCase> KerasArchive()
    {
        using var model = SmallModel();
        model.Initialize();
        byte[] saved = WrittenBy("model.keras", p => KerasFiles.Save(model, p));
        // The same members with a fixed timestamp, so the seed (and every case made from it) is the same on every run.
        var output = new MemoryStream();
        using (var from = new ZipArchive(new MemoryStream(saved), ZipArchiveMode.Read))
        using (var to = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in from.Entries)
            {
                var copy = to.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
                copy.LastWriteTime = new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);
                using var source = entry.Open();
                using var target = copy.Open();
                var bytes = new MemoryStream();
                source.CopyTo(bytes);
                // metadata.json's date_saved is the clock; fixed too.
                byte[] content = entry.FullName != KerasFiles.MetadataMember ? bytes.ToArray() : Encoding.UTF8.GetBytes(
                    System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(bytes.ToArray()), "\"date_saved\":\"[^\"]*\"", "\"date_saved\":\"2026-12-03@00:00:00\""));
                target.Write(content);
            }
        return [Single("model.keras", "model.keras", output.ToArray())];
    }

    // ---------------------------------------------------------------- ONNX and TF.js

    private static void ReadOnnx(string path)
    {
        using var backend = new CpuBackend();
        OnnxImporter.Load(path, backend).Dispose();
    }

    private static byte[] BuiltOnnx()
    {
        var graph = new GraphProto { Name = "fuzz" };
        TensorProto Floats(string name, long[] dims)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.Dims.AddRange(dims);
            long n = dims.Aggregate(1L, (a, d) => a * d);
            for (long i = 0; i < n; i++) t.FloatData.Add((i % 7 - 3) / 10f);
            return t;
        }
        ValueInfoProto Value(string name, long[]? dims)
        {
            var shape = new TensorShapeProto();
            if (dims is not null) foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
        }
        NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { Name = op.ToLowerInvariant(), OpType = op };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            node.Attribute.AddRange(attributes);
            return node;
        }
        AttributeProto Ints(string name, params long[] values)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(values);
            return a;
        }
        graph.Input.Add(Value("x", [1, 2, 6, 6]));
        graph.Initializer.Add(Floats("w", [3, 2, 3, 3]));
        graph.Initializer.Add(Floats("b", [3]));
        graph.Initializer.Add(Floats("g", [2, 12]));
        graph.Node.Add(Node("Conv", ["x", "w", "b"], ["c"], Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3)));
        graph.Node.Add(Node("Relu", ["c"], ["r"]));
        graph.Node.Add(Node("MaxPool", ["r"], ["p"], Ints("kernel_shape", 3, 3), Ints("strides", 3, 3)));
        graph.Node.Add(Node("Flatten", ["p"], ["f"]));
        graph.Node.Add(Node("Gemm", ["f", "g"], ["y"], new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 }));
        graph.Output.Add(Value("y", null));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "convengine-fuzz" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    private static IEnumerable<string> ConformanceCases(SeedSources sources) =>
        sources.SharedDirectory is { } shared && Path.Combine(shared, "conformance", "onnx-pytorch-converted") is var dir && Directory.Exists(dir)
            ? new[] { "test_Conv2d", "test_MaxPool2d", "test_Linear", "test_BatchNorm2d_eval", "test_AvgPool2d" }.Select(c => Path.Combine(dir, c)).Where(Directory.Exists)
            : [];

    private static List<SeedCase> Onnx(SeedSources sources)
    {
        var seeds = new List<SeedCase> { Single("built", "model.onnx", BuiltOnnx()) };
        foreach (var c in ConformanceCases(sources)) seeds.Add(Single(Path.GetFileName(c), "model.onnx", File.ReadAllBytes(Path.Combine(c, "model.onnx"))));
        return seeds;
    }

    private static List<SeedCase> OnnxTensors(SeedSources sources)
    {
        var t = new TensorProto { Name = "x", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[4 * 6]) };
        t.Dims.AddRange([2, 3]);
        var seeds = new List<SeedCase> { Single("built", "input_0.pb", t.ToByteArray()) };
        foreach (var c in ConformanceCases(sources))
            seeds.Add(Single(Path.GetFileName(c), "input_0.pb", File.ReadAllBytes(Path.Combine(c, "test_data_set_0", "input_0.pb"))));
        return seeds;
    }

    private static List<SeedCase> Tfjs(SeedSources sources)
    {
        string root = Path.Combine(sources.RepositoryRoot, "tests", "ConvEngine.Tests", "Fixtures", "tfjs", "models");
        var seeds = new List<SeedCase>();
        foreach (string name in new[] { "sequential_cnn", "sequential_cnn-uint8", "functional_branches" })
        {
            string dir = Path.Combine(root, name);
            if (!Directory.Exists(dir)) continue;
            var files = Directory.EnumerateFiles(dir).Where(f => Path.GetFileName(f) != "expected.json")
                .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
            // model.json first: the special cases (a device, a link loop…) replace the first mutable file.
            seeds.Add(new SeedCase(name, files, "model.json", files.Keys.OrderBy(k => k == "model.json" ? 0 : 1).ToList()));
        }
        return seeds;
    }
}
