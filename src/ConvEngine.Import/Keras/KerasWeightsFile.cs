using ConvEngine.Serialization;
using PureHDF;

namespace ConvEngine.Import.Keras;

/// <summary>
/// The weights of a Keras HDF5 file, read with PureHDF. Both layouts Keras has written are read the way Keras's
/// own loader reads them, through the attributes rather than by guessing dataset names:
/// the root attribute <c>layer_names</c> gives the layers in order, and each layer group's <c>weight_names</c>
/// gives its datasets in order, as paths relative to the group. tf.keras 2 <c>save_weights</c> files name them
/// "conv2d/kernel:0" (a dataset at <c>conv2d/conv2d/kernel:0</c>); Keras 1 files such as the VGG16 ImageNet notop
/// file name them "block1_conv1_W_1:0" (directly under <c>block1_conv1/</c>). Full-model files (<c>model.save</c>)
/// hold the same structure under <c>model_weights/</c> plus the architecture in the root attribute <c>model_config</c>.
/// </summary>
public sealed partial class KerasWeightsFile
{
    /// <summary>Deflate cannot shrink data by more than about 1032:1, so a chunked dataset declaring more is corrupt.</summary>
    private const long MaxCompressionRatio = 1032;

    private readonly Dictionary<string, KerasLayerWeights> _byName;

    private KerasWeightsFile(string path, string? kerasVersion, string? backend, string? modelConfigJson, IReadOnlyList<KerasLayerWeights> layers)
    {
        Path = path;
        KerasVersion = kerasVersion;
        Backend = backend;
        ModelConfigJson = modelConfigJson;
        Layers = layers;
        _byName = layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
    }

    /// <summary>The file's path, as given.</summary>
    public string Path { get; }
    /// <summary>The root <c>keras_version</c> attribute ("2.15.0"); null in Keras 1 files, which do not write it.</summary>
    public string? KerasVersion { get; }
    /// <summary>The root <c>backend</c> attribute ("tensorflow"), if present.</summary>
    public string? Backend { get; }
    /// <summary>The root <c>model_config</c> attribute of a full-model file (the architecture as Keras JSON); null for weights-only files.</summary>
    public string? ModelConfigJson { get; }
    /// <summary>Every layer in <c>layer_names</c> order, including layers without weights.</summary>
    public IReadOnlyList<KerasLayerWeights> Layers { get; }
    /// <summary>The layers that hold weights, in file order (what Keras's topological loading pairs with the model's weighted layers).</summary>
    public IReadOnlyList<KerasLayerWeights> WeightedLayers => Layers.Where(l => l.Weights.Count > 0).ToList();

    /// <summary>Whether the file has a layer named <paramref name="layerName"/>.</summary>
    public bool Contains(string layerName) => _byName.ContainsKey(layerName);

    /// <summary>The weights of the layer named <paramref name="layerName"/>; an error naming the file when there is none.</summary>
    public KerasLayerWeights this[string layerName] => _byName.TryGetValue(layerName, out var layer) ? layer
        : throw new KeyNotFoundException($"{Path}: no layer {QuotedName.Of(layerName)}; the file holds {QuotedName.List(Layers.Select(l => l.Name))}.");

    /// <summary>
    /// Reads every weight of the file. Before reading any data, each dataset's type (float32) and declared size are
    /// checked, and the sizes against the file's length, so a corrupt header cannot make the reader allocate
    /// more than the file could hold. Errors name the file and the dataset or attribute.
    /// </summary>
    public static KerasWeightsFile Read(string path)
    {
        if (FileKinds.Of(path) == FileKind.Missing) throw new FileNotFoundException($"No Keras weights file at {path}.", path);
        using var stream = new GuardedHdf5Stream(InputFile.OpenRead(path, "Keras weights file"));
        long fileLength = stream.Length;
        try
        {
            var result = ReadGuarded(path, stream, fileLength);
            if (stream.Trip is { } trip) throw new KerasImportException($"{path}: {trip}.");
            return result;
        }
        catch (Exception e) when (stream.Trip is { } trip && e is not OperationCanceledException)
        {
            throw new KerasImportException($"{path}: {trip}.", e);
        }
        catch (OutOfMemoryException e)
        {
            // PureHDF sizes some buffers (variable-length strings, heaps) from the file before reading them.
            throw new KerasImportException($"{path}: it declares an object larger than memory allows ({e.Message}); the file is corrupt.", e);
        }
    }

