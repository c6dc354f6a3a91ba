using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

public static partial class OnnxToModel
{
    /// <summary>How an engine tensor stands for an ONNX value.</summary>
    private enum ValueKind
    {
        /// <summary>ONNX (N, C, H, W) as engine (H, W, C).</summary>
        Image,
        /// <summary>ONNX (N, F) as engine (F).</summary>
        Vector,
        /// <summary>ONNX (N, C, 1, 1) after global pooling, as engine (C).</summary>
        Pooled,
        /// <summary>ONNX (N, C·H·W) in C, H, W order, as engine (H·W·C) in H, W, C order (a flattened image with H·W &gt; 1).</summary>
        FlattenedImage,
        /// <summary>ONNX (N, A, B, H, W), an image's channels split in two axes (a channel shuffle), as engine (H·W, A, B); ImageShape is (H, W).</summary>
        GroupedImage,
    }

    private sealed record Value(SymbolicTensor Tensor, ValueKind Kind, int[]? ImageShape = null)
    {
        public int Channels => Tensor.Shape[^1];
        public bool IsFeatureVector => Kind is ValueKind.Vector or ValueKind.Pooled;
    }

    /// <summary>Walks the graph in file order (ONNX's topological order), applying one or two layers per node.</summary>
    private sealed partial class Builder(OnnxGraph graph)
    {
        private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
        private readonly List<(Layer Layer, string Weight, float[] Values)> _weights = [];
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private OnnxNode _node = null!;

        public (InputLayer Input, SymbolicTensor Output) Build(Func<SymbolicTensor, SymbolicTensor>? inputTransform)
        {
            if (graph.Inputs.Count != 1)
                throw new OnnxUnsupportedException($"{graph.Context}: the graph has {graph.Inputs.Count} inputs ({string.Join(", ", graph.Inputs)}); an engine model has one.");
            if (graph.Outputs.Count != 1)
                throw new OnnxUnsupportedException($"{graph.Context}: the graph has {graph.Outputs.Count} outputs ({string.Join(", ", graph.Outputs)}); an engine model has one.");
            var declared = graph.Inputs[0];
            var dims = declared.Dims;
            if (dims.Skip(1).Any(d => d is null))
                throw new OnnxUnsupportedException($"{graph.Context}: input {declared} has a symbolic dimension besides the batch; the engine needs fixed sample shapes.");
            if (dims.Count is not (2 or 4) || dims[0] is not (null or 1))
                throw new OnnxUnsupportedException($"{graph.Context}: input {declared} is neither (N, C, H, W) images nor (N, F) features with a batch of 1 or N.");
            var input = dims.Count == 4
                ? new InputLayer([dims[2]!.Value, dims[3]!.Value, dims[1]!.Value], UniqueName(Sanitize(declared.Name, "input")))
                : new InputLayer([dims[1]!.Value], UniqueName(Sanitize(declared.Name, "input")));
            SymbolicTensor x = input;
            if (inputTransform is not null) x = inputTransform(x);
            _values[declared.Name] = new Value(x, dims.Count == 4 ? ValueKind.Image : ValueKind.Vector);

            foreach (var node in graph.Nodes)
            {
                _node = node;
                if (node.Domain is not ("" or "ai.onnx"))
                    throw Unsupported($"operator domain {QuotedName.Of(node.Domain)} has no engine layer.");
                Convert();
            }
            var output = Get(graph.Outputs[0], "the graph output");
            return (input, output.Tensor);
        }

        /// <summary>Gives each converted layer its weights, on the model's backend, once the model exists.</summary>
        public void AssignWeights(IBackend backend)
        {
            foreach (var (layer, weight, values) in _weights)
                layer.Parameters.Single(p => p.Name == weight).Assign(backend, values);
        }

