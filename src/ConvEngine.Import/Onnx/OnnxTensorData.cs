using System.Runtime.InteropServices;
using ConvEngine.Import.Onnx.Proto;
using Google.Protobuf;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// An ONNX tensor decoded to host memory: float data (FLOAT, DOUBLE) or integer data (INT64,
/// INT32), in ONNX's row-major order with its ONNX dims. Sizes are checked against the dims before
/// anything is allocated, so a corrupt length cannot make the reader allocate more than the file holds.
/// </summary>
public sealed class OnnxTensorData
{
    private OnnxTensorData(string name, int[] dims, float[]? floats, long[]? ints)
    {
        Name = name;
        Dims = dims;
        Floats = floats;
        Ints = ints;
    }

    /// <summary>The initializer's or constant's name.</summary>
    public string Name { get; }
    /// <summary>ONNX dims (e.g. NCHW, OIHW); empty for a scalar.</summary>
    public int[] Dims { get; }
    /// <summary>The values when the element type is floating point, else null.</summary>
    public float[]? Floats { get; }
    /// <summary>The values when the element type is an integer, else null.</summary>
    public long[]? Ints { get; }
    /// <summary>Whether the element type is floating point.</summary>
    public bool IsFloat => Floats is not null;
    /// <summary>The number of values.</summary>
    public long Length => Floats?.Length ?? Ints!.Length;

    /// <summary>The values as floats (integers converted).</summary>
    public float[] ToFloats() => Floats ?? Ints!.Select(v => (float)v).ToArray();

    /// <summary>The values as integers; floating-point data must hold whole numbers.</summary>
    public long[] ToInts(string context)
    {
        if (Ints is not null) return Ints;
        var ints = new long[Floats!.Length];
        for (int i = 0; i < ints.Length; i++)
        {
            if (Floats[i] != MathF.Round(Floats[i]))
                throw new OnnxFormatException($"{context}: tensor {QuotedName.Of(Name)} must hold integers; element {i} is {Floats[i]}.");
            ints[i] = (long)Floats[i];
        }
        return ints;
    }

    internal static OnnxTensorData FromFloats(string name, int[] dims, float[] values) => new(name, dims, values, null);
    internal static OnnxTensorData FromInts(string name, int[] dims, long[] values) => new(name, dims, null, values);

    /// <summary>Most elements one tensor may hold (a .NET array's limit).</summary>
    public static long MaxElements => Array.MaxLength;

    /// <summary>
    /// Decodes a TensorProto. <paramref name="context"/> (e.g. "ONNX model 'x.onnx'") starts every
    /// error message. raw_data or the typed field must hold exactly product(dims) elements.
    /// </summary>
    internal static OnnxTensorData FromProto(TensorProto tensor, string context)
    {
        string name = tensor.Name ?? "";
        string Where() => $"{context}: tensor {QuotedName.Of(name)}";
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw new OnnxUnsupportedException($"{Where()} keeps its data in an external file, which the importer does not read; save the model with its data inline.");
        if (tensor.Segment is not null)
            throw new OnnxUnsupportedException($"{Where()} is a segment of a larger tensor, which the importer does not read.");

        var dims = new int[tensor.Dims.Count];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = tensor.Dims[i];
            if (d < 0 || d > int.MaxValue)
                throw new OnnxFormatException($"{Where()} has an invalid dimension {d} in dims ({string.Join(", ", tensor.Dims)}).");
            dims[i] = (int)d;
            count = d == 0 ? 0 : count <= MaxElements / d ? count * d : MaxElements + 1;
        }
        if (count > MaxElements)
            throw new OnnxFormatException($"{Where()} has dims ({string.Join(", ", tensor.Dims)}), more than the {MaxElements} elements a tensor may hold.");
        int n = (int)count;

        var type = (TensorProto.Types.DataType)tensor.DataType;
        if (type == TensorProto.Types.DataType.Undefined)
            throw new OnnxFormatException($"{Where()} has no element type (data_type 0, UNDEFINED): the tensor is truncated or corrupt.");
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
                return FromFloats(name, dims, tensor.HasRawData ? Raw(tensor.RawData, n, 4, Where, MemoryMarshal.Cast<byte, float>)
                    : Typed(tensor.FloatData, n, "float_data", Where));
            case TensorProto.Types.DataType.Double:
            {
                double[] values = tensor.HasRawData ? Raw(tensor.RawData, n, 8, Where, MemoryMarshal.Cast<byte, double>)
                    : Typed(tensor.DoubleData, n, "double_data", Where);
                return FromFloats(name, dims, values.Select(v => (float)v).ToArray());
            }
            case TensorProto.Types.DataType.Int64:
                return FromInts(name, dims, tensor.HasRawData ? Raw(tensor.RawData, n, 8, Where, MemoryMarshal.Cast<byte, long>)
                    : Typed(tensor.Int64Data, n, "int64_data", Where));
            case TensorProto.Types.DataType.Int32:
            {
                int[] values = tensor.HasRawData ? Raw(tensor.RawData, n, 4, Where, MemoryMarshal.Cast<byte, int>)
                    : Typed(tensor.Int32Data, n, "int32_data", Where);
                return FromInts(name, dims, values.Select(v => (long)v).ToArray());
            }
            default:
                throw new OnnxUnsupportedException($"{Where()} has element type {type}; the importer reads FLOAT, DOUBLE, INT64 and INT32 tensors.");
        }
    }

    private delegate ReadOnlySpan<T> Reinterpret<T>(ReadOnlySpan<byte> bytes);

    /// <summary>raw_data: little-endian, exactly count × size bytes (checked before the copy).</summary>
    private static T[] Raw<T>(ByteString raw, int count, int size, Func<string> where, Reinterpret<T> cast) where T : struct
    {
        if (raw.Length != (long)count * size)
            throw new OnnxFormatException($"{where()} has {raw.Length} bytes of raw_data, but its dims need {count} × {size} = {(long)count * size} bytes (truncated or corrupt file?).");
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this importer runs on little-endian machines only.");
        return cast(raw.Span).ToArray();
    }

    private static T[] Typed<T>(Google.Protobuf.Collections.RepeatedField<T> field, int count, string fieldName, Func<string> where)
    {
        if (field.Count != count)
            throw new OnnxFormatException($"{where()} has {field.Count} values in {fieldName}, but its dims need {count} (truncated or corrupt file?).");
        return field.ToArray();
    }

    /// <summary>
    /// Reads a serialized TensorProto file (the ONNX test suite's input_0.pb / output_0.pb),
    /// refusing files over <paramref name="maxBytes"/> before reading them.
    /// </summary>
    public static OnnxTensorData ReadFile(string path, long maxBytes = int.MaxValue)
    {
        byte[] bytes = OnnxImporter.ReadBounded(path, maxBytes, "ONNX tensor file");
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException($"ONNX tensor file '{path}' is not a valid TensorProto (truncated or corrupt: {e.Message}).", e);
        }
        return FromProto(proto, $"ONNX tensor file '{path}'");
    }

    /// <summary>The name, dims and element kind.</summary>
    public override string ToString() => $"{Name} ({string.Join(", ", Dims)}) {(IsFloat ? "float" : "int")}";
}
