using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConvEngine.Serialization;

/// <summary>A tensor listed in a safetensors header: its shape and its byte range in the data section.</summary>
public sealed record SafeTensorInfo(string Name, int[] Shape, long Begin, long End)
{
    /// <summary>The number of values: the product of the shape.</summary>
    public long Length => Shape.Aggregate(1L, (a, d) => a * d);
    /// <summary>The shape as "(d0, d1, …)".</summary>
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";
}

/// <summary>
/// The safetensors format, written and read here: an 8-byte little-endian header length, a JSON header
/// mapping each tensor name to {dtype, shape, data_offsets} (plus an optional "__metadata__" map of strings),
/// then the raw little-endian data. Only F32 tensors are written and read.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Writes the tensors atomically (temp file, then rename), in the order given.</summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, float[] Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, shape, data) in list)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__")
                throw new ArgumentException($"safetensors: {QuotedName.Of(name)} is not a valid tensor name.");
            if (header.ContainsKey(name)) throw new ArgumentException($"safetensors: tensor {QuotedName.Of(name)} is listed twice.");
            long length = shape.Aggregate(1L, (a, d) => d < 0 ? throw new ArgumentException($"safetensors: tensor {QuotedName.Of(name)} has a negative dimension.") : a * d);
            if (length != data.Length)
                throw new ArgumentException($"safetensors: tensor {QuotedName.Of(name)} has shape ({string.Join(", ", shape)}) = {length} values but {data.Length} values were given.");
            long bytes = length * sizeof(float);
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;   // keeps the data 8-byte aligned, as the reference writer does
        AtomicFile.Write(path, stream =>
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)padded);
            stream.Write(lengthBytes);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, _, data) in list) WriteLittleEndian(stream, data);
        });
    }

    private static void WriteLittleEndian(Stream stream, float[] data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            return;
        }
        var buffer = new byte[sizeof(float)];
        foreach (float v in data)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer, v);
            stream.Write(buffer);
        }
    }

    /// <summary>Opens a file and validates its whole header against the file's length before reading any tensor.</summary>
    public static SafeTensorsFile Open(string path) => new(path);
}