        private void Convert()
        {
            switch (_node.OpType)
            {
                case "Conv": Conv(); break;
                case "ConvTranspose": ConvTranspose(); break;
                case "BatchNormalization": BatchNorm(); break;
                case "Relu": ActivationNode("relu"); break;
                case "LeakyRelu": LeakyReluNode(); break;
                case "Sigmoid": ActivationNode("sigmoid"); break;
                case "Tanh": ActivationNode("tanh"); break;
                case "Softmax": Softmax(); break;
                case "MaxPool": Pool("MaxPooling2D"); break;
                case "AveragePool": Pool("AveragePooling2D"); break;
                case "GlobalAveragePool": GlobalAveragePool(); break;
                case "Add": Add(); break;
                case "Concat": Concat(); break;
                case "Flatten": Flatten(); break;
                case "Reshape" or "Squeeze": ReshapeNode(); break;
                case "Transpose": TransposeNode(); break;
                case "Gemm": Gemm(); break;
                case "MatMul": MatMul(); break;
                case "Dropout" or "Identity": Set(Get(_node.Inputs[0], "input")); break;
                default:
                    throw Unsupported($"{_node.OpType} has no engine layer; run the model for inference with OnnxImporter.Load instead.");
            }
        }

        // ---------------------------------------------------------------- layers

        private void Conv()
        {
            var x = Image(0);
            var w = Constant(1, "weight");
            if (w.Dims.Length != 4)
                throw Unsupported($"a weight of dims ({string.Join(", ", w.Dims)}); only 2-D convolutions (OIHW) convert.");
            int oc = w.Dims[0], cg = w.Dims[1], kh = w.Dims[2], kw = w.Dims[3];
            var b = _node.Input(2) is null ? null : Constant(2, "bias");
            int[] strides = PerAxis("strides", 1), dilations = PerAxis("dilations", 1);
            int groups = checked((int)OnnxAttributes.Int(_node, "group", 1));
            // A leaky relu of another slope than the "leaky_relu" name's becomes a LeakyReLU layer after the conv.
            var fused = _node.FusedActivation;
            bool leakyAfter = fused.Kind == ActivationKind.LeakyRelu && fused.Alpha != ActivationFunction.LeakyReluSlope;
            string activation = leakyAfter ? "linear" : ActivationName(fused);
            string name = LayerName();

            var (padding, x2) = PaddingFor(x, [kh, kw], strides, dilations, name);
            var conv = new Conv2D(oc, new Size2D(kh, kw), new Size2D(strides[0], strides[1]), padding, new Size2D(dilations[0], dilations[1]),
                activation, useBias: b is not null, groups: groups, name: name);
            var y = Apply(conv, x2.Tensor);
            if (leakyAfter) y = Apply(new LeakyReLU(fused.Alpha, UniqueName(name + "_leaky_relu")), y);
            _weights.Add((conv, "kernel", OnnxConstantFolding.Transpose(w.ToFloats(), [oc, cg, kh, kw], [2, 3, 1, 0])));
            if (b is not null) _weights.Add((conv, "bias", b.ToFloats()));
            Set(new Value(y, ValueKind.Image));
        }

        private void BatchNorm()
        {
            var x = Get(_node.Inputs[0], "X");
            if (x.Kind is ValueKind.FlattenedImage or ValueKind.GroupedImage) throw Unsupported($"BatchNormalization of a {DescribeKind(x)} (its channel axis is not the last).");
            if (_node.Outputs.Skip(1).Any(o => o.Length > 0))
                throw Unsupported("BatchNormalization in training mode (it has running-statistics outputs).", "outputs");
            if (OnnxAttributes.Int(_node, "training_mode", 0) != 0) throw Unsupported("training_mode 1.", "training_mode");
            var parameters = new[] { "scale", "B", "mean", "var" }.Select((role, i) => Constant(i + 1, role)).ToArray();
            if (parameters.Any(p => p.Length != x.Channels))
                throw Unsupported($"parameters of lengths ({string.Join(", ", parameters.Select(p => p.Length))}) for {x.Channels} channels.");
            double epsilon = OnnxAttributes.Float(_node, "epsilon", 1e-5f);
            double momentum = OnnxAttributes.Float(_node, "momentum", 0.9f);
            var layer = Registry("BatchNormalization", new JsonObject
            {
                ["name"] = LayerName(), ["axis"] = -1, ["epsilon"] = epsilon, ["momentum"] = momentum,
                ["center"] = true, ["scale"] = true,
            });
            var y = Apply(layer, x.Tensor);
            string[] weights = ["gamma", "beta", "moving_mean", "moving_variance"];
            for (int i = 0; i < 4; i++) _weights.Add((layer, weights[i], parameters[i].ToFloats()));
            Set(x with { Tensor = y });
        }

