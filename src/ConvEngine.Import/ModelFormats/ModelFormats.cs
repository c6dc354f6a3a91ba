using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConvEngine.Import.Applications;
using ConvEngine.Import.Keras;
using ConvEngine.Import.Onnx;
using ConvEngine.Import.TfJs;
using ConvEngine.Import.Transfer;
using ConvEngine.Kernels;
using ConvEngine.Models;
using ConvEngine.Serialization;

namespace ConvEngine.Import.ModelFormats;

/// <summary>The kinds of model file the engine runs.</summary>
public enum ModelFormat
{
    /// <summary>A folder written by Model.Save or `convengine train` (config.json + model.safetensors), or such a config.json.</summary>
    EngineModel,
    /// <summary>A Keras model.to_json() architecture; weights from a separate file (or a random initialisation).</summary>
    KerasJson,
    /// <summary>A Keras full-model HDF5 file (model.save("m.h5")): architecture and weights.</summary>
    KerasH5,
    /// <summary>An ONNX model (run by the ONNX importer's inference graph).</summary>
    Onnx,
    /// <summary>A Keras 3 .keras file (a zip of config.json, metadata.json and model.weights.h5): architecture and weights.</summary>
    KerasArchive,
    /// <summary>A TensorFlow.js Layers model.json (modelTopology + weightsManifest, shards beside it): architecture and weights.</summary>
    TfjsLayers,
}