/// <summary>
/// An open safetensors file whose header has been checked: every tensor is F32, its byte range matches its
/// shape, ranges tile the data section without gaps or overlaps, and the file is long enough for all of them.
/// Nothing the header declares is allocated before it is checked against the file's length. Errors name the file and the tensor.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly Dictionary<string, SafeTensorInfo> _byName = new(StringComparer.Ordinal);
    private readonly long _dataStart;

    internal SafeTensorsFile(string path)
    {
        Path = path;
        _stream = InputFile.OpenRead(path, "Weights file");
        try
        {
            (_dataStart, Tensors, Metadata) = ReadHeader();
            foreach (var t in Tensors) _byName[t.Name] = t;
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>The file's path, as given.</summary>
    public string Path { get; }
    /// <summary>The tensors in file order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }
    /// <summary>The header's __metadata__ strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The tensor named <paramref name="name"/>; an error naming the file when there is none.</summary>
    public SafeTensorInfo this[string name] => _byName.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"{Path}: no tensor {QuotedName.Of(name)}; the file holds {QuotedName.List(Tensors.Select(x => x.Name))}.");

    /// <summary>Reads one tensor's values.</summary>
    public float[] Read(string name)
    {
        var info = this[name];
        if (info.Length > Array.MaxLength)
            throw new InvalidDataException($"{Path}: tensor {QuotedName.Of(name)} has {info.Length} values, more than one array can hold.");
        var values = new float[info.Length];
        _stream.Position = _dataStart + info.Begin;
        try
        {
            _stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{Path}: tensor {QuotedName.Of(name)} is cut short: the file shrank while it was read.");
        }
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < values.Length; i++)
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(MemoryMarshal.AsBytes(values.AsSpan(i, 1)));
        return values;
    }

    private InvalidDataException Corrupt(string problem) => new($"{Path}: {problem}");

    private (long DataStart, IReadOnlyList<SafeTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) ReadHeader()
    {
        long fileLength = _stream.Length;
        if (fileLength < 8)
            throw Corrupt($"the file is {fileLength} bytes long; a safetensors file starts with an 8-byte header length.");
        Span<byte> lengthBytes = stackalloc byte[8];
        _stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Corrupt($"the header length field says {headerLength} bytes but only {fileLength - 8} bytes follow: the file is truncated or not safetensors.");
        if (headerLength > SafeTensors.MaxHeaderLength)
            throw Corrupt($"the header is {headerLength} bytes, above the {SafeTensors.MaxHeaderLength}-byte limit.");
        var headerBytes = new byte[headerLength];
        _stream.ReadExactly(headerBytes);

        JsonObject header;
        try
        {
            // Strict: a tensor named twice, or a header that is not UTF-8, is a corrupt file (JsonFile's rules).
            header = JsonFile.ParseObject(headerBytes, "the header");
        }
        catch (FormatException e)
        {
            throw Corrupt(e.Message + (e.Message.EndsWith('.') ? "" : "."));
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<SafeTensorInfo>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw Corrupt("__metadata__ must be an object of strings.");
                foreach (var (k, v) in meta)
                    metadata[k] = v is JsonValue s && s.TryGetValue(out string? text) ? text : throw Corrupt($"__metadata__ {QuotedName.Of(k)} must be a string.");
                continue;
            }
            tensors.Add(ParseEntry(name, node));
        }

        // Truncation first, so a cut-off file names the first tensor whose bytes are missing.
        var ordered = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        foreach (var t in ordered)
            if (t.End > dataLength)
                throw Corrupt($"tensor {QuotedName.Of(t.Name)} {t.ShapeText} needs bytes [{t.Begin}, {t.End}) of the data section but the file holds only {dataLength} data bytes: the file is truncated.");
        long expected = 0;
        foreach (var t in ordered)
        {
            if (t.Begin < expected)
                throw Corrupt($"tensor {QuotedName.Of(t.Name)} starts at byte {t.Begin}, inside the previous tensor's data (which ends at {expected}).");
            if (t.Begin > expected)
                throw Corrupt($"tensor {QuotedName.Of(t.Name)} starts at byte {t.Begin}, leaving a gap after byte {expected}.");
            expected = t.End;
        }
        if (expected != dataLength)
            throw Corrupt($"the data section has {dataLength - expected} bytes after the last tensor{(ordered.Count > 0 ? $" {QuotedName.Of(ordered[^1].Name)}" : "")}.");
        return (dataStart, tensors, metadata);
    }

    private SafeTensorInfo ParseEntry(string name, JsonNode? node)
    {
        if (node is not JsonObject entry) throw Corrupt($"tensor {QuotedName.Of(name)}: the header entry must be an object.");
        string? dtype = entry["dtype"] is JsonValue d && d.TryGetValue(out string? s) ? s : null;
        if (dtype is null) throw Corrupt($"tensor {QuotedName.Of(name)} has no dtype.");
        if (dtype != "F32") throw Corrupt($"tensor {QuotedName.Of(name)} has dtype {dtype}; only F32 is supported.");
        if (entry["shape"] is not JsonArray shapeArray) throw Corrupt($"tensor {QuotedName.Of(name)} has no shape list.");
        var shape = new int[shapeArray.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shapeArray[i] is not JsonValue v || !v.TryGetValue(out long dim) || dim < 0 || dim > int.MaxValue)
                throw Corrupt($"tensor {QuotedName.Of(name)} has an invalid shape {shapeArray.ToJsonString()}.");
            shape[i] = (int)dim;
            try { count = checked(count * dim); }
            catch (OverflowException) { throw Corrupt($"tensor {QuotedName.Of(name)} declares a shape {shapeArray.ToJsonString()} too large to address."); }
        }
        if (entry["data_offsets"] is not JsonArray { Count: 2 } offsets
            || offsets[0] is not JsonValue b || !b.TryGetValue(out long begin)
            || offsets[1] is not JsonValue e || !e.TryGetValue(out long end)
            || begin < 0 || end < begin)
            throw Corrupt($"tensor {QuotedName.Of(name)} has invalid data_offsets {entry["data_offsets"]?.ToJsonString() ?? "(missing)"}.");
        long bytes;
        try { bytes = checked(count * sizeof(float)); }
        catch (OverflowException) { throw Corrupt($"tensor {QuotedName.Of(name)} declares a shape too large to address."); }
        if (end - begin != bytes)
            throw Corrupt($"tensor {QuotedName.Of(name)} has shape ({string.Join(", ", shape)}) = {count} F32 values ({bytes} bytes) but its data_offsets [{begin}, {end}) span {end - begin} bytes.");
        return new SafeTensorInfo(name, shape, begin, end);
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _stream.Dispose();
}
