using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels;
using Google.Protobuf;

namespace ConvEngine.Import.Onnx;

/// <summary>Limits and rewrites of an import.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>Files longer than this are refused before they are read (protobuf itself stops at 2 GiB).</summary>
    public long MaxFileBytes { get; init; } = int.MaxValue;
    /// <summary>Fold each inference BatchNormalization into the Conv before it (when that conv feeds only it).</summary>
    public bool FoldBatchNorm { get; init; } = true;
    /// <summary>Fuse a Relu/LeakyRelu/Sigmoid/Tanh into the Conv before it.</summary>
    public bool FuseActivations { get; init; } = true;
}

/// <summary>
/// Reads ONNX models (<see cref="ModelProto"/>, our schema in onnx.proto) into an executable
/// <see cref="OnnxModel"/>. Memory stays bounded by the file: its length is checked before it is
/// read, and every initializer's data length is checked against its dims before it is decoded.
/// </summary>
public static class OnnxImporter
{
    /// <summary>
    /// Imports the model at <paramref name="path"/> to run on <paramref name="backend"/>. Weights are
    /// converted to the engine's layouts and uploaded, and a plan is built for the declared input
    /// shapes (symbolic dims taken as 1), so an unsupported op is reported here, not at run time.
    /// </summary>
    public static OnnxModel Load(string path, IBackend backend, OnnxImportOptions? options = null)
    {
        options ??= new OnnxImportOptions();
        var model = ReadModel(path, options.MaxFileBytes);
        return OnnxModel.Create(model, $"ONNX model '{path}'", backend, options);
    }

    /// <summary>
    /// The distinct op types of the file's nodes, in order of first use, read without interpreting the graph: they can
    /// be listed even for a model <see cref="Load"/> refuses.
    /// </summary>
    public static IReadOnlyList<string> ReadOpTypes(string path, long maxBytes = int.MaxValue) =>
        ReadModel(path, maxBytes).Graph.Node.Select(n => n.OpType).Distinct().ToList();

    /// <summary>Parses the file into the protobuf model without interpreting it.</summary>
    internal static ModelProto ReadModel(string path, long maxBytes = int.MaxValue)
    {
        byte[] bytes = ReadBounded(path, maxBytes, "ONNX model");
        try
        {
            return ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException($"ONNX model '{path}' is not a valid ONNX protobuf (truncated or corrupt: {e.Message}).", e);
        }
    }

    /// <summary>Reads a whole file after checking that it exists, is not empty and is at most <paramref name="maxBytes"/> long.</summary>
    internal static byte[] ReadBounded(string path, long maxBytes, string what)
    {
        long length = Serialization.InputFile.Check(path, what);
        if (length == 0) throw new OnnxFormatException($"{what} '{path}' is empty.");
        long limit = Math.Min(maxBytes, Array.MaxLength);
        if (length > limit)
            throw new OnnxFormatException($"{what} '{path}' is {length} bytes, more than the {limit} allowed.");
        return Serialization.InputFile.ReadAllBytes(path, what, limit);
    }
}
