using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using PureHDF;

namespace ConvEngine.Import.Keras;

/// <summary>
/// Keras 3's files: <c>.keras</c> (a zip of <c>config.json</c>, <c>metadata.json</c> and <c>model.weights.h5</c>, as
/// saving_lib.save_model writes it) and <c>.weights.h5</c> (save_weights: the same HDF5 layout alone). Reading builds
/// the architecture with the Keras-config reader and loads the weights by Keras 3's paths (<see cref="Keras3Layout"/>);
/// writing produces the same members, paths and dataset names, so Keras 3's load_model reads the files back.
/// </summary>
public static class KerasFiles
{
    /// <summary>The archive member holding the model's architecture.</summary>
    public const string ConfigMember = "config.json";
    /// <summary>The archive member holding the Keras version and save date.</summary>
    public const string MetadataMember = "metadata.json";
    /// <summary>The archive member holding the weights (HDF5, Keras 3 layout).</summary>
    public const string WeightsMember = "model.weights.h5";
    /// <summary>The Keras release whose saving_lib layout the writer follows (vars groups named, as since 3.6), recorded in metadata.json.</summary>
    public const string WrittenKerasVersion = "3.15.1";
    /// <summary>config.json and metadata.json beyond this are refused unread.</summary>
    private const long MaxJsonBytes = 64L << 20;
    /// <summary>Deflate cannot expand data more than about 1032:1; a member declaring more is corrupt or a zip bomb.</summary>
    private const long MaxCompressionRatio = 1032;

    private static readonly byte[] ZipSignature = [(byte)'P', (byte)'K', 3, 4];

    /// <summary>True when the file starts like a zip archive (a .keras file is one).</summary>
    public static bool LooksLikeZip(ReadOnlySpan<byte> head) => head.StartsWith(ZipSignature);

    /// <summary>Reads a .keras file: the model its config.json describes, with every weight from model.weights.h5.</summary>
    /// <exception cref="KerasImportException">Not a zip, a zip without the .keras members, or a member that is corrupt, oversized or does not fit the config.</exception>
    public static Model Load(string path, IBackend? backend = null, ulong? seed = null)
    {
        try
        {
            return LoadChecked(path, backend, seed);
        }
        catch (InvalidDataException e)
        {
            // The zip reader checks its directory and each member's data lazily, with messages that do not name the file.
            throw new KerasImportException($"{path}: not a readable .keras file: the zip archive is corrupt ({e.Message}).", e);
        }
    }

    private static Model LoadChecked(string path, IBackend? backend, ulong? seed)
    {
        Serialization.InputFile.Check(path, "Keras file");   // a regular file: not a device, FIFO or folder
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new KerasImportException($"{path}: not a .keras file: it is not a readable zip archive ({e.Message}).", e);
        }
        using (zip)
        {
            var members = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            if (!members.Contains(ConfigMember) || !members.Contains(WeightsMember))
            {
                string found = zip.Entries.Count == 0 ? "nothing" : QuotedName.List(zip.Entries.Select(e => e.FullName), maxNames: 10);
                throw new KerasImportException(members.Contains(ConfigMember) && members.Contains("model.weights.npz")
                    ? $"{path}: its weights are model.weights.npz (Keras's npz weights format), which is not read; save with the default h5 weights."
                    : $"{path}: a zip that is not a .keras file: a .keras holds {ConfigMember}, {MetadataMember} and {WeightsMember}; this one holds {found}.");
            }
            var config = ReadJsonMember(zip.GetEntry(ConfigMember)!, path);
            var model = KerasModels.FromJson(config, backend, seed, $"{path} ({ConfigMember})");
            try
            {
                LoadWeightsMember(model, zip.GetEntry(WeightsMember)!, path);
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
    }

    /// <summary>Loads only the weights of a .keras file into an already built <paramref name="model"/> (Keras's load_weights("m.keras")).</summary>
    public static void LoadWeights(Model model, string path)
    {
        Serialization.InputFile.Check(path, "Keras file");   // a regular file: not a device, FIFO or folder
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var entry = zip.GetEntry(WeightsMember)
                ?? throw new KerasImportException($"{path}: a zip that is not a .keras file: it has no {WeightsMember}.");
            LoadWeightsMember(model, entry, path);
        }
        catch (InvalidDataException e)
        {
            throw new KerasImportException($"{path}: not a .keras file: it is not a readable zip archive ({e.Message}).", e);
        }
    }

    /// <summary>Writes <paramref name="model"/> as a Keras 3 .keras file, atomically (nothing is left at <paramref name="path"/> if it fails).</summary>
    /// <exception cref="ModelExportException">A layer Keras does not have (named), before anything is written.</exception>
    public static void Save(Model model, string path)
    {
        model.Initialize();
        var config = Keras3Config.ToJson(model);
        var metadata = new JsonObject
        {
            ["keras_version"] = WrittenKerasVersion,
            ["date_saved"] = DateTime.Now.ToString("yyyy-MM-dd@HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        };
        byte[] weights = WeightsBytes(model);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            // saving_lib writes metadata.json, config.json, then model.weights.h5, uncompressed (ZIP_STORED).
            Member(zip, MetadataMember, Encoding.UTF8.GetBytes(metadata.ToJsonString()));
            Member(zip, ConfigMember, Encoding.UTF8.GetBytes(config.ToJsonString()));
            Member(zip, WeightsMember, weights);
        });
    }

