using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConvEngine.Import.Keras;
using ConvEngine.Serialization;

namespace ConvEngine.Import.TfJs;

/// <summary>A TF.js model or weights file that cannot be read: the message names the file and the weight, shard or layer.</summary>
public sealed class TfjsImportException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>One weight of a TF.js manifest: its name ("conv2d_Conv2D1/kernel"), shape, dtype, and its values as float32.</summary>
internal sealed record TfjsWeight(string Name, int[] Shape, string Dtype, string? Quantization, float[] Values)
{
    /// <summary>As a Keras weight, for the loaders that pair weights with layers.</summary>
    public KerasWeight AsKerasWeight() => new(Name, Shape, Values);
}

/// <summary>
/// The TF.js weights format (tfjs-core io): <c>weightsManifest</c> is a list of groups, each with <c>paths</c> (shard
/// files relative to the manifest) and <c>weights</c> (name, shape, dtype, optional quantization). A group's shards,
/// concatenated in order, hold its weights back to back: float32/int32 in 4 little-endian bytes, bool in 1; a
/// quantized weight in 1 (uint8) or 2 (uint16, float16) bytes per value, dequantised as tfjs does (min + scale·q,
/// rounded for int32; float16 widened). Every declared size is checked against the shard files' lengths before
/// anything is allocated; a missing or short shard, a size mismatch or an unknown dtype names the file and weight.
/// </summary>
internal static class TfjsWeightsManifest
{
    /// <summary>model.json files beyond this are refused unread: real topologies are a few MB at most.</summary>
    public const long MaxJsonBytes = 64L << 20;

    /// <summary>Reads a JSON file (model.json, or a weights manifest), bounded by <see cref="MaxJsonBytes"/>.</summary>
    public static JsonObject ReadJson(string path, string what)
    {
        // A regular file (not a device or FIFO), strict JSON (UTF-8, no duplicate keys): the engine's one JSON reader.
        long length = Serialization.InputFile.Check(path, what);
        if (length > MaxJsonBytes)
            throw new TfjsImportException($"{path}: {length} bytes is more than a {what} can be ({MaxJsonBytes} bytes at most).");
        try
        {
            return Serialization.JsonFile.ParseObject(Serialization.InputFile.ReadAllBytes(path, what, MaxJsonBytes), path);
        }
        catch (FormatException e)
        {
            throw new TfjsImportException(e.Message, e);
        }
    }

    /// <summary>Reads every weight a manifest file lists (a model.json, or a JSON object with <c>weightsManifest</c>).</summary>
    public static IReadOnlyList<TfjsWeight> Read(string path)
    {
        var root = ReadJson(path, "TF.js manifest");
        return Read(root["weightsManifest"], path);
    }

    /// <summary>Reads the weights of a parsed <c>weightsManifest</c>; shard paths are relative to <paramref name="path"/>'s folder.</summary>
    public static IReadOnlyList<TfjsWeight> Read(JsonNode? manifest, string path)
    {
        if (manifest is not JsonArray groups)
            throw new TfjsImportException($"{path}: no 'weightsManifest' list (the TF.js weights manifest).");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var plans = groups.Select((g, i) => PlanGroup(g, i, folder, path)).ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var weight in plans.SelectMany(p => p.Weights))
            if (!names.Add(weight.Name)) throw new TfjsImportException($"{path}: weight {QuotedName.Of(weight.Name)} is listed twice in weightsManifest.");

