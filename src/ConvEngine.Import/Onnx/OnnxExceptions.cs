namespace ConvEngine.Import.Onnx;

/// <summary>
/// The model uses an operator, attribute value or data type the importer does not implement. The
/// message names the file, the node (name and index), its op type and, when one is at fault, the
/// attribute: an unsupported model is refused, never run with a wrong answer.
/// </summary>
public sealed class OnnxUnsupportedException : NotSupportedException
{
    /// <summary>Creates the exception; the node's name, index, op type and attribute are given when one is at fault.</summary>
    public OnnxUnsupportedException(string message, string? nodeName = null, int? nodeIndex = null, string? opType = null, string? attribute = null)
        : base(message)
    {
        NodeName = nodeName;
        NodeIndex = nodeIndex;
        OpType = opType;
        Attribute = attribute;
    }

    /// <summary>The node's name as the file gives it (may be empty), or null when no node is at fault.</summary>
    public string? NodeName { get; }
    /// <summary>The node's position in the graph's node list.</summary>
    public int? NodeIndex { get; }
    /// <summary>The node's op type, e.g. "Conv".</summary>
    public string? OpType { get; }
    /// <summary>The attribute (or input) whose value is unsupported, if one is.</summary>
    public string? Attribute { get; }
}

/// <summary>
/// The file is not a usable ONNX model: truncated or corrupt protobuf, a tensor whose data does not
/// match its dims, a node reading a value nothing produces, shapes that do not fit. The message names
/// the file and, when known, the tensor or node.
/// </summary>
public sealed class OnnxFormatException(string message, Exception? inner = null) : IOException(message, inner);