    /// <summary>Writes the weights alone in Keras 3's layout (model.save_weights("m.weights.h5")), atomically.</summary>
    public static void SaveWeights(Model model, string path)
    {
        model.Initialize();
        Keras3Config.CheckExportable(model);
        byte[] weights = WeightsBytes(model);
        AtomicFile.Write(path, s => s.Write(weights));
    }

    private static void Member(ZipArchive zip, string name, byte[] bytes)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        entry.Write(bytes);
    }

    /// <summary>
    /// model.weights.h5: the model's own (empty) <c>vars</c>, then per layer, in Keras 3's order and naming,
    /// <c>layers/&lt;entry&gt;/vars</c> with the datasets 0, 1, … (the layer's weights in order) and the attribute name.
    /// </summary>
    private static byte[] WeightsBytes(Model model)
    {
        var file = new H5File();
        var groups = new Dictionary<string, H5Group>(StringComparer.Ordinal);
        foreach (var entry in Keras3Layout.Paths(model))
        {
            H5Group parent = file;
            if (entry.Path.Length > 0)
            {
                string[] parts = entry.Path.Split('/');
                for (int i = 0; i < parts.Length; i++)
                {
                    string sub = string.Join('/', parts[..(i + 1)]);
                    if (!groups.TryGetValue(sub, out var group))
                    {
                        groups[sub] = group = new H5Group();
                        parent[parts[i]] = group;
                    }
                    parent = group;
                }
            }
            var vars = new H5Group();
            vars.Attributes["name"] = entry.Layer.Name;
            if (entry.Layer is not Model)
            {
                var parameters = entry.Layer.Parameters;
                for (int i = 0; i < parameters.Count; i++)
                    vars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] =
                        entry.Layer is Normalization norm && ReferenceEquals(parameters[i], norm.Count)
                            // Keras holds Normalization's count as an integer scalar, not a float (1).
                            ? new H5Dataset((long)Math.Round(parameters[i].ToArray()[0]))
                            : new H5Dataset(parameters[i].ToArray(), fileDims: parameters[i].Shape.ToArray().Select(d => (ulong)d).ToArray());
            }
            parent["vars"] = vars;
        }
        using var buffer = new MemoryStream();
        file.Write(buffer);
        return buffer.ToArray();
    }

    private static JsonObject ReadJsonMember(ZipArchiveEntry entry, string path)
    {
        if (entry.Length > MaxJsonBytes)
            throw new KerasImportException($"{path}: {entry.FullName} declares {entry.Length} bytes, more than a model config can be ({MaxJsonBytes}).");
        var bytes = ReadBounded(entry, path);
        try
        {
            // Strict (UTF-8, no duplicate keys), as every JSON the engine reads.
            return Serialization.JsonFile.ParseObject(bytes, $"{path} ({entry.FullName})");
        }
        catch (FormatException e)
        {
            throw new KerasImportException(e.Message, e);
        }
    }

    /// <summary>A member's bytes, never more than it declares (a lying zip header cannot make the reader allocate more).</summary>
    private static byte[] ReadBounded(ZipArchiveEntry entry, string path)
    {
        var bytes = new byte[entry.Length];
        using var stream = entry.Open();
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read < bytes.Length || stream.ReadByte() >= 0)
            throw new KerasImportException($"{path}: {entry.FullName} does not hold the {entry.Length} bytes its zip header declares; the archive is corrupt.");
        return bytes;
    }

    /// <summary>Extracts model.weights.h5 to a temporary file (PureHDF reads files; the size is bounded first) and loads it.</summary>
    private static void LoadWeightsMember(Model model, ZipArchiveEntry entry, string path)
    {
        string source = $"{path} ({WeightsMember})";
        if (entry.Length > Math.Max(entry.CompressedLength, 1) * MaxCompressionRatio)
            throw new KerasImportException($"{source}: declares {entry.Length} bytes from {entry.CompressedLength} compressed; no deflate stream expands that much (a corrupt or hostile archive).");
        string temp = Path.Combine(Path.GetTempPath(), $"convengine-{Environment.ProcessId}-{Guid.NewGuid():N}.weights.h5");
        try
        {
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var input = entry.Open())
            {
                var buffer = new byte[1 << 16];
                long total = 0;
                int n;
                while ((n = input.Read(buffer)) > 0)
                {
                    if ((total += n) > entry.Length)
                        throw new KerasImportException($"{source}: holds more than the {entry.Length} bytes its zip header declares; the archive is corrupt.");
                    output.Write(buffer, 0, n);
                }
                if (total != entry.Length)
                    throw new KerasImportException($"{source}: holds {total} bytes but its zip header declares {entry.Length}; the archive is corrupt.");
            }
            KerasWeightsFile file;
            try
            {
                file = KerasWeightsFile.Read(temp);
            }
            catch (KerasImportException e)
            {
                throw new KerasImportException(e.Message.Replace(temp, source, StringComparison.Ordinal), e);
            }
            if (!file.IsKeras3)
                throw new KerasImportException($"{source}: not in Keras 3's layout (layers/…/vars).");
            Keras3Weights.Load(model, file, source);
        }
        catch (InvalidDataException e)
        {
            throw new KerasImportException($"{source}: cannot be decompressed ({e.Message}); the archive is corrupt.", e);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