        private void ActivationNode(string activation)
        {
            var x = Get(_node.Inputs[0], "X");
            Set(x with { Tensor = Apply(new Layers.Activation(activation, LayerName()), x.Tensor) });
        }

        private void LeakyReluNode()
        {
            var x = Get(_node.Inputs[0], "X");
            Set(x with { Tensor = Apply(new LeakyReLU(OnnxAttributes.Float(_node, "alpha", 0.01f), LayerName()), x.Tensor) });
        }

        private void Softmax()
        {
            var x = Get(_node.Inputs[0], "input");
            long axis = OnnxAttributes.Int(_node, "axis", graph.Opset >= 13 ? -1 : 1);
            if (!x.IsFeatureVector || axis is not (1 or -1))
                throw Unsupported($"Softmax on axis {axis} of a {DescribeKind(x)}; only the class axis of (N, K) converts.", "axis");
            Set(x with { Tensor = Apply(new Layers.Activation("softmax", LayerName()), x.Tensor) });
        }

        private void Pool(string className)
        {
            var x = Image(0);
            if (_node.Outputs.Skip(1).Any(o => o.Length > 0)) throw Unsupported("MaxPool's Indices output.", "outputs");
            if (OnnxAttributes.Int(_node, "storage_order", 0) != 0) throw Unsupported("storage_order 1.", "storage_order");
            long[] kernelShape = OnnxAttributes.Ints(_node, "kernel_shape") ?? throw Invalid("attribute kernel_shape is required.");
            if (kernelShape.Length != 2) throw Unsupported($"a {kernelShape.Length}-D pooling window; only 2-D converts.", "kernel_shape");
            int[] kernel = kernelShape.Select(k => checked((int)k)).ToArray();
            int[] strides = PerAxis("strides", 1), dilations = PerAxis("dilations", 1);
            if (dilations.Any(d => d != 1)) throw Unsupported("dilated pooling.", "dilations");
            bool ceil = OnnxAttributes.Int(_node, "ceil_mode", 0) != 0;
            bool includePad = className == "AveragePooling2D" && OnnxAttributes.Int(_node, "count_include_pad", 0) != 0;
            var (before, after) = Pads(x, kernel, strides, dilations);
            int h = x.Tensor.Shape[0], w = x.Tensor.Shape[1];

            // One window over the whole image is global pooling: ONNX's (N, C, 1, 1), the engine's (C).
            if (className == "AveragePooling2D" && kernel[0] == h && kernel[1] == w && before.Concat(after).All(p => p == 0))
            {
                Set(new Value(Apply(new GlobalAveragePooling2D(LayerName()), x.Tensor), ValueKind.Pooled));
                return;
            }
            JsonNode padding = PaddingConfig(x, kernel, strides, before, after);
            var config = new JsonObject
            {
                ["name"] = LayerName(),
                ["pool_size"] = new JsonArray(kernel[0], kernel[1]),
                ["strides"] = new JsonArray(strides[0], strides[1]),
                ["padding"] = padding,
            };
            if (ceil) config["ceil_mode"] = true;
            if (includePad) config["count_include_pad"] = true;
            Set(new Value(Apply(Registry(className, config), x.Tensor), ValueKind.Image));
        }

        private void GlobalAveragePool()
        {
            var x = Image(0);
            Set(new Value(Apply(new GlobalAveragePooling2D(LayerName()), x.Tensor), ValueKind.Pooled));
        }

        private void Add()
        {
            if (_node.Inputs.Length != 2 || _node.Inputs.Any(graph.Initializers.ContainsKey))
                throw Unsupported("Add with a constant operand; only the sum of two computed tensors (a residual connection) converts.");
            var a = Get(_node.Inputs[0], "A");
            var b = Get(_node.Inputs[1], "B");
            if (a.Kind != b.Kind || !a.Tensor.Shape.SequenceEqual(b.Tensor.Shape))
                throw Unsupported($"Add of a {DescribeKind(a)} and a {DescribeKind(b)}; broadcasting does not convert.");
            Set(a with { Tensor = Apply(Registry("Add", new JsonObject { ["name"] = LayerName() }), a.Tensor, b.Tensor) });
        }