        var result = new List<TfjsWeight>();
        foreach (var plan in plans)
        {
            using var shards = new ShardReader(plan.Shards);
            foreach (var weight in plan.Weights) result.Add(ReadWeight(weight, shards, path));
        }
        return result;
    }

    private sealed record WeightPlan(string Name, int[] Shape, long Count, string Dtype, string? Quantization, double Scale, double Min, int BytesPerValue)
    {
        public long ByteLength => Count * BytesPerValue;
    }

    private sealed record GroupPlan(IReadOnlyList<(string Path, long Length)> Shards, IReadOnlyList<WeightPlan> Weights);

    private static GroupPlan PlanGroup(JsonNode? node, int index, string folder, string path)
    {
        string group = $"weightsManifest[{index}]";
        if (node is not JsonObject o || o["paths"] is not JsonArray paths || o["weights"] is not JsonArray weights)
            throw new TfjsImportException($"{path}: {group} must be an object with 'paths' and 'weights' lists.");
        var shards = new List<(string, long)>();
        foreach (var p in paths)
        {
            string relative = p is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s
                : throw new TfjsImportException($"{path}: {group} lists a shard path that is not a string: {p?.ToJsonString()}.");
            if (relative.Contains("://", StringComparison.Ordinal) || Path.IsPathRooted(relative))
                throw new TfjsImportException($"{path}: {group} shard '{relative}' is not a path relative to the manifest; only local shards beside it are read.");
            string full = Path.GetFullPath(Path.Combine(folder, Uri.UnescapeDataString(relative)));
            if (!full.StartsWith(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new TfjsImportException($"{path}: {group} shard '{relative}' leads out of the manifest's folder; only shards beside it are read.");
            if (Serialization.FileKinds.Of(full) == Serialization.FileKind.Missing)
                throw new TfjsImportException($"{path}: shard '{relative}' of {group} is missing (looked for {full}).");
            long shardLength;
            try { shardLength = Serialization.InputFile.Check(full, "TF.js weight shard"); }
            catch (IOException e) { throw new TfjsImportException($"{path}: {e.Message}", e); }
            shards.Add((full, shardLength));
        }
        var plans = weights.Select(w => PlanWeight(w, group, path)).ToList();
        long declared = 0, stored = shards.Sum(s => s.Item2);
        foreach (var w in plans)
        {
            declared += w.ByteLength;
            if (declared > stored)
                throw new TfjsImportException($"{path}: weight {QuotedName.Of(w.Name)} {KerasWeight.FormatShape(w.Shape)} ends at byte {declared} of {group}, " +
                    $"but its shards ({string.Join(", ", shards.Select(s => $"{Path.GetFileName(s.Item1)}: {s.Item2} bytes"))}) hold only {stored}: a shard is short or the manifest is wrong.");
        }
        if (declared != stored)
            throw new TfjsImportException($"{path}: the weights of {group} declare {declared} bytes but its shards hold {stored}; the manifest's shapes and the shards disagree.");
        return new GroupPlan(shards, plans);
    }

    private static WeightPlan PlanWeight(JsonNode? node, string group, string path)
    {
        if (node is not JsonObject w || w["name"] is not JsonValue nameValue || !nameValue.TryGetValue(out string? name))
            throw new TfjsImportException($"{path}: {group} has a weight entry without a name: {Abbreviate(node?.ToJsonString())}.");
        if (w["shape"] is not JsonArray shapeArray)
            throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} has no 'shape' list.");
        var shape = new int[shapeArray.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shapeArray[i] is not JsonValue d || !d.TryGetValue(out long dim) || dim < 0 || dim > int.MaxValue)
                throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} has shape {shapeArray.ToJsonString()}; dimensions must be non-negative integers.");
            shape[i] = (int)dim;
            count = dim == 0 || count <= Array.MaxLength / dim ? count * dim
                : throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} declares shape {shapeArray.ToJsonString()}, more values than one array can hold.");
        }
        string dtype = w["dtype"] is JsonValue t && t.TryGetValue(out string? dt) ? dt : "float32";
        if (dtype is not ("float32" or "int32" or "bool"))
            throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} has dtype {QuotedName.Of(dtype)}; only float32, int32 and bool weights hold numbers a layer can use.");
        if (w["quantization"] is not JsonObject q)
            return new WeightPlan(name, shape, count, dtype, null, 1, 0, dtype == "bool" ? 1 : 4);

        string qtype = q["dtype"] is JsonValue qv && qv.TryGetValue(out string? qs) ? qs : "(none)";
        switch (qtype)
        {
            case "uint8" or "uint16":
                if (dtype is not ("float32" or "int32"))
                    throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} of dtype {dtype} is quantized to {qtype}; TF.js dequantises only float32 and int32 weights.");
                double scale = Number(q, "scale", name, path), min = Number(q, "min", name, path);
                return new WeightPlan(name, shape, count, dtype, qtype, scale, min, qtype == "uint8" ? 1 : 2);
            case "float16":
                if (dtype != "float32")
                    throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} of dtype {dtype} is quantized to float16, which only float32 weights can be.");
                return new WeightPlan(name, shape, count, dtype, qtype, 1, 0, 2);
            default:
                throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} has unknown quantization dtype {QuotedName.Of(qtype)}; TF.js quantises to uint8, uint16 or float16.");
        }
    }

    private static double Number(JsonObject q, string key, string name, string path) =>
        q[key] is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) ? d
        : throw new TfjsImportException($"{path}: weight {QuotedName.Of(name)} is affine-quantized but its quantization has no finite {QuotedName.Of(key)}.");

    private static TfjsWeight ReadWeight(WeightPlan plan, ShardReader shards, string path)
    {
        var values = new float[plan.Count];
        // One bounded buffer, reused: a weight is read in pieces rather than as one byte array as large as itself.
        var buffer = new byte[(int)Math.Min(1 << 16, Math.Max(plan.BytesPerValue, plan.ByteLength))];
        long done = 0;
        int perChunk = buffer.Length / plan.BytesPerValue;
        while (done < plan.Count)
        {
            int n = (int)Math.Min(perChunk, plan.Count - done);
            var bytes = buffer.AsSpan(0, n * plan.BytesPerValue);
            shards.ReadExactly(bytes, plan.Name, path);
            var target = values.AsSpan((int)done, n);
            Decode(plan, bytes, target);
            done += n;
        }
        return new TfjsWeight(plan.Name, plan.Shape, plan.Dtype, plan.Quantization, values);
    }

    private static void Decode(WeightPlan plan, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        switch (plan.Quantization)
        {
            case null when plan.Dtype == "float32":
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                break;
            case null when plan.Dtype == "int32":
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
                break;
            case null:
                for (int i = 0; i < values.Length; i++) values[i] = bytes[i] != 0 ? 1f : 0f;
                break;
            case "float16":
                for (int i = 0; i < values.Length; i++) values[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                break;
            default:
                bool wide = plan.Quantization == "uint16";
                for (int i = 0; i < values.Length; i++)
                {
                    int q = wide ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) : bytes[i];
                    // tfjs computes in double, then stores into a Float32Array (or applies Math.round, halves upward, for int32).
                    double v = q * plan.Scale + plan.Min;
                    values[i] = plan.Dtype == "int32" ? (float)Math.Floor(v + 0.5) : (float)v;
                }
                break;
        }
    }

    private static string Abbreviate(string? text) => text is null ? "null" : text.Length <= 120 ? text : text[..120] + "…";

    /// <summary>A group's shard files read as one stream, in order.</summary>
    private sealed class ShardReader(IReadOnlyList<(string Path, long Length)> shards) : IDisposable
    {
        private int _index = -1;
        private FileStream? _current;

        public void ReadExactly(Span<byte> destination, string weight, string manifest)
        {
            while (destination.Length > 0)
            {
                if (_current is null || _current.Position >= _current.Length)
                {
                    _current?.Dispose();
                    _current = null;
                    if (++_index >= shards.Count)
                        throw new TfjsImportException($"{manifest}: the shards end inside weight {QuotedName.Of(weight)} (a shard changed while it was read?).");
                    _current = new FileStream(shards[_index].Path, FileMode.Open, FileAccess.Read, FileShare.Read);
                    continue;
                }
                int n = _current.Read(destination);
                if (n == 0) throw new TfjsImportException($"{manifest}: shard {shards[_index].Path} ended early inside weight {QuotedName.Of(weight)}.");
                destination = destination[n..];
            }
        }

        public void Dispose() => _current?.Dispose();
    }
}