    private static KerasWeightsFile ReadGuarded(string path, GuardedHdf5Stream stream, long fileLength)
    {
        try
        {
            using var file = H5File.Open(stream, leaveOpen: true);
            string? modelConfig = ReadString(file, "model_config", path, "/");
            string? kerasVersion = ReadString(file, "keras_version", path, "/");
            string? backend = ReadString(file, "backend", path, "/");

            // Full-model files keep the weights one group down, with their own layer_names.
            IH5Group weightsRoot = file;
            string prefix = "";
            if (file.LinkExists("model_weights"))
            {
                weightsRoot = file.Group("model_weights");
                prefix = "model_weights/";
                kerasVersion ??= ReadString(weightsRoot, "keras_version", path, prefix);
                backend ??= ReadString(weightsRoot, "backend", path, prefix);
            }

            var layerNames = ReadStrings(weightsRoot, "layer_names", path, "/" + prefix);
            if (layerNames is null && prefix.Length == 0 && IsKeras3Layout(file))
                return ReadKeras3(file, path, fileLength, stream);
            if (layerNames is null)
                throw new KerasImportException($"{path}: no 'layer_names' attribute at /{prefix} (Keras 2) and no layers/ or vars/ groups (Keras 3): this is not a Keras HDF5 weights file.");
            var duplicate = layerNames.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new KerasImportException($"{path}: layer {QuotedName.Of(duplicate.Key)} is listed twice in layer_names.");

            var plans = PlanReads(weightsRoot, prefix, layerNames, path, fileLength);
            var layers = plans.Select(layer => new KerasLayerWeights(layer.Name,
                layer.Datasets.Select(d => ReadDataset(d, path, stream)).ToList())).ToList();
            return new KerasWeightsFile(path, kerasVersion, backend, modelConfig, layers);
        }
        catch (Exception e) when (e is not (KerasImportException or OutOfMemoryException or OperationCanceledException))
        {
            // PureHDF reports truncation and format problems with bare exceptions that do not name the file.
            throw new KerasImportException($"{path}: cannot read it as a Keras HDF5 file ({e.GetType().Name}: {Printable(e.Message)}). " +
                "The file may be truncated, corrupt or not HDF5.", e);
        }
    }

    // StoredBytes: the fewest bytes of the file its values can come from (all of them unless compressed).
    private sealed record DatasetPlan(string WeightName, string DatasetPath, IH5Dataset Dataset, int[] Shape, long ValueCount, long StoredBytes);

    private sealed record LayerPlan(string Name, IReadOnlyList<DatasetPlan> Datasets);

    /// <summary>Resolves every dataset and checks its type and declared size before anything is read.</summary>
    private static List<LayerPlan> PlanReads(IH5Group weightsRoot, string prefix, IReadOnlyList<string> layerNames, string path, long fileLength)
    {
        var plans = new List<LayerPlan>();
        long storedBytes = 0;
        foreach (string layerName in layerNames)
        {
            if (!weightsRoot.LinkExists(layerName) || weightsRoot.Get(layerName) is not IH5Group group)
                throw new KerasImportException($"{path}: layer {QuotedName.Of(layerName)} is listed in layer_names but there is no group {QuotedName.Of($"/{prefix}{layerName}")}.");
            var weightNames = ReadStrings(group, "weight_names", path, $"/{prefix}{layerName}")
                ?? throw new KerasImportException($"{path}: group {QuotedName.Of($"/{prefix}{layerName}")} has no 'weight_names' attribute.");
            var datasets = new List<DatasetPlan>();
            foreach (string weightName in weightNames)
            {
                string datasetPath = $"/{prefix}{layerName}/{weightName}";
                if (!group.LinkExists(weightName) || group.Get(weightName) is not IH5Dataset dataset)
                    throw new KerasImportException($"{path}: dataset {QuotedName.Of(datasetPath)} is missing (layer {QuotedName.Of(layerName)} lists {QuotedName.Of(weightName)} in weight_names).");
                datasets.Add(PlanDataset(weightName, datasetPath, dataset, path, fileLength, ref storedBytes));
            }
            plans.Add(new LayerPlan(layerName, datasets));
        }
        return plans;
    }