        private void Concat()
        {
            var inputs = _node.Inputs.Select((n, i) => Get(n, $"input {i}")).ToList();
            long axis = OnnxAttributes.Int(_node, "axis", 1);
            if (axis != 1 || inputs.Any(v => v.Kind != ValueKind.Image))
                throw Unsupported($"Concat on axis {axis}; only the channel axis of images converts.", "axis");
            var layer = Registry("Concatenate", new JsonObject { ["name"] = LayerName(), ["axis"] = -1 });
            Set(new Value(Apply(layer, inputs.Select(v => v.Tensor).ToArray()), ValueKind.Image));
        }

        private void Flatten()
        {
            var x = Get(_node.Inputs[0], "input");
            if (OnnxAttributes.Int(_node, "axis", 1) != 1) throw Unsupported("Flatten on an axis other than 1.", "axis");
            if (x.Kind == ValueKind.GroupedImage) throw Unsupported($"Flatten of a {DescribeKind(x)}; merge its channels back first.");
            switch (x.Kind)
            {
                case ValueKind.Image:
                    var shape = x.Tensor.Shape;
                    var y = Apply(new Layers.Flatten(LayerName()), x.Tensor);
                    Set(shape[0] * shape[1] == 1 ? new Value(y, ValueKind.Vector) : new Value(y, ValueKind.FlattenedImage, shape));
                    break;
                default:
                    Set(x with { Kind = x.Kind == ValueKind.Pooled ? ValueKind.Vector : x.Kind });
                    break;
            }
        }

        /// <summary>Reshape/Squeeze of pooled (N, C, 1, 1) features to (N, C): nothing to do in channels-last.</summary>
        private void ReshapeOfFeatures()
        {
            var x = Get(_node.Inputs[0], "data");
            if (x.Kind != ValueKind.Pooled && x.Kind != ValueKind.Vector)
                throw Unsupported($"{_node.OpType} of a {DescribeKind(x)}; only dropping the 1×1 axes of pooled features converts.");
            if (_node.OpType == "Reshape")
            {
                var target = Constant(1, "shape").ToInts(graph.Context);
                bool toFeatures = target.Length == 2 && (target[1] == -1 || target[1] == x.Channels);
                if (!toFeatures) throw Unsupported($"Reshape to ({string.Join(", ", target)}); only (N, C) of pooled features converts.", "shape");
            }
            Set(x with { Kind = ValueKind.Vector });
        }

        private void Gemm()
        {
            var a = Features(0);
            var b = Constant(1, "B");
            if (OnnxAttributes.Int(_node, "transA", 0) != 0) throw Unsupported("transA 1.", "transA");
            bool transB = OnnxAttributes.Int(_node, "transB", 0) != 0;
            float alpha = OnnxAttributes.Float(_node, "alpha", 1f), beta = OnnxAttributes.Float(_node, "beta", 1f);
            if (b.Dims.Length != 2) throw Invalid($"B has dims ({string.Join(", ", b.Dims)}), not 2-D.");
            int k = transB ? b.Dims[1] : b.Dims[0], units = transB ? b.Dims[0] : b.Dims[1];
            float[] kernel = transB ? OnnxConstantFolding.Transpose(b.ToFloats(), [units, k], [1, 0]) : b.ToFloats();
            if (alpha != 1f) for (int i = 0; i < kernel.Length; i++) kernel[i] *= alpha;
            float[]? bias = null;
            if (_node.Input(2) is not null)
            {
                var c = Constant(2, "C");
                if (c.Length != units && c.Length != 1) throw Unsupported($"a bias C of dims ({string.Join(", ", c.Dims)}); only (units) or a scalar converts.", "C");
                var values = c.ToFloats();
                bias = Enumerable.Range(0, units).Select(j => beta * values[values.Length == 1 ? 0 : j]).ToArray();
            }
            DenseLayer(a, kernel, k, units, bias);
        }

