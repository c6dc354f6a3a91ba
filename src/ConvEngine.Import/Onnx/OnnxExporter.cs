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
/// rather than wrapping it in transposes: every tensor is channels-first — an engine sample (d1, …, dk, C) is ONNX
/// (N, C, d1, …, dk), so images are (N, C, H, W) and vectors (N, F) —, weights are permuted once (conv HWIO → OIHW),
/// SAME padding becomes the explicit pads TensorFlow would use for the model's input size (the odd pixel bottom/right),
/// and the layers whose meaning depends on the channels-last element order (Flatten, Reshape) are put between
/// transposes, so a Dense after a Flatten keeps its weights.
/// Layers: Conv1D, Conv2D, DepthwiseConv2D and SeparableConv2D (grouped Conv), Conv2DTranspose (ConvTranspose), the 1-D
/// and 2-D max and average pools (padding excluded from the mean, as TensorFlow), global pools (keepdims too), Dense,
/// Flatten, Reshape, Permute, Dropout (dropped), Activation / ReLU / LeakyReLU / Softmax and every activation the
/// engine names (composed from ONNX ops where opset 13 has no single one), BatchNormalization (inference),
/// Normalization, Rescaling (per channel too), Add, Multiply (with Keras's broadcasting), Concatenate, ZeroPadding2D,
/// Cropping2D, nested models (inlined); anything else is refused naming the layer.
/// </summary>
public static partial class OnnxExporter
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
        int[] inputShape = model.Input.Shape;
        graph.Input.Add(writer.ValueInfo("input", OnnxShape(inputShape)));
        string output = writer.Emit(model, new Value("input", inputShape));
        graph.Output.Add(writer.ValueInfo(output, OnnxShape(model.OutputShape)));
        var proto = new ModelProto { IrVersion = 7, ProducerName = "ConvEngine", ProducerVersion = "1", Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return proto;
    }

    /// <summary>A sample shape (engine, channels-last) in the exported order: the last axis first, (H, W, C) → (C, H, W).</summary>
    public static int[] OnnxShape(IReadOnlyList<int> shape) => shape.Count < 2 ? [.. shape] : [shape[^1], .. shape.Take(shape.Count - 1)];

    /// <summary>A tensor of the graph being written, with its sample shape in the engine's (channels-last) order.</summary>
    private readonly record struct Value(string Name, int[] Shape)
    {
        public int Rank => Shape.Length;
        public int Channels => Shape[^1];
    }

    private sealed partial class GraphWriter(GraphProto graph)
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

        /// <summary>A scalar float constant (broadcasts against anything).</summary>
        private string Scalar(string name, float value) => Initializer(name, [value]);

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
                case ConvolutionLayer conv:
                    return Conv(conv, x, outputShape);
                case DepthwiseConv2D depthwise:
                    return Depthwise(depthwise, x, outputShape);
                case SeparableConv2D separable:
                    return Separable(separable, x, outputShape);
                case Conv2DTranspose transpose:
                    return ConvTranspose(transpose, x, outputShape);
                case Pooling2DLayer pool:
                    return Pool(pool, x, outputShape);
                case Pooling1DLayer pool:
                    return Pool(pool, x, outputShape);
                case GlobalPooling2DLayer pool:
                    return GlobalPool(layer, pool is GlobalMaxPooling2D, pool.KeepDims, x, outputShape);
                case GlobalPooling1DLayer:
                    return GlobalPool(layer, layer is GlobalMaxPooling1D, keepDims: false, x, outputShape);
                case Dense dense:
                {
                    if (x.Rank != 1) throw Refuse(layer, $"its input {SymbolicTensor.FormatShape(x.Shape)} is not a vector (flatten it first)");
                    var kernel = dense.Parameters[0];
                    var inputsOfGemm = new List<string> { x.Name, Initializer($"{layer.Name}/kernel", kernel.ToArray(), kernel.Shape[0], kernel.Shape[1]) };
                    if (dense.Parameters.Count > 1) inputsOfGemm.Add(Initializer($"{layer.Name}/bias", dense.Parameters[1].ToArray(), dense.Parameters[1].Shape[0]));
                    string y = Node("Gemm", dense.Activation.IsLinear ? layer.Name : $"{layer.Name}/linear", inputsOfGemm);
                    return new Value(Activate(layer, dense.Activation, y, layer.Name), outputShape);
                }
                case Layers.Activation or ReLU or LeakyReLU or Softmax:
                    return new Value(Activate(layer, ((ActivatedLayer)layer).Activation, x.Name, layer.Name), outputShape);
                case Flatten:
                    return new Value(Node("Flatten", layer.Name, [ChannelsLast(x, layer.Name)], Int("axis", 1)), outputShape);
                case Reshape:
                    return Reshaped(layer, x, outputShape);
                case Permute permute:
                    return Permuted(permute, x, outputShape);
                case Dropout:
                    return x;
                case BatchNormalization bn:
                    return Normalize(bn, x, outputShape);
                case Normalization normalization:
                {
                    var (scale, shift) = normalization.ChannelAffine(x.Channels);
                    return new Value(ChannelAffine(layer.Name, x, scale, shift), outputShape);
                }
                case Rescaling rescaling:
                    return Rescale(rescaling, x, outputShape);
                case Add:
                    return new Value(Node(inputs.Count == 2 ? "Add" : "Sum", layer.Name, inputs.Select(i => i.Name)), outputShape);
                case Multiply:
                {
                    // Keras's broadcast operands, (1, …, 1, C) or (1, …, 1), are (N, C, 1, …) or (N, 1, …) here: ONNX's
                    // numpy broadcasting then pairs the same elements.
                    string product = inputs[0].Name;
                    for (int i = 1; i < inputs.Count; i++)
                        product = Node("Mul", i == inputs.Count - 1 ? layer.Name : $"{layer.Name}/partial", [product, inputs[i].Name]);
                    return new Value(product, outputShape);
                }
                case Concatenate concat:
                {
                    int axis = concat.Axis < 0 ? concat.Axis + x.Rank : concat.Axis - 1;
                    if (axis < 0 || axis >= x.Rank) throw Refuse(layer, $"axis {concat.Axis} is not an axis of {SymbolicTensor.FormatShape(x.Shape)}");
                    return new Value(Node("Concat", layer.Name, inputs.Select(i => i.Name), Int("axis", OnnxAxis(axis, x.Rank))), outputShape);
                }
                case ZeroPadding2D zp:
                {
                    string pads = Int64s($"{layer.Name}/pads", [0, 0, zp.Top, zp.Left, 0, 0, zp.Bottom, zp.Right]);
                    return new Value(Node("Pad", layer.Name, [x.Name, pads]), outputShape);
                }
                case Cropping2D crop:
                {
                    string starts = Int64s($"{layer.Name}/starts", [crop.Top, crop.Left]);
                    string ends = Int64s($"{layer.Name}/ends", [x.Shape[0] - crop.Bottom, x.Shape[1] - crop.Right]);
                    string axes = Int64s($"{layer.Name}/axes", [2, 3]);
                    return new Value(Node("Slice", layer.Name, [x.Name, starts, ends, axes]), outputShape);
                }
                default:
                    throw Refuse(layer, "ONNX export has no translation for this layer class");
            }
        }

        /// <summary>Where engine sample axis <paramref name="axis"/> (0-based, batch left out) of a rank-<paramref name="rank"/> sample sits in ONNX's channels-first tensor.</summary>
        private static int OnnxAxis(int axis, int rank) => rank < 2 || axis == rank - 1 ? 1 : axis + 2;

        /// <summary><paramref name="x"/> in the engine's channels-last order (N, d1, …, dk, C): what Flatten and Reshape see.</summary>
        private string ChannelsLast(Value x, string name)
        {
            if (x.Rank < 2) return x.Name;
            long[] perm = [0, .. Enumerable.Range(2, x.Rank - 1).Select(a => (long)a), 1];
            return Node("Transpose", $"{name}/channels_last", [x.Name], Ints("perm", perm));
        }

        /// <summary>A channels-last tensor of sample rank <paramref name="rank"/> back in the exported, channels-first order.</summary>
        private string ChannelsFirst(string x, int rank, string name, bool last)
        {
            if (rank < 2) return x;
            long[] perm = [0, rank, .. Enumerable.Range(1, rank - 1).Select(a => (long)a)];
            return Node("Transpose", last ? name : $"{name}/channels_first", [x], Ints("perm", perm));
        }

        /// <summary>Keras's Reshape works on the channels-last element order: transpose to it, reshape, transpose back.</summary>
        private Value Reshaped(Layer layer, Value x, int[] outputShape)
        {
            string source = ChannelsLast(x, layer.Name);
            // 0 keeps the batch dimension (ONNX Reshape, allowzero 0); the rest is the resolved target_shape.
            string shape = Int64s($"{layer.Name}/shape", [0, .. outputShape.Select(d => (long)d)]);
            string reshaped = Node("Reshape", outputShape.Length < 2 ? layer.Name : $"{layer.Name}/reshape", [source, shape]);
            return new Value(ChannelsFirst(reshaped, outputShape.Length, layer.Name, last: true), outputShape);
        }

        /// <summary>Keras's Permute(dims) on the channels-last axes, as one Transpose of the channels-first tensors.</summary>
        private Value Permuted(Permute permute, Value x, int[] outputShape)
        {
            int rank = x.Rank;
            var perm = new long[rank + 1];
            for (int q = 1; q <= rank; q++)
            {
                // ONNX output position q holds engine output axis e; that axis is engine input axis dims[e] − 1.
                int e = q == 1 ? rank - 1 : q - 2;
                perm[q] = OnnxAxis(permute.Dims[e] - 1, rank);
            }
            return new Value(Node("Transpose", permute.Name, [x.Name], Ints("perm", perm)), outputShape);
        }

        /// <summary>y = x·scale + shift per channel (the last engine axis, ONNX axis 1).</summary>
        private string ChannelAffine(string name, Value x, float[] scale, float[] shift)
        {
            long[] dims = [x.Channels, .. Enumerable.Repeat(1L, Math.Max(x.Rank - 1, 0))];
            string scaled = Node("Mul", $"{name}/scaled", [x.Name, Initializer($"{name}/scale", scale, dims)]);
            return Node("Add", name, [scaled, Initializer($"{name}/offset", shift, dims)]);
        }

        private Value Rescale(Rescaling rescaling, Value x, int[] outputShape)
        {
            if (rescaling.PerChannel)
            {
                float[] Channel(IReadOnlyList<double> values) =>
                    Enumerable.Range(0, x.Channels).Select(c => (float)values[values.Count == 1 ? 0 : c]).ToArray();
                return new Value(ChannelAffine(rescaling.Name, x, Channel(rescaling.ChannelScales!), Channel(rescaling.ChannelOffsets!)), outputShape);
            }
            float scale = (float)rescaling.Scale, offset = (float)rescaling.Offset;
            string scaled = Node("Mul", offset == 0 ? rescaling.Name : $"{rescaling.Name}/scaled", [x.Name, Scalar($"{rescaling.Name}/scale", scale)]);
            return new Value(offset == 0 ? scaled : Node("Add", rescaling.Name, [scaled, Scalar($"{rescaling.Name}/offset", offset)]), outputShape);
        }

        private Value GlobalPool(Layer layer, bool max, bool keepDims, Value x, int[] outputShape)
        {
            // (N, C, spatial…) → (N, C, 1, …): exactly the engine's keepdims (1, 1, C); else flattened to (N, C).
            string pooled = Node(max ? "GlobalMaxPool" : "GlobalAveragePool", keepDims ? layer.Name : $"{layer.Name}/pool", [x.Name]);
            return new Value(keepDims ? pooled : Node("Flatten", layer.Name, [pooled], Int("axis", 1)), outputShape);
        }

        private Value Normalize(BatchNormalization bn, Value x, int[] outputShape)
        {
            if (bn.Axis != -1 && bn.Axis != x.Rank) throw Refuse(bn, $"axis {bn.Axis} is not the channel axis");
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