/// <summary>
/// Recognises and loads any model the engine can run, by content rather than by name: a folder holding config.json
/// (or model/config.json, a training output); a file starting with HDF5's signature (Keras .h5); a zip (Keras 3 .keras);
/// a JSON object (the engine's config when it says "format": "convengine.model", a TF.js model.json when it has
/// modelTopology or weightsManifest, else a Keras to_json() config); an ONNX protobuf
/// (.onnx, or a file that parses as one). Weights for an architecture-only config come from a Keras .h5 or a
/// safetensors file.
/// </summary>
public static class ModelFormats
{
    private static readonly byte[] Hdf5Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];

    /// <summary>What <paramref name="path"/> holds.</summary>
    /// <exception cref="FormatException">It is none of the formats (the message lists them), or weights without an architecture.</exception>
    public static ModelFormat Detect(string path)
    {
        if (Directory.Exists(path))
        {
            if (FindConfigInFolder(path) is not null) return ModelFormat.EngineModel;
            throw new FileNotFoundException($"Folder '{path}' holds no model: neither {ModelFiles.ConfigFile} nor model/{ModelFiles.ConfigFile} (a Model.Save folder or a `convengine train` output).");
        }
        InputFile.Check(path, "Model");

        byte[] head = ReadHead(path, 4096);
        if (IsHdf5(path, head)) return ModelFormat.KerasH5;
        if (KerasFiles.LooksLikeZip(head)) return ModelFormat.KerasArchive;
        int first = FirstNonSpace(head);
        if (first >= 0 && head[first] == (byte)'{')
            return JsonKind(path);
        if (LooksLikeSafeTensors(head))
            throw new FormatException($"'{path}' is a safetensors weights file, not a model: load an architecture (a config.json or Keras JSON) with this file as its weights, ModelFormats.Load(architecture, weights: \"{path}\").");
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".onnx" || ParsesAsOnnx(path)) return ModelFormat.Onnx;
        if (extension == ".npy")
            throw new FormatException($"'{path}' is a NumPy array, not a model.");
        throw new FormatException($"'{path}' is not a model the engine reads: expected a model folder (config.json + model.safetensors), " +
            "a Keras .h5 full-model file, a Keras 3 .keras file, a TF.js model.json, a Keras or engine JSON config, or an .onnx file.");
    }

    /// <summary>
    /// Loads the model at <paramref name="path"/> on <paramref name="backend"/>. <paramref name="weights"/> (a Keras .h5 or
    /// a .safetensors file) replaces or supplies the weights of an engine or Keras model; ONNX files carry their own.
    /// </summary>
    public static LoadedModel Load(string path, string? weights = null, IBackend? backend = null)
    {
        TransferLayers.Register();
        var format = Detect(path);
        if (weights is not null) InputFile.Check(weights, "Weights file");
        switch (format)
        {
            case ModelFormat.Onnx:
                if (weights is not null)
                    throw new ArgumentException($"'{path}' is an ONNX model, which carries its own weights; the weights file '{weights}' cannot be applied to it.");
            {
                // Without a backend given, the loaded model owns a cpu backend of its own.
                var owned = backend is null ? new Kernels.Cpu.CpuBackend() : null;
                OnnxModel? onnx = null;
                try
                {
                    onnx = OnnxImporter.Load(path, backend ?? owned!);
                    return new LoadedModel(format, path, null, onnx, $"weights from {path}", owned);
                }
                catch
                {
                    onnx?.Dispose();
                    owned?.Dispose();
                    throw;
                }
            }
            case ModelFormat.KerasH5:
            {
                var model = KerasModels.LoadH5(path, backend);
                return WithWeights(model, weights, format, path, $"weights from {path}");
            }
            case ModelFormat.KerasArchive:
            {
                var model = KerasFiles.Load(path, backend);
                return WithWeights(model, weights, format, path, $"weights from {path}");
            }
            case ModelFormat.TfjsLayers:
            {
                var model = TfjsModels.Load(path, backend);
                return WithWeights(model, weights, format, path, $"weights from {path} and its shards");
            }
            case ModelFormat.KerasJson:
            {
                var model = KerasModels.FromJson(JsonFile.ReadObject(path, "Keras model config"), backend, seed: null, source: path);
                return WithWeights(model, weights, format, path, null);
            }
            default:
            {
                string configPath = Directory.Exists(path) ? FindConfigInFolder(path)! : path;
                string directory = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
                string ownWeights = Path.Combine(directory, ModelFiles.WeightsFile);
                if (Path.GetFileName(configPath) == ModelFiles.ConfigFile && File.Exists(ownWeights) && weights is null)
                    return new LoadedModel(ModelFormat.EngineModel, path, Model.Load(directory, backend), null, $"weights from {ownWeights}");
                var model = Model.FromJsonFile(configPath, backend);
                return WithWeights(model, weights, format, path, null);
            }
        }
    }

    /// <summary>config.json in <paramref name="folder"/>, or in its model/ sub-folder (a `convengine train` output).</summary>
    public static string? FindConfigInFolder(string folder) =>
        new[] { Path.Combine(folder, ModelFiles.ConfigFile), Path.Combine(folder, "model", ModelFiles.ConfigFile) }.FirstOrDefault(File.Exists);

    private static LoadedModel WithWeights(Model model, string? weights, ModelFormat format, string path, string? ownWeights)
    {
        if (weights is not null)
        {
            PretrainedWeights.Load(model, weights);
            return new LoadedModel(format, path, model, null, $"weights from {weights}");
        }
        if (ownWeights is not null) return new LoadedModel(format, path, model, null, ownWeights);
        model.Initialize();
        return new LoadedModel(format, path, model, null,
            "no weights file given (a Keras .h5 or a .safetensors): the model runs with a random initialisation");
    }

    private static byte[] ReadHead(string path, int length)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[(int)Math.Min(length, stream.Length)];
        stream.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>HDF5's signature sits at offset 0, or after a user block of 512, 1024, 2048… bytes.</summary>
    private static bool IsHdf5(string path, byte[] head)
    {
        if (head.AsSpan().StartsWith(Hdf5Signature)) return true;
        using var stream = File.OpenRead(path);
        var buffer = new byte[Hdf5Signature.Length];
        for (long offset = 512; offset + buffer.Length <= stream.Length && offset <= 1 << 20; offset *= 2)
        {
            stream.Position = offset;
            stream.ReadExactly(buffer);
            if (buffer.AsSpan().SequenceEqual(Hdf5Signature)) return true;
        }
        return false;
    }

    private static int FirstNonSpace(byte[] head)
    {
        int i = head.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }) ? 3 : 0;   // UTF-8 byte order mark
        while (i < head.Length && head[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        return i < head.Length ? i : -1;
    }

    /// <summary>safetensors: 8 bytes of little-endian header length, then the JSON header.</summary>
    private static bool LooksLikeSafeTensors(byte[] head) =>
        head.Length >= 9 && BitConverter.ToUInt64(head, 0) is > 1 and < 100_000_000 && head[8] == (byte)'{';

    /// <summary>The engine's config says "format": "convengine.model"; a TF.js model.json has modelTopology or weightsManifest; else a Keras to_json() config.</summary>
    private static ModelFormat JsonKind(string path)
    {
        // Strict and bounded (a regular file, UTF-8, no duplicate keys, at most JsonFile.MaxBytes): the engine's one JSON reader.
        var o = JsonFile.ReadObject(path, "Model config");
        if (o["format"] is JsonValue v && v.TryGetValue(out string? tag) && tag == ModelFiles.FormatName) return ModelFormat.EngineModel;
        return TfjsModels.IsModelJson(o) ? ModelFormat.TfjsLayers : ModelFormat.KerasJson;
    }

    /// <summary>A file without the .onnx extension is taken as ONNX only if it parses as a model with a graph of nodes.</summary>
    private static bool ParsesAsOnnx(string path)
    {
        try
        {
            var model = OnnxImporter.ReadModel(path);
            return model.Graph is { Node.Count: > 0 };
        }
        catch (Exception e) when (e is OnnxFormatException or IOException)
        {
            return false;
        }
    }
}