        private void MatMul()
        {
            var a = Features(0);
            var b = Constant(1, "B");
            if (b.Dims.Length != 2) throw Unsupported($"MatMul by a weight of dims ({string.Join(", ", b.Dims)}); only 2-D converts.");
            DenseLayer(a, b.ToFloats(), b.Dims[0], b.Dims[1], null);
        }

        /// <summary>A Dense layer for a (K, units) kernel; rows are reordered when the input is a flattened C·H·W image.</summary>
        private void DenseLayer(Value a, float[] kernel, int k, int units, float[]? bias)
        {
            int features = a.Tensor.Shape[^1];
            if (k != features) throw Invalid($"the weight has {k} rows but the input has {features} features.");
            if (a.Kind == ValueKind.FlattenedImage)
            {
                int h = a.ImageShape![0], w = a.ImageShape[1], c = a.ImageShape[2];
                var reordered = new float[kernel.Length];
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int ch = 0; ch < c; ch++)
                        {
                            int engineRow = (y * w + x) * c + ch, onnxRow = (ch * h + y) * w + x;
                            Array.Copy(kernel, (long)onnxRow * units, reordered, (long)engineRow * units, units);
                        }
                kernel = reordered;
            }
            var dense = new Dense(units, useBias: bias is not null, name: LayerName());
            var y2 = Apply(dense, a.Tensor);
            _weights.Add((dense, "kernel", kernel));
            if (bias is not null) _weights.Add((dense, "bias", bias));
            Set(new Value(y2, ValueKind.Vector));
        }

        // ---------------------------------------------------------------- padding

        /// <summary>
        /// The conv's padding: "same" when the explicit pads are TensorFlow's SAME split, "valid" when zero, else
        /// a ZeroPadding2D before a "valid" conv.
        /// </summary>
        private (string Padding, Value Input) PaddingFor(Value x, int[] kernel, int[] strides, int[] dilations, string name)
        {
            var (before, after) = Pads(x, kernel, strides, dilations);
            if (before.Concat(after).All(p => p == 0)) return ("valid", x);
            if (IsSame(x, kernel, strides, dilations, before, after)) return ("same", x);
            var pad = Registry("ZeroPadding2D", new JsonObject
            {
                ["name"] = UniqueName(name + "_pad"),
                ["padding"] = new JsonArray(new JsonArray(before[0], after[0]), new JsonArray(before[1], after[1])),
            });
            return ("valid", x with { Tensor = Apply(pad, x.Tensor) });
        }

        /// <summary>A pooling layer's padding config: "valid", "same", or [[top, bottom], [left, right]].</summary>
        private static JsonNode PaddingConfig(Value x, int[] kernel, int[] strides, int[] before, int[] after)
        {
            if (before.Concat(after).All(p => p == 0)) return "valid";
            if (IsSame(x, kernel, strides, [1, 1], before, after)) return "same";
            return new JsonArray(new JsonArray(before[0], after[0]), new JsonArray(before[1], after[1]));
        }

        private static bool IsSame(Value x, int[] kernel, int[] strides, int[] dilations, int[] before, int[] after)
        {
            for (int axis = 0; axis < 2; axis++)
            {
                var (b, a, _) = WindowMath.Resolve(x.Tensor.Shape[axis], kernel[axis], strides[axis], dilations[axis], PaddingMode.Same);
                if (b != before[axis] || a != after[axis]) return false;
            }
            return true;
        }

        /// <summary>Pads (before, after) for H and W (see <see cref="OnnxPads.Resolve"/>).</summary>
        private (int[] Before, int[] After) Pads(Value x, int[] kernel, int[] strides, int[] dilations) =>
            OnnxPads.Resolve(_node, [x.Tensor.Shape[0], x.Tensor.Shape[1]], kernel, strides, dilations,
                Invalid, (what, attribute) => Unsupported(what, attribute));

        // ---------------------------------------------------------------- helpers

        private static string ActivationName(KernelActivation activation) => activation.Kind switch
        {
            ActivationKind.None => "linear",
            ActivationKind.Relu => "relu",
            ActivationKind.Sigmoid => "sigmoid",
            ActivationKind.Tanh => "tanh",
            ActivationKind.LeakyRelu when activation.Alpha == ActivationFunction.LeakyReluSlope => "leaky_relu",
            _ => throw new OnnxUnsupportedException($"activation {activation} has no Keras name (the engine's leaky_relu has slope {ActivationFunction.LeakyReluSlope})."),
        };