    /// <summary>
    /// Checks one dataset before it is read: float32 (or an integer scalar, such as a Normalization layer's count,
    /// read as a float), a shape one array can hold, and a size the file can hold (contiguous data adds up to at most
    /// the file; chunked data at most what deflate could expand the file to).
    /// </summary>
    private static DatasetPlan PlanDataset(string weightName, string datasetPath, IH5Dataset dataset, string path, long fileLength, ref long storedBytes)
    {
        var shape = ShapeOf(dataset, datasetPath, path);
        bool integerScalar = IsIntegerScalar(dataset, shape);
        if (!integerScalar && (dataset.Type.Class != H5DataTypeClass.FloatingPoint || dataset.Type.Size != 4))
            throw new KerasImportException($"{path}: dataset {QuotedName.Of(datasetPath)} holds {DescribeType(dataset.Type)}; only float32 weights (and integer scalars) are supported.");
        long count = 1;
        foreach (int d in shape)
            count = d == 0 || count <= Array.MaxLength / d ? count * d
                : throw new KerasImportException($"{path}: dataset {QuotedName.Of(datasetPath)} declares shape {KerasWeight.FormatShape(shape)}, more values than one array can hold.");
        long bytes = count * dataset.Type.Size;
        if (count > Array.MaxLength)
            throw new KerasImportException($"{path}: dataset {QuotedName.Of(datasetPath)} declares shape {KerasWeight.FormatShape(shape)} = {count} values, more than one array can hold.");
        if (dataset.Layout.Class == H5DataLayoutClass.VirtualStorage || Hdf5DatasetFacts.HasExternalStorage(dataset))
            throw new KerasImportException($"{path}: dataset {QuotedName.Of(datasetPath)} keeps its values in other files (HDF5 " +
                $"{(dataset.Layout.Class == H5DataLayoutClass.VirtualStorage ? "virtual dataset" : "external storage")}); only values stored in the file itself are read.");
        var layout = dataset.Layout.Class;
        // Only a filter (deflate) lets a dataset take fewer bytes in the file than its values need.
        long ratio = layout == H5DataLayoutClass.Chunked && Hdf5DatasetFacts.MayBeCompressed(dataset) ? MaxCompressionRatio : 1;
        long stored = (bytes + ratio - 1) / ratio;
        if (stored > fileLength)
            throw new KerasImportException($"{path}: dataset {QuotedName.Of(datasetPath)} declares shape {KerasWeight.FormatShape(shape)} = {bytes} bytes " +
                $"but the file is only {fileLength} bytes long: the file is truncated or its header is corrupt.");
        if (layout != H5DataLayoutClass.Compact && (storedBytes += stored) > fileLength)
            throw new KerasImportException($"{path}: the datasets up to {QuotedName.Of(datasetPath)} declare at least {storedBytes} bytes of data " +
                $"but the file is only {fileLength} bytes long: the file is truncated or its header is corrupt.");
        Kernels.MemoryBudget.Check(bytes, () => $"{path}: dataset {QuotedName.Of(datasetPath)} {KerasWeight.FormatShape(shape)}");
        return new DatasetPlan(weightName, datasetPath, dataset, shape, count, stored);
    }

    private static KerasWeight ReadDataset(DatasetPlan plan, string path, GuardedHdf5Stream stream)
    {
        float[] values;
        long before = stream.BytesRead;
        try
        {
            values = plan.ValueCount == 0 ? []
                : IsIntegerScalar(plan.Dataset, plan.Shape) ? [plan.Dataset.Type.Size == 8 ? plan.Dataset.Read<long[]>()[0] : plan.Dataset.Read<int[]>()[0]]
                : plan.Dataset.Read<float[]>();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new KerasImportException($"{path}: cannot read dataset {plan.DatasetPath} {KerasWeight.FormatShape(plan.Shape)} " +
                $"({e.GetType().Name}: {Printable(e.Message)}); the file may be truncated or corrupt.", e);
        }
        if (values.Length != plan.ValueCount)
            throw new KerasImportException($"{path}: dataset {plan.DatasetPath} declares {plan.ValueCount} values but {values.Length} were read.");
        // Values PureHDF did not read from this file came from the fill value (chunks or storage never written) or
        // from elsewhere: either way they are not the weights. Compact data sits in the object header, read earlier.
        long read = stream.BytesRead - before;
        if (plan.Dataset.Layout.Class != H5DataLayoutClass.Compact && read < plan.StoredBytes)
            throw new KerasImportException($"{path}: dataset {plan.DatasetPath} {KerasWeight.FormatShape(plan.Shape)} has only {read} of its " +
                $"{plan.StoredBytes} bytes stored in the file (its storage was never written, or lies elsewhere): the file is truncated or corrupt.");
        return new KerasWeight(plan.WeightName, plan.Shape, values);
    }

