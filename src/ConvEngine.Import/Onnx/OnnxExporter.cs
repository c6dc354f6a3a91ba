using ConvEngine.Import.Keras;
using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using Google.Protobuf;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// Writes an engine model as ONNX (opset <see cref="Opset"/>, our onnx.proto), converting the graph to ONNX's layout
/// rather than wrapping it in transposes: the input is (N, C, H, W) (or (N, F) for a vector input), weights are
/// permuted once (conv HWIO → OIHW), SAME padding becomes the explicit pads TensorFlow would use for the model's input
/// size (the odd pixel bottom/right), and Flatten puts a (0, 2, 3, 1) Transpose first so the features come out in the
/// engine's (Keras's) channels-last order and a Dense after it keeps its weights. Image outputs are (N, C, H, W).
/// Layers: Conv2D, MaxPooling2D, AveragePooling2D (padding excluded from the mean, as TensorFlow), GlobalAverage- and
/// GlobalMaxPooling2D, Dense, Flatten, Dropout (dropped), Activation / ReLU / Softmax, BatchNormalization (inference),
/// Add, Concatenate, ZeroPadding2D, Rescaling, nested models (inlined); anything else is refused naming the layer.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The opset the exported files declare.</summary>
    public const int Opset = 13;
    /// <summary>The batch dimension's symbolic name.</summary>
    public const string BatchDim = "N";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically; nothing is written if a layer cannot be expressed.</summary>
    public static void Save(Model model, string path)
    {
        var proto = ToProto(model);
        byte[] bytes = proto.ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The ONNX model of <paramref name="model"/> (weights initialized if they were not).</summary>
    internal static ModelProto ToProto(Model model)
    {
        model.Initialize();
        var graph = new GraphProto { Name = model.Name };
        var writer = new GraphWriter(graph);
        var input = model.Input;
        int[] inputShape = input.Shape;
        if (inputShape.Length is not (1 or 3))
            throw new ModelExportException($"Model '{model.Name}': input {input.ShapeText} is neither an image (H, W, C) nor a vector; ONNX export takes those two.");
        graph.Input.Add(writer.ValueInfo("input", OnnxShape(inputShape)));
        string output = writer.Emit(model, new Value("input", inputShape));
        graph.Output.Add(writer.ValueInfo(output, OnnxShape(model.OutputShape)));
        var proto = new ModelProto { IrVersion = 7, ProducerName = "ConvEngine", ProducerVersion = "1", Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return proto;
    }

    /// <summary>A sample shape (engine order) in ONNX's order: (H, W, C) → (C, H, W).</summary>
    private static int[] OnnxShape(int[] shape) => shape.Length == 3 ? [shape[2], shape[0], shape[1]] : shape;

    /// <summary>A tensor of the graph being written, with its sample shape in the engine's (channels-last) order.</summary>
    private readonly record struct Value(string Name, int[] Shape);

    private sealed class GraphWriter(GraphProto graph)
    {
        private readonly HashSet<string> _names = new(StringComparer.Ordinal) { "input" };

        public ValueInfoProto ValueInfo(string name, int[] sampleShape)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDim });
            foreach (int d in sampleShape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
        }

        /// <summary>Emits every layer of <paramref name="model"/> fed by <paramref name="input"/>; returns the output tensor's name.</summary>
        public string Emit(Model model, Value input)
        {
            var values = new Dictionary<Node, Value> { [model.Input.Producer] = input };
            foreach (var node in model.Nodes)
            {
                if (node == model.Input.Producer) continue;
                var inputs = node.Inputs.Select(t => values[t.Producer]).ToList();
                values[node] = Layer(node.Layer, inputs, node.Output.Shape);
            }
            return values[model.Output.Producer].Name;
        }

        private string Fresh(string name)
        {
            string candidate = name;
            for (int i = 1; !_names.Add(candidate); i++) candidate = $"{name}_{i}";
            return candidate;
        }

        private string Node(string op, string name, IEnumerable<string> inputs, params AttributeProto[] attributes)
        {
            string output = Fresh(name);
            var node = new NodeProto { OpType = op, Name = output };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
            graph.Node.Add(node);
            return output;
        }

        private string Initializer(string name, float[] values, params long[] dims)
        {
            string n = Fresh(name);
            var t = new TensorProto { Name = n, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
            t.Dims.AddRange(dims);
            graph.Initializer.Add(t);
            return n;
        }

        private string Int64s(string name, long[] values)
        {
            string n = Fresh(name);
            var t = new TensorProto { Name = n, DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(values.Length);
            t.Int64Data.AddRange(values);
            graph.Initializer.Add(t);
            return n;
        }

        private static AttributeProto Ints(string name, params long[] values)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(values);
            return a;
        }

        private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

        private static ModelExportException Refuse(Layer layer, string why) =>
            new($"Layer '{layer.Name}' ({layer.ClassName}) cannot be exported to ONNX: {why}.");

        private Value Layer(Layer layer, IReadOnlyList<Value> inputs, int[] outputShape)
        {
            var x = inputs.Count > 0 ? inputs[0] : default;
            switch (layer)
            {
                case Model inner:
                    return new Value(Emit(inner, x), outputShape);
                case Conv2D conv:
                    return Conv(conv, x, outputShape);
                case Pooling2DLayer pool:
                    return Pool(pool, x, outputShape);
                case Dense dense:
                {
                    if (x.Shape.Length != 1) throw Refuse(layer, $"its input {SymbolicTensor.FormatShape(x.Shape)} is not a vector (flatten it first)");
                    var kernel = dense.Parameters[0];
                    var inputsOfGemm = new List<string> { x.Name, Initializer($"{layer.Name}/kernel", kernel.ToArray(), kernel.Shape[0], kernel.Shape[1]) };
                    if (dense.Parameters.Count > 1) inputsOfGemm.Add(Initializer($"{layer.Name}/bias", dense.Parameters[1].ToArray(), dense.Parameters[1].Shape[0]));
                    string y = Node("Gemm", dense.Activation.IsLinear ? layer.Name : $"{layer.Name}/linear", inputsOfGemm);
                    return new Value(Activate(layer, dense.Activation.Name, y, outputShape.Length, layer.Name), outputShape);
                }
                case ActivatedLayer activated when layer.ClassName is "Activation" or "Softmax":
                    return new Value(Activate(layer, activated.Activation.Name, x.Name, x.Shape.Length, layer.Name), outputShape);
                case Flatten:
                {
                    string source = x.Name;
                    if (x.Shape.Length == 3) source = Node("Transpose", $"{layer.Name}/channels_last", [source], Ints("perm", 0, 2, 3, 1));
                    return new Value(Node("Flatten", layer.Name, [source], Int("axis", 1)), outputShape);
                }
                case Dropout:
                    return x;
                case BatchNormalization bn:
                    return Normalize(bn, x, outputShape);
                case Add:
                    return new Value(Node(inputs.Count == 2 ? "Add" : "Sum", layer.Name, inputs.Select(i => i.Name)), outputShape);
                case Concatenate concat:
                {
                    int rank = x.Shape.Length;
                    int axis = concat.Axis < 0 ? concat.Axis + rank : concat.Axis;
                    if (axis != rank - 1) throw Refuse(layer, $"axis {concat.Axis} is not the channel axis");
                    return new Value(Node("Concat", layer.Name, inputs.Select(i => i.Name), Int("axis", 1)), outputShape);
                }
                case ZeroPadding2D zp:
                {
                    string pads = Int64s($"{layer.Name}/pads", [0, 0, zp.Top, zp.Left, 0, 0, zp.Bottom, zp.Right]);
                    return new Value(Node("Pad", layer.Name, [x.Name, pads]), outputShape);
                }
                case GlobalAveragePooling2D:
                {
                    string pooled = Node("GlobalAveragePool", $"{layer.Name}/pool", [x.Name]);
                    return new Value(Node("Flatten", layer.Name, [pooled], Int("axis", 1)), outputShape);
                }
                case Rescaling rescaling:
                {
                    float scale = (float)rescaling.Scale, offset = (float)rescaling.Offset;
                    string scaled = Node("Mul", offset == 0 ? layer.Name : $"{layer.Name}/scaled", [x.Name, Initializer($"{layer.Name}/scale", [scale])]);
                    return new Value(offset == 0 ? scaled : Node("Add", layer.Name, [scaled, Initializer($"{layer.Name}/offset", [offset])]), outputShape);
                }
                default:
                    if (layer.ClassName == "GlobalMaxPooling2D")
                    {
                        string pooled = Node("GlobalMaxPool", $"{layer.Name}/pool", [x.Name]);
                        return new Value(Node("Flatten", layer.Name, [pooled], Int("axis", 1)), outputShape);
                    }
                    throw Refuse(layer, "ONNX export has no translation for this layer class");
            }
        }

        /// <summary>Keras's activation by name as ONNX ops on <paramref name="x"/>; softmax over the channels.</summary>
        private string Activate(Layer layer, string activation, string x, int rank, string name) => activation switch
        {
            "linear" => x,
            "relu" => Node("Relu", name, [x]),
            "sigmoid" => Node("Sigmoid", name, [x]),
            "tanh" => Node("Tanh", name, [x]),
            "softmax" => Node("Softmax", name, [x], Int("axis", rank == 3 ? 1 : -1)),
            "leaky_relu" => Node("LeakyRelu", name, [x], Float("alpha", 0.3f)),
            "elu" => Node("Elu", name, [x], Float("alpha", 1f)),
            "selu" => Node("Selu", name, [x]),
            "softplus" => Node("Softplus", name, [x]),
            "softsign" => Node("Softsign", name, [x]),
            "relu6" => Node("Clip", name, [x, Initializer($"{name}/min", [0f]), Initializer($"{name}/max", [6f])]),
            "swish" or "silu" => Node("Mul", name, [x, Node("Sigmoid", $"{name}/sigmoid", [x])]),
            _ => throw Refuse(layer, $"activation '{activation}' has no ONNX translation here"),
        };

        /// <summary>TensorFlow's pads for the model's input size (SAME: the odd pixel bottom/right), as ONNX's [top, left, bottom, right].</summary>
        private static long[] Pads(Padding padding, int h, int w, Size2D kernel, Size2D strides, Size2D dilation)
        {
            var (top, bottom, _) = WindowMath.Resolve(h, kernel.Height, strides.Height, dilation.Height, padding.Mode, padding.Top, padding.Bottom);
            var (left, right, _) = WindowMath.Resolve(w, kernel.Width, strides.Width, dilation.Width, padding.Mode, padding.Left, padding.Right);
            return [top, left, bottom, right];
        }

        private Value Conv(Conv2D conv, Value x, int[] outputShape)
        {
            var kernel = conv.Kernel!;
            int kh = kernel.Shape[0], kw = kernel.Shape[1], cin = kernel.Shape[2], oc = kernel.Shape[3];
            // HWIO → OIHW.
            float[] hwio = kernel.ToArray();
            var oihw = new float[hwio.Length];
            for (int y = 0; y < kh; y++)
                for (int xk = 0; xk < kw; xk++)
                    for (int i = 0; i < cin; i++)
                        for (int o = 0; o < oc; o++)
                            oihw[((o * cin + i) * kh + y) * kw + xk] = hwio[((y * kw + xk) * cin + i) * oc + o];
            var inputs = new List<string> { x.Name, Initializer($"{conv.Name}/kernel", oihw, oc, cin, kh, kw) };
            if (conv.Bias is { } bias) inputs.Add(Initializer($"{conv.Name}/bias", bias.ToArray(), oc));
            var pads = Pads(conv.Padding, x.Shape[0], x.Shape[1], conv.KernelSize, conv.Strides, conv.DilationRate);
            string y2 = Node("Conv", conv.Activation.IsLinear ? conv.Name : $"{conv.Name}/linear", inputs,
                Ints("kernel_shape", kh, kw), Ints("strides", conv.Strides.Height, conv.Strides.Width),
                Ints("dilations", conv.DilationRate.Height, conv.DilationRate.Width), Ints("pads", pads), Int("group", conv.Groups));
            return new Value(Activate(conv, conv.Activation.Name, y2, 3, conv.Name), outputShape);
        }

        private Value Pool(Pooling2DLayer pool, Value x, int[] outputShape)
        {
            bool max = pool.ClassName == "MaxPooling2D";
            var pads = Pads(pool.Padding, x.Shape[0], x.Shape[1], pool.PoolSize, pool.Strides, 1);
            var attributes = new List<AttributeProto>
            {
                Ints("kernel_shape", pool.PoolSize.Height, pool.PoolSize.Width), Ints("strides", pool.Strides.Height, pool.Strides.Width), Ints("pads", pads),
            };
            if (pool.CeilMode) attributes.Add(Int("ceil_mode", 1));
            if (!max) attributes.Add(Int("count_include_pad", pool.CountIncludePad ? 1 : 0));
            return new Value(Node(max ? "MaxPool" : "AveragePool", pool.Name, [x.Name], [.. attributes]), outputShape);
        }

        private Value Normalize(BatchNormalization bn, Value x, int[] outputShape)
        {
            if (bn.Axis != -1 && bn.Axis != x.Shape.Length) throw Refuse(bn, $"axis {bn.Axis} is not the channel axis");
            int c = bn.Channels;
            float[] Get(string role, float fill) =>
                bn.Parameters.FirstOrDefault(p => p.Name == role)?.ToArray() ?? Enumerable.Repeat(fill, c).ToArray();
            var inputs = new[]
            {
                x.Name, Initializer($"{bn.Name}/gamma", Get("gamma", 1f), c), Initializer($"{bn.Name}/beta", Get("beta", 0f), c),
                Initializer($"{bn.Name}/moving_mean", Get("moving_mean", 0f), c), Initializer($"{bn.Name}/moving_variance", Get("moving_variance", 1f), c),
            };
            return new Value(Node("BatchNormalization", bn.Name, inputs, Float("epsilon", (float)bn.Epsilon)), outputShape);
        }
    }
}
