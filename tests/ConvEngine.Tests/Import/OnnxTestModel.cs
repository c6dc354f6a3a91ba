using System.Runtime.InteropServices;
using ConvEngine.Import.Onnx.Proto;
using Google.Protobuf;

namespace ConvEngine.Tests.Import;

/// <summary>
/// Small ONNX models built in memory with our proto classes, for the importer's tests: ONNX Runtime
/// runs the same bytes as the independent reference.
/// </summary>
internal sealed class OnnxTestModel
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly long _opset;
    private int _nodes;

    public OnnxTestModel(long opset = 13) => _opset = opset;

    public OnnxTestModel Input(string name, params long[] dims)
    {
        _graph.Input.Add(ValueInfo(name, dims.Select(d => (long?)d).ToArray()));
        return this;
    }

    /// <summary>An input whose first dim is the symbolic "N".</summary>
    public OnnxTestModel InputWithBatch(string name, params long[] dims)
    {
        _graph.Input.Add(ValueInfo(name, [null, .. dims.Skip(1).Select(d => (long?)d)]));
        return this;
    }

    public OnnxTestModel Output(string name)
    {
        _graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        return this;
    }

    public OnnxTestModel Floats(string name, float[] values, params long[] dims)
    {
        _graph.Initializer.Add(FloatTensor(name, values, dims));
        return this;
    }

    /// <summary>Random weights in [−1, 1), deterministic per seed.</summary>
    public OnnxTestModel Random(string name, int seed, params long[] dims) =>
        Floats(name, RandomValues((int)dims.Aggregate(1L, (p, d) => p * d), seed), dims);

    public OnnxTestModel Ints(string name, long[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return this;
    }

    /// <summary>Adds a node; attribute values may be long, float, string, long[], float[] or TensorProto.</summary>
    public OnnxTestModel Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { Name = $"{op.ToLowerInvariant()}_{_nodes++}", OpType = op };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        _graph.Node.Add(node);
        return this;
    }

    public ModelProto Proto()
    {
        var model = new ModelProto { IrVersion = 7, ProducerName = "ConvEngine.Tests", Graph = _graph.Clone() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        return model;
    }

    public byte[] Bytes() => Proto().ToByteArray();

    /// <summary>Writes the model to a fresh temporary file and returns its path.</summary>
    public string Save()
    {
        string path = Path.Combine(Path.GetTempPath(), $"convengine-onnx-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Bytes());
        return path;
    }

    public static float[] RandomValues(int length, int seed, float low = -1f, float high = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => low + (high - low) * rng.NextSingle()).ToArray();
    }

    public static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return t;
    }

    private static ValueInfoProto ValueInfo(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { ints } },
        float[] floats => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats, Floats = { floats } },
        TensorProto t => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t },
        _ => throw new ArgumentException($"Unsupported attribute value type {value.GetType()} for '{name}'."),
    };
}