    /// <summary>A signed or unsigned 32/64-bit integer with one value (Keras's Normalization count, an int64 scalar).</summary>
    private static bool IsIntegerScalar(IH5Dataset dataset, int[] shape) =>
        dataset.Type.Class == H5DataTypeClass.FixedPoint && dataset.Type.Size is 4 or 8 && shape.Aggregate(1L, (a, d) => a * d) == 1;

    private static int[] ShapeOf(IH5Dataset dataset, string datasetPath, string path)
    {
        if (dataset.Space.Type == H5DataspaceType.Scalar) return [];
        if (dataset.Space.Type == H5DataspaceType.Null) return [0];
        return dataset.Space.Dimensions.Select(d => d <= int.MaxValue ? (int)d
            : throw new KerasImportException($"{path}: dataset {QuotedName.Of(datasetPath)} has a dimension of {d}, too large to address.")).ToArray();
    }

    /// <summary>PureHDF quotes bytes of the file in some messages; control characters become '?' so the message stays one line.</summary>
    private static string Printable(string message) => new(message.Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static string DescribeType(IH5DataType type) => type.Class switch
    {
        H5DataTypeClass.FloatingPoint => $"float{type.Size * 8}",
        H5DataTypeClass.FixedPoint => $"{(type.FixedPoint.IsSigned ? "int" : "uint")}{type.Size * 8}",
        _ => $"{type.Class} data ({type.Size} bytes per value)",
    };

    /// <summary>
    /// A string-list attribute, fixed-length (Keras 1, h5py from numpy bytes) or variable-length (tf.keras 2);
    /// null when absent. Keras splits lists too large for one object header into name0, name1, …; those are joined.
    /// An empty list is stored as an empty float64 array, whose type does not matter.
    /// </summary>
    internal static IReadOnlyList<string>? ReadStrings(IH5Object owner, string name, string path, string where)
    {
        if (owner.AttributeExists(name)) return ReadStringAttribute(owner.Attribute(name), name, path, where);
        if (!owner.AttributeExists(name + "0")) return null;
        var all = new List<string>();
        for (int chunk = 0; owner.AttributeExists($"{name}{chunk}"); chunk++)
            all.AddRange(ReadStringAttribute(owner.Attribute($"{name}{chunk}"), $"{name}{chunk}", path, where));
        return all;
    }

    private static string? ReadString(IH5Object owner, string name, string path, string where)
    {
        if (!owner.AttributeExists(name)) return null;
        var values = ReadStringAttribute(owner.Attribute(name), name, path, where);
        return values.Count == 1 ? values[0]
            : throw new KerasImportException($"{path}: attribute {QuotedName.Of(name)} at {QuotedName.Of(where)} should hold one string; it holds {values.Count}.");
    }

    private static IReadOnlyList<string> ReadStringAttribute(IH5Attribute attribute, string name, string path, string where)
    {
        if (attribute.Space.Type == H5DataspaceType.Null) return [];
        bool scalar = attribute.Space.Type == H5DataspaceType.Scalar;
        if (!scalar && attribute.Space.Dimensions.Aggregate(1UL, (a, d) => a * d) == 0) return [];
        if (attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            throw new KerasImportException($"{path}: attribute {QuotedName.Of(name)} at {QuotedName.Of(where)} holds {DescribeType(attribute.Type)}, not strings.");
        string[] values = scalar ? [attribute.Read<string>()] : attribute.Read<string[]>();
        // Fixed-length strings come back with their NUL padding.
        return values.Select(v => (v ?? "").TrimEnd('\0')).ToList();
    }
}
