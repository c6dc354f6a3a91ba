using System.Runtime.InteropServices;
using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using Google.Protobuf;
using ActivationLayer = ConvEngine.Layers.Activation;
using AddLayer = ConvEngine.Layers.Add;

namespace ConvEngine.Benchmarks.Models;

/// <summary>
/// Writes an engine <see cref="Model"/> (its graph and current weights) as an ONNX model, so ONNX Runtime runs the
/// very network our engine runs: NCHW activations, OIHW conv weights, pads resolved by the engine's own geometry.
/// Covers the layers the benchmarked models use; any other layer is an error naming it. The engine flattens
/// channels-last, so a Flatten of a 4-D tensor becomes Transpose(NCHW → NHWC) + Flatten.
/// </summary>
public static class EngineToOnnx
{
    public const string InputName = "input";
    public const string OutputName = "output";
    private const long IrVersion = (long)Import.Onnx.Proto.Version.IrVersion2021730;
    private const long Opset = 17;

    /// <summary>The model for a fixed batch size; the output is NCHW for a 4-D output, (N, K) otherwise.</summary>
    public static byte[] Write(Model model, int batch)
    {
        var graph = new GraphProto { Name = model.Name };
        var names = new Dictionary<SymbolicTensor, string>();
        int[] inputShape = model.InputShape;
        graph.Input.Add(FloatValue(InputName, [batch, .. Nchw(inputShape)]));
        foreach (var node in model.Nodes)
        {
            var layer = node.Layer;
            if (layer is InputLayer) { names[node.Output] = InputName; continue; }
            string[] inputs = node.Inputs.Select(i => names[i]).ToArray();
            names[node.Output] = Emit(graph, layer, node, inputs);
        }
        string last = names[model.Output];
        graph.Node.Add(new NodeProto { Name = "output_identity", OpType = "Identity", Input = { last }, Output = { OutputName } });
        graph.Output.Add(FloatValue(OutputName, [batch, .. Nchw(model.OutputShape)]));
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ConvEngine.Benchmarks.EngineToOnnx",
            Graph = graph,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
        };
        return proto.ToByteArray();
    }

    /// <summary>An engine sample shape (H, W, C) as ONNX's (C, H, W); other ranks unchanged.</summary>
    public static int[] Nchw(int[] sampleShape) => sampleShape.Length == 3 ? [sampleShape[2], sampleShape[0], sampleShape[1]] : sampleShape;

    private static string Emit(GraphProto graph, Layer layer, Node node, string[] inputs)
    {
        string name = layer.Name;
        int[] inShape = node.Inputs[0].Shape;
        switch (layer)
        {
            case Conv2D conv:
            {
                var options = new Conv2DOptions
                {
                    StrideH = conv.Strides.Height, StrideW = conv.Strides.Width,
                    DilationH = conv.DilationRate.Height, DilationW = conv.DilationRate.Width,
                    Padding = conv.Padding, Groups = conv.Groups,
                };
                var kernel = conv.Kernel!;
                int kh = kernel.Shape[0], kw = kernel.Shape[1], cg = kernel.Shape[2], oc = kernel.Shape[3];
                var g = Conv2DGeometry.Create(name, new TensorShape(1, inShape[0], inShape[1], inShape[2]), kernel.Shape, options);
                float[] hwio = kernel.ToArray(), oihw = new float[hwio.Length];
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                        for (int c = 0; c < cg; c++)
                            for (int o = 0; o < oc; o++)
                                oihw[((o * cg + c) * kh + i) * kw + j] = hwio[((i * kw + j) * cg + c) * oc + o];
                var n = new NodeProto { Name = name, OpType = "Conv", Input = { inputs[0], Init(graph, $"{name}_W", oihw, oc, cg, kh, kw) } };
                if (conv.Bias is { } bias) n.Input.Add(Init(graph, $"{name}_B", bias.ToArray(), oc));
                n.Attribute.Add(Ints("kernel_shape", kh, kw));
                n.Attribute.Add(Ints("pads", g.PadTop, g.PadLeft, g.PadBottom, g.PadRight));
                n.Attribute.Add(Ints("strides", g.StrideH, g.StrideW));
                n.Attribute.Add(Ints("dilations", g.DilationH, g.DilationW));
                n.Attribute.Add(Int("group", g.Groups));
                return WithActivation(graph, n, conv.Activation, name);
            }
            case Dense dense:
            {
                var n = new NodeProto { Name = name, OpType = "Gemm", Input = { inputs[0], Init(graph, $"{name}_W", dense.Kernel!.ToArray(), dense.Kernel.Shape[0], dense.Kernel.Shape[1]) } };
                if (dense.Bias is { } bias) n.Input.Add(Init(graph, $"{name}_B", bias.ToArray(), dense.Units));
                return WithActivation(graph, n, dense.Activation, name);
            }
            case ActivationLayer activation:
                return Activation(graph, activation.Activation, inputs[0], name, name);
            case BatchNormalization bn:
            {
                int c = bn.Channels;
                float[] gamma = bn.Gamma?.ToArray() ?? Enumerable.Repeat(1f, c).ToArray();
                float[] beta = bn.Beta?.ToArray() ?? new float[c];
                var n = new NodeProto
                {
                    Name = name, OpType = "BatchNormalization",
                    Input = { inputs[0], Init(graph, $"{name}_gamma", gamma, c), Init(graph, $"{name}_beta", beta, c),
                        Init(graph, $"{name}_mean", bn.MovingMean!.ToArray(), c), Init(graph, $"{name}_var", bn.MovingVariance!.ToArray(), c) },
                    Output = { name },
                };
                n.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = (float)bn.Epsilon });
                graph.Node.Add(n);
                return name;
            }
            case Pooling2DLayer pool:
            {
                var options = new Pool2DOptions
                {
                    PoolH = pool.PoolSize.Height, PoolW = pool.PoolSize.Width, StrideH = pool.Strides.Height, StrideW = pool.Strides.Width,
                    Padding = pool.Padding, CeilMode = pool.CeilMode, CountIncludePad = pool.CountIncludePad,
                };
                var g = Pool2DGeometry.Create(name, new TensorShape(1, inShape[0], inShape[1], inShape[2]), options);
                bool max = pool is MaxPool2D;
                var n = new NodeProto { Name = name, OpType = max ? "MaxPool" : "AveragePool", Input = { inputs[0] }, Output = { name } };
                n.Attribute.Add(Ints("kernel_shape", g.PoolH, g.PoolW));
                n.Attribute.Add(Ints("pads", g.PadTop, g.PadLeft, g.PadBottom, g.PadRight));
                n.Attribute.Add(Ints("strides", g.StrideH, g.StrideW));
                if (pool.CeilMode) n.Attribute.Add(Int("ceil_mode", 1));
                if (!max && pool.CountIncludePad) n.Attribute.Add(Int("count_include_pad", 1));
                graph.Node.Add(n);
                return name;
            }
            case GlobalAveragePooling2D:
                graph.Node.Add(new NodeProto { Name = name + "_pooled", OpType = "GlobalAveragePool", Input = { inputs[0] }, Output = { name + "_pooled" } });
                graph.Node.Add(FlattenNode(name, name + "_pooled", name));
                return name;
            case Layers.Flatten:
            {
                if (inShape.Length != 3) return inputs[0];
                graph.Node.Add(new NodeProto { Name = name + "_nhwc", OpType = "Transpose", Input = { inputs[0] }, Output = { name + "_nhwc" }, Attribute = { Ints("perm", 0, 2, 3, 1) } });
                graph.Node.Add(FlattenNode(name, name + "_nhwc", name));
                return name;
            }
            case Concatenate:
                graph.Node.Add(new NodeProto { Name = name, OpType = "Concat", Input = { inputs }, Output = { name }, Attribute = { Int("axis", inShape.Length == 3 ? 1 : inShape.Length) } });
                return name;
            case AddLayer:
            {
                string sum = inputs[0];
                for (int i = 1; i < inputs.Length; i++)
                {
                    string output = i == inputs.Length - 1 ? name : $"{name}_{i}";
                    graph.Node.Add(new NodeProto { Name = output, OpType = "Add", Input = { sum, inputs[i] }, Output = { output } });
                    sum = output;
                }
                return sum;
            }
            case Dropout:
                return inputs[0];
            case ZeroPadding2D pad:
            {
                string pads = InitInts(graph, $"{name}_pads", 0, 0, pad.Top, pad.Left, 0, 0, pad.Bottom, pad.Right);
                graph.Node.Add(new NodeProto { Name = name, OpType = "Pad", Input = { inputs[0], pads }, Output = { name } });
                return name;
            }
            case Rescaling rescaling:
            {
                graph.Node.Add(new NodeProto { Name = name + "_scale", OpType = "Mul", Input = { inputs[0], Init(graph, $"{name}_s", [(float)rescaling.Scale]) }, Output = { name + "_scaled" } });
                graph.Node.Add(new NodeProto { Name = name, OpType = "Add", Input = { name + "_scaled", Init(graph, $"{name}_o", [(float)rescaling.Offset]) }, Output = { name } });
                return name;
            }
            default:
                throw new NotSupportedException($"EngineToOnnx: layer '{layer.Name}' ({layer.ClassName}) has no ONNX translation here.");
        }
    }

    private static string WithActivation(GraphProto graph, NodeProto linear, ActivationFunction activation, string name)
    {
        bool none = activation.IsLinear;
        linear.Output.Add(none ? name : name + "_linear");
        graph.Node.Add(linear);
        return none ? name : Activation(graph, activation, name + "_linear", name, name + "_act");
    }

    private static string Activation(GraphProto graph, ActivationFunction activation, string input, string output, string nodeName)
    {
        string op = activation.Name switch
        {
            "linear" => "Identity",
            "relu" => "Relu",
            "sigmoid" => "Sigmoid",
            "tanh" => "Tanh",
            "softmax" => "Softmax",
            _ => throw new NotSupportedException($"EngineToOnnx: activation '{activation.Name}' of '{output}' has no translation here."),
        };
        var n = new NodeProto { Name = nodeName, OpType = op, Input = { input }, Output = { output } };
        if (op == "Softmax") n.Attribute.Add(Int("axis", -1));
        graph.Node.Add(n);
        return output;
    }

    private static NodeProto FlattenNode(string name, string input, string output) =>
        new() { Name = name, OpType = "Flatten", Input = { input }, Output = { output }, Attribute = { Int("axis", 1) } };

    private static AttributeProto Ints(string name, params long[] values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>Adds a FLOAT initializer (raw little-endian data) and returns its name; no dims means a scalar.</summary>
    private static string Init(GraphProto graph, string name, float[] values, params long[] dims)
    {
        graph.Initializer.Add(new TensorProto
        {
            Name = name,
            DataType = (int)TensorProto.Types.DataType.Float,
            Dims = { dims },
            RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
        });
        return name;
    }

    private static string InitInts(GraphProto graph, string name, params long[] values)
    {
        graph.Initializer.Add(new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length }, Int64Data = { values } });
        return name;
    }

    private static ValueInfoProto FloatValue(string name, int[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (int d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