        private Layer Registry(string className, JsonObject config)
        {
            if (!LayerRegistry.ClassNames.Contains(className))
                throw Unsupported($"it needs the engine layer {className}, which this build does not have.");
            try
            {
                return LayerRegistry.Create(className, config);
            }
            catch (FormatException e)
            {
                throw Unsupported($"the engine's {className} does not take its settings {config.ToJsonString()} ({e.Message}).");
            }
        }

        private static SymbolicTensor Apply(Layer layer, params SymbolicTensor[] inputs) => layer.Apply(inputs);

        private void Set(Value value)
        {
            if (_node.Outputs.Length == 0 || _node.Outputs[0].Length == 0) throw Invalid("the node has no output.");
            _values[_node.Outputs[0]] = value;
        }

        private Value Get(string name, string role) =>
            _values.TryGetValue(name, out var v) ? v
            : graph.Initializers.ContainsKey(name)
                ? throw Unsupported($"its {role} {QuotedName.Of(name)} is a constant; only computed tensors convert there.")
                : throw new OnnxFormatException($"{graph.Context}: {_node.Label} reads {QuotedName.Of(name)} ({role}), which no earlier node produces.");

        private Value Image(int input)
        {
            var x = Get(_node.Inputs[input], $"input {input}");
            return x.Kind == ValueKind.Image ? x : throw Unsupported($"its input is a {DescribeKind(x)}, not an (N, C, H, W) image.");
        }

        private Value Features(int input)
        {
            var x = Get(_node.Inputs[input], $"input {input}");
            return x.Kind is ValueKind.Image or ValueKind.GroupedImage ? throw Unsupported($"its input is a {DescribeKind(x)}; flatten or pool it first.") : x;
        }

        private OnnxTensorData Constant(int input, string role)
        {
            string name = _node.Input(input) ?? throw Invalid($"input {input} ({role}) is missing.");
            return graph.Initializers.TryGetValue(name, out var data) ? data
                : throw Unsupported($"its {role} {QuotedName.Of(name)} is computed; only constant weights convert.", role);
        }

        private int[] PerAxis(string attribute, int fallback)
        {
            long[]? values = OnnxAttributes.Ints(_node, attribute);
            if (values is null) return [fallback, fallback];
            if (values.Length != 2) throw Unsupported($"attribute {attribute} has {values.Length} entries; only 2-D ops convert.", attribute);
            return values.Select(v => checked((int)v)).ToArray();
        }

        private static string DescribeKind(Value v) => v.Kind switch
        {
            ValueKind.Image => $"(N, C, H, W) image {v.Tensor.ShapeText}",
            ValueKind.FlattenedImage => $"flattened image {v.Tensor.ShapeText}",
            ValueKind.GroupedImage => $"channel-split image (H·W, A, B) {v.Tensor.ShapeText}",
            _ => $"feature vector {v.Tensor.ShapeText}",
        };

        /// <summary>The layer's name: the node's name made safe for weight paths, unique in the model.</summary>
        private string LayerName() => UniqueName(Sanitize(_node.Name, $"{_node.OpType.ToLowerInvariant()}_{_node.Index}"));

        private string UniqueName(string name)
        {
            string candidate = name;
            for (int i = 2; !_names.Add(candidate); i++) candidate = $"{name}_{i}";
            return candidate;
        }

        /// <summary>Engine layer names may not contain '/' (it separates weight paths).</summary>
        private static string Sanitize(string name, string fallback)
        {
            string cleaned = new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '_').ToArray());
            return cleaned.Length == 0 ? fallback : cleaned;
        }

        private OnnxUnsupportedException Unsupported(string what, string? attribute = null) =>
            new($"{graph.Context}: {_node.Label} cannot become an engine layer: {what}", _node.Name, _node.Index, _node.OpType, attribute);

        private OnnxFormatException Invalid(string what) => new($"{graph.Context}: {_node.Label}: {what}");
    }
}
