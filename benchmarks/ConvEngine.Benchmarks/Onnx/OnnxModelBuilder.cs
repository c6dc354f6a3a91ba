using System.Runtime.InteropServices;
using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels.Geometry;
using Google.Protobuf;

namespace ConvEngine.Benchmarks.Onnx;

/// <summary>
/// Builds small ONNX models in memory (serialized ModelProto bytes) for ONNX Runtime's
/// InferenceSession, so a peer runs exactly the op we time without a model file on disk.
/// </summary>
public static class OnnxModelBuilder
{
    /// <summary>Name of the graph input, NCHW.</summary>
    public const string InputName = "X";
    /// <summary>Name of the graph output, NCHW.</summary>
    public const string OutputName = "Y";

    // IR 8 with opset 17 is old enough for any ONNX Runtime since 1.12 and has every Conv attribute we set.
    private const long IrVersion = (long)ConvEngine.Import.Onnx.Proto.Version.IrVersion2021730;
    private const long Opset = 17;

    /// <summary>
    /// One Conv node (optionally followed by Relu): input X (N,C,H,W), weights (OC, C/groups, KH, KW)
    /// and bias (OC) as initializers, output Y (N,OC,OH,OW). Pads, strides, dilations and groups come
    /// from <paramref name="g"/>, so the pads are the ones our SAME/explicit arithmetic resolved.
    /// </summary>
    /// <param name="weightsOihw">Filter in ONNX's OIHW order.</param>
    /// <param name="bias">Per output channel, or null for a Conv without bias.</param>
    /// <param name="relu">Adds a Relu node after the Conv, to match a conv with ReLU fused.</param>
    public static byte[] Conv2D(in Conv2DGeometry g, ReadOnlySpan<float> weightsOihw, ReadOnlySpan<float> bias, bool relu)
    {
        long expectedWeights = (long)g.OC * g.InChannelsPerGroup * g.KH * g.KW;
        if (weightsOihw.Length != expectedWeights)
            throw new ArgumentException($"OnnxModelBuilder.Conv2D: weights must be (OC {g.OC}, C/groups {g.InChannelsPerGroup}, KH {g.KH}, KW {g.KW}) = {expectedWeights} floats; got {weightsOihw.Length}.");
        if (!bias.IsEmpty && bias.Length != g.OC)
            throw new ArgumentException($"OnnxModelBuilder.Conv2D: bias must have {g.OC} values (one per output channel); got {bias.Length}.");

        var conv = new NodeProto { Name = "conv", OpType = "Conv", Input = { InputName, "W" } };
        if (!bias.IsEmpty) conv.Input.Add("B");
        conv.Attribute.Add(Ints("kernel_shape", g.KH, g.KW));
        // ONNX orders pads as all begins then all ends: [top, left, bottom, right].
        conv.Attribute.Add(Ints("pads", g.PadTop, g.PadLeft, g.PadBottom, g.PadRight));
        conv.Attribute.Add(Ints("strides", g.StrideH, g.StrideW));
        conv.Attribute.Add(Ints("dilations", g.DilationH, g.DilationW));
        conv.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = g.Groups });

        var graph = new GraphProto { Name = "conv2d" };
        graph.Node.Add(conv);
        if (relu)
        {
            conv.Output.Add("conv_out");
            graph.Node.Add(new NodeProto { Name = "relu", OpType = "Relu", Input = { "conv_out" }, Output = { OutputName } });
        }
        else
        {
            conv.Output.Add(OutputName);
        }

        graph.Initializer.Add(FloatTensor("W", weightsOihw, g.OC, g.InChannelsPerGroup, g.KH, g.KW));
        if (!bias.IsEmpty) graph.Initializer.Add(FloatTensor("B", bias, g.OC));
        graph.Input.Add(FloatValue(InputName, g.N, g.C, g.H, g.W));
        graph.Output.Add(FloatValue(OutputName, g.N, g.OC, g.OH, g.OW));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ConvEngine.Benchmarks",
            Graph = graph,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
        };
        return model.ToByteArray();
    }

    private static AttributeProto Ints(string name, params long[] values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    /// <summary>A FLOAT initializer with its elements in raw_data (little-endian IEEE 754, as the spec requires).</summary>
    private static TensorProto FloatTensor(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("OnnxModelBuilder writes raw_data from memory and needs a little-endian machine.");
        return new TensorProto
        {
            Name = name,
            DataType = (int)TensorProto.Types.DataType.Float,
            Dims = { dims },
            RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)),
        };
    }

    private static ValueInfoProto FloatValue(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
