using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>One conversion per ONNX operator (ai.onnx domain, opsets 1 to 21 as far as these ops go).</summary>
internal sealed partial class OnnxPlanBuilder
{
    /// <summary>The operators the importer runs; everything else is refused by name.</summary>
    public static readonly IReadOnlySet<string> SupportedOps = new HashSet<string>
    {
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Gemm", "MatMul",
        "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
        "Add", "Sub", "Mul", "Div", "Sum", "Concat", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose",
        "Dropout", "LRN", "Pad", "Identity", "Constant", "ConstantOfShape", "Shape", "Gather", "Cast",
    };

    private void Convert(OnnxNode node)
    {
        if (node.Domain is not ("" or "ai.onnx"))
            throw Unsupported($"operators of domain {QuotedName.Of(node.Domain)} are not supported.");
        switch (node.OpType)
        {
            case "Conv": Conv(); break;
            case "ConvTranspose": ConvTranspose(); break;
            case "MaxPool": Pool(PoolKind.Max); break;
            case "AveragePool": Pool(PoolKind.Average); break;
            case "GlobalAveragePool": GlobalPool(PoolKind.Average); break;
            case "GlobalMaxPool": GlobalPool(PoolKind.Max); break;
            case "Gemm": Gemm(); break;
            case "MatMul": MatMul(); break;
            case "BatchNormalization": BatchNormalization(); break;
            case "Relu": Activate(KernelActivation.Relu); break;
            case "LeakyRelu": Activate(KernelActivation.LeakyRelu(OnnxAttributes.Float(node, "alpha", 0.01f))); break;
            case "Sigmoid": Activate(KernelActivation.Sigmoid); break;
            case "Tanh": Activate(KernelActivation.Tanh); break;
            case "Softmax": Softmax(log: false); break;
            case "LogSoftmax": Softmax(log: true); break;
            case "Add" or "Sub" or "Mul" or "Div": Binary(node.OpType); break;
            case "Sum": Sum(); break;
            case "Concat": Concat(); break;
            case "Flatten": Flatten(); break;
            case "Reshape": Reshape(); break;
            case "Squeeze" or "Unsqueeze": SqueezeOrUnsqueeze(node.OpType == "Squeeze"); break;
            case "Transpose": Transpose(); break;
            case "Dropout": Dropout(); break;
            case "Identity": Set(0, Input(0)); break;
            case "LRN": Lrn(); break;
            case "Pad": Pad(); break;
            case "Constant": Set(0, new ConstValue(OnnxConstantFolding.ConstantNode(node, Context))); break;
            case "ConstantOfShape": ConstantOfShape(); break;
            case "Shape": Shape(); break;
            case "Gather": Gather(); break;
            case "Cast": Cast(); break;
            default:
                throw Unsupported($"operator {node.OpType} is not implemented by the importer (supported: {string.Join(", ", SupportedOps.Order())}).");
        }
    }

    /// <summary>The ops that produce only their first output; a consumed second output (mask, indices, running stats) is refused.</summary>
    private void OnlyFirstOutputUsed(string what)
    {
        var readers = _graph.Readers();
        for (int i = 1; i < _node.Outputs.Length; i++)
            if (_node.Outputs[i].Length > 0 && readers.ContainsKey(_node.Outputs[i]))
                throw Unsupported($"its output {i} ({what}, {QuotedName.Of(_node.Outputs[i])}) is used; only the first output is produced.", _node.Outputs[i]);
    }

    private RunValue SpatialInput(string op)
    {
        var x = Runtime(Input(0));
        if (x.Dims.Length is not (3 or 4))
            throw Unsupported($"{op} on a rank-{x.Dims.Length} input ({string.Join(", ", x.Dims)}); 1-D (N,C,L) and 2-D (N,C,H,W) are supported.");
        return x;
    }

    /// <summary>An INTS attribute with one entry per spatial axis, or the default.</summary>
    private int[] PerAxis(string name, int spatial, int fallback)
    {
        long[]? values = OnnxAttributes.Ints(_node, name);
        if (values is null) return Enumerable.Repeat(fallback, spatial).ToArray();
        if (values.Length != spatial)
            throw Invalid($"attribute {name} has {values.Length} entries for {spatial} spatial axes.");
        return values.Select(v => checked((int)v)).ToArray();
    }

    private (int[] Before, int[] After) SpatialPads(int[] input, int[] kernel, int[] strides, int[] dilations) =>
        OnnxPads.Resolve(_node, input, kernel, strides, dilations, Invalid, (why, attribute) => Unsupported(why, attribute));

    // ---------------------------------------------------------------- Conv

    private void Conv()
    {
        var x = SpatialInput("Conv");
        var w = Constant(1, "weight");
        var b = Optional(2) is null ? null : Constant(2, "bias");
        int spatial = x.Dims.Length - 2;
        if (w.Dims.Length != x.Dims.Length)
            throw Invalid($"weight dims ({string.Join(", ", w.Dims)}) do not match a rank-{x.Dims.Length} input.");
        int[] kernel = w.Dims[2..];
        if (OnnxAttributes.Ints(_node, "kernel_shape") is { } ks && !ks.Select(k => (int)k).SequenceEqual(kernel))
            throw Invalid($"kernel_shape ({string.Join(", ", ks)}) disagrees with the weight dims ({string.Join(", ", w.Dims)}).");
        int[] strides = PerAxis("strides", spatial, 1), dilations = PerAxis("dilations", spatial, 1);
        int groups = checked((int)OnnxAttributes.Int(_node, "group", 1));
        var (before, after) = SpatialPads(x.Dims[2..], kernel, strides, dilations);
        int oc = w.Dims[0], cg = w.Dims[1];
        if (b is not null && (b.Dims.Length != 1 || b.Dims[0] != oc))
            throw Invalid($"bias dims ({string.Join(", ", b.Dims)}) must be ({oc}).");

        // 1-D runs as 2-D with height 1: (N,C,L) is stored (N,1,L,C), kernel (1,K).
        bool oneD = spatial == 1;
        int kh = oneD ? 1 : kernel[0], kw = kernel[^1];
        var options = new Conv2DOptions
        {
            StrideH = oneD ? 1 : strides[0], StrideW = strides[^1],
            DilationH = oneD ? 1 : dilations[0], DilationW = dilations[^1],
            Padding = Padding.Explicit(oneD ? 0 : before[0], oneD ? 0 : after[0], before[^1], after[^1]),
            Groups = groups, Activation = _node.FusedActivation,
        };
        var g = Conv2DGeometry.Create($"Conv ({_node.Name})", new TensorShape(TensorDims(x.Dims)), new TensorShape(kh, kw, cg, oc), options);
        var filter = _weights.Get(w, "OIHW→HWIO", () => (OnnxConstantFolding.Transpose(w.Floats ?? w.ToFloats(), [oc, cg, kh, kw], [2, 3, 1, 0]), [kh, kw, cg, oc]));
        var bias = b is null ? null : _weights.Get(b, "vector", () => (b.ToFloats(), [oc]));
        int[] outDims = oneD ? [g.N, oc, g.OW] : [g.N, oc, g.OH, g.OW];
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != g.OC)) throw Invalid($"bias dims must be ({g.OC}).");
        Set(0, EmitConv(outDims, x, g, filter, bias, options.Activation));
    }

    // ---------------------------------------------------------------- pooling

    private void Pool(PoolKind kind)
    {
        var x = SpatialInput(_node.OpType);
        OnlyFirstOutputUsed("Indices");
        int spatial = x.Dims.Length - 2;
        long[] kernelShape = OnnxAttributes.Ints(_node, "kernel_shape") ?? throw Invalid("attribute kernel_shape is required.");
        if (kernelShape.Length != spatial) throw Invalid($"kernel_shape has {kernelShape.Length} entries for {spatial} spatial axes.");
        int[] kernel = kernelShape.Select(k => checked((int)k)).ToArray();
        int[] strides = PerAxis("strides", spatial, 1), dilations = PerAxis("dilations", spatial, 1);
        if (OnnxAttributes.Int(_node, "storage_order", 0) != 0)
            throw Unsupported("storage_order 1 (column-major indices); only the default 0 is supported.", "storage_order");
        bool ceil = OnnxAttributes.Int(_node, "ceil_mode", 0) != 0;
        bool includePad = kind == PoolKind.Average && OnnxAttributes.Int(_node, "count_include_pad", 0) != 0;
        var (before, after) = SpatialPads(x.Dims[2..], kernel, strides, dilations);

        bool oneD = spatial == 1;
        var options = new Pool2DOptions
        {
            PoolH = oneD ? 1 : kernel[0], PoolW = kernel[^1],
            StrideH = oneD ? 1 : strides[0], StrideW = strides[^1],
            DilationH = oneD ? 1 : dilations[0], DilationW = dilations[^1],
            Padding = Padding.Explicit(oneD ? 0 : before[0], oneD ? 0 : after[0], before[^1], after[^1]),
            CeilMode = ceil, CountIncludePad = includePad,
        };
        var g = Pool2DGeometry.Create($"{_node.OpType} ({_node.Name})", new TensorShape(TensorDims(x.Dims)), options);
        int[] outDims = oneD ? [g.N, g.C, g.OW] : [g.N, g.C, g.OH, g.OW];
        Set(0, EmitInto(outDims, [x], (a, y) => a[0].Backend.Pool2D(a[0].Buffer, y.Buffer, g, kind)));
    }

    /// <summary>(N,C,spatial…) → (N,C,1…): the kernel's (N,C) result is already the storage of (N,C,1,1).</summary>
    private void GlobalPool(PoolKind kind)
    {
        var x = SpatialInput(_node.OpType);
        int n = x.Dims[0], c = x.Dims[1];
        int spatial = x.Dims[2..].Aggregate(1, (p, d) => p * d);
        int[] outDims = [n, c, .. Enumerable.Repeat(1, x.Dims.Length - 2)];
        Set(0, EmitInto(outDims, [x], (a, y) => a[0].Backend.GlobalPool(a[0].Buffer, y.Buffer, n, spatial, c, kind)));
    }

    // ---------------------------------------------------------------- dense

    /// <summary>Y = alpha·op(A)·op(B) + beta·C, run as Dense with the constant B pre-transposed and pre-scaled.</summary>
    private void Gemm()
    {
        var aValue = Input(0);
        if (aValue is ConstValue) throw Unsupported("input A is a constant; only a run-time A with a constant or run-time B is supported.", _node.Inputs[0]);
        var a = Runtime(aValue);
        if (a.Dims.Length != 2) throw Invalid($"input A must be 2-D; got ({string.Join(", ", a.Dims)}).");
        float alpha = OnnxAttributes.Float(_node, "alpha", 1f), beta = OnnxAttributes.Float(_node, "beta", 1f);
        bool transA = OnnxAttributes.Int(_node, "transA", 0) != 0, transB = OnnxAttributes.Int(_node, "transB", 0) != 0;
        if (transA) a = Reorder(a, [1, 0], [a.Dims[1], a.Dims[0]]);
        int m = a.Dims[0], k = a.Dims[1];

        var bValue = Input(1);
        Tensor? kernelConstant = null;
        RunValue? kernelRuntime = null;
        int n;
        if (bValue is ConstValue bc)
        {
            var bd = bc.Data;
            if (bd.Dims.Length != 2) throw Invalid($"input B must be 2-D; got ({string.Join(", ", bd.Dims)}).");
            n = transB ? bd.Dims[0] : bd.Dims[1];
            if ((transB ? bd.Dims[1] : bd.Dims[0]) != k)
                throw Invalid($"A ({m}, {k}) does not match B ({string.Join(", ", bd.Dims)}){(transB ? " transposed" : "")}.");
            kernelConstant = _weights.Get(bd, $"gemm-kernel transB={transB} alpha={alpha}", () =>
            {
                float[] w = transB ? OnnxConstantFolding.Transpose(bd.ToFloats(), bd.Dims, [1, 0]) : (float[])bd.ToFloats().Clone();
                if (alpha != 1f) for (int i = 0; i < w.Length; i++) w[i] *= alpha;
                return (w, [k, n]);
            });
        }
        else
        {
            if (alpha != 1f) throw Unsupported($"alpha {alpha} with a run-time B; only alpha 1 is supported then.", "alpha");
            var b = (RunValue)bValue;
            if (b.Dims.Length != 2) throw Invalid($"input B must be 2-D; got ({string.Join(", ", b.Dims)}).");
            if (transB) b = Reorder(b, [1, 0], [b.Dims[1], b.Dims[0]]);
            if (b.Dims[0] != k) throw Invalid($"A ({m}, {k}) does not match B ({string.Join(", ", b.Dims)}).");
            n = b.Dims[1];
            kernelRuntime = b;
        }

        // C: a bias row (N), (1,N) or a scalar folds into Dense; a full (M,N) or column (M,1) is added after.
        Tensor? bias = null;
        RunValue? addend = null;
        if (Optional(2) is { } cValue && beta != 0f)
        {
            var c = cValue as ConstValue ?? throw Unsupported("input C is computed at run time; only a constant C is supported.", _node.Inputs[2]);
            var cd = c.Data;
            int[] cDims = cd.Dims.SkipWhile(d => d == 1).ToArray();
            if (cDims.Length == 0 || (cDims.Length == 1 && cDims[0] == n))
                bias = _weights.Get(cd, $"gemm-bias n={n} beta={beta}", () =>
                {
                    float[] v = cd.ToFloats();
                    return (Enumerable.Range(0, n).Select(j => beta * v[v.Length == 1 ? 0 : j]).ToArray(), [n]);
                });
            else
            {
                float[] full = OnnxConstantFolding.Broadcast(cd, [m, n], Invalid);
                for (int i = 0; i < full.Length; i++) full[i] *= beta;
                addend = Runtime(new ConstValue(OnnxTensorData.FromFloats(cd.Name, [m, n], full)));
            }
        }

        var activation = _node.FusedActivation;
        RunValue y = kernelRuntime is null
            ? EmitInto([m, n], [a], (t, o) => t[0].Backend.Dense(t[0].Buffer, kernelConstant!.Buffer, bias?.Buffer, o.Buffer, m, k, n, addend is null ? activation : default))
            : EmitInto([m, n], [a, kernelRuntime], (t, o) => t[0].Backend.Dense(t[0].Buffer, t[1].Buffer, bias?.Buffer, o.Buffer, m, k, n, addend is null ? activation : default));
        if (addend is not null)
        {
            y = EmitInto([m, n], [y, addend], (t, o) => t[0].Backend.Add(t[0].Buffer, t[1].Buffer, o.Buffer, o.Length));
            if (activation.Kind != ActivationKind.None) y = EmitInto([m, n], [y], (t, o) => t[0].Backend.Activate(t[0].Buffer, o.Buffer, o.Length, activation));
        }
        Set(0, y);
    }

    /// <summary>2-D MatMul: run-time A times constant or run-time B.</summary>
    private void MatMul()
    {
        var aValue = Input(0);
        var bValue = Input(1);
        if (aValue is ConstValue && bValue is ConstValue)
            throw Unsupported("both inputs are constants (constant MatMul is not folded).");
        if (aValue is ConstValue) throw Unsupported("input A is a constant; only a run-time A is supported.", _node.Inputs[0]);
        if (aValue.Dims.Length != 2 || bValue.Dims.Length != 2)
            throw Unsupported($"MatMul of ({string.Join(", ", aValue.Dims)}) and ({string.Join(", ", bValue.Dims)}); only 2-D × 2-D is supported.");
        var a = Runtime(aValue);
        int m = a.Dims[0], k = a.Dims[1], n = bValue.Dims[1];
        if (bValue.Dims[0] != k) throw Invalid($"A ({m}, {k}) does not match B ({string.Join(", ", bValue.Dims)}).");
        if (bValue is ConstValue bc)
        {
            var kernel = _weights.Get(bc.Data, "matrix", () => (bc.Data.ToFloats(), [k, n]));
            Set(0, EmitInto([m, n], [a], (t, o) => t[0].Backend.Dense(t[0].Buffer, kernel.Buffer, null, o.Buffer, m, k, n, default)));
        }
        else
            Set(0, EmitInto([m, n], [a, bValue], (t, o) => t[0].Backend.Dense(t[0].Buffer, t[1].Buffer, null, o.Buffer, m, k, n, default)));
    }

    // ---------------------------------------------------------------- normalisation and activations

    /// <summary>Inference BatchNormalization that was not folded into a conv: a channel affine map.</summary>
    private void BatchNormalization()
    {
        OnlyFirstOutputUsed("running statistics");
        if (OnnxAttributes.Int(_node, "training_mode", 0) != 0)
            throw Unsupported("training_mode 1; only inference is supported.", "training_mode");
        if (OnnxAttributes.Int(_node, "spatial", 1) != 1)
            throw Unsupported("spatial 0 (per-position statistics); only spatial 1 is supported.", "spatial");
        if (_graph.Opset <= 6 && OnnxAttributes.Int(_node, "is_test", 0) == 0)
            throw Unsupported("is_test 0 (training mode, opset ≤ 6); only inference is supported.", "is_test");
        var x = Runtime(Input(0));
        if (x.Dims.Length < 2) throw Invalid($"input must have a channel axis; got ({string.Join(", ", x.Dims)}).");
        int c = x.Dims[1];
        var parameters = new[] { "scale", "bias", "mean", "variance" }.Select((role, i) => Constant(i + 1, role)).ToArray();
        if (parameters.Any(p => p.Length != c))
            throw Invalid($"scale, bias, mean and variance must have {c} values each; got {string.Join(", ", parameters.Select(p => p.Length))}.");
        double epsilon = OnnxAttributes.Float(_node, "epsilon", 1e-5f);
        float[] scale, shift;
        try
        {
            (scale, shift) = Ops.BatchNormToAffine(parameters[0].ToFloats(), parameters[1].ToFloats(), parameters[2].ToFloats(), parameters[3].ToFloats(), epsilon);
        }
        catch (ArgumentException e)
        {
            // A variance that is negative, -Inf or NaN in the file: named with the file and node, not as a bare op error.
            throw Invalid(e.Message.Replace("BatchNormalization: ", "", StringComparison.Ordinal));
        }
        var scaleTensor = _weights.Get(parameters[0], $"bn-scale {_node.Index}", () => (scale, [c]));
        var shiftTensor = _weights.Get(parameters[1], $"bn-shift {_node.Index}", () => (shift, [c]));
        Set(0, Affine(x, scaleTensor, shiftTensor));
    }

    private void Activate(KernelActivation activation)
    {
        var x = Runtime(Input(0));
        if (TryFuseActivation(activation)) return;
        Set(0, EmitInto(x.Dims, [x], (t, y) => t[0].Backend.Activate(t[0].Buffer, y.Buffer, y.Length, activation)));
    }

    /// <summary>y = x·scale + shift per channel (the storage's last axis).</summary>
    private RunValue Affine(OnnxValue x, Tensor scale, Tensor shift)
    {
        int channels = ChannelCount(x);
        return EmitInto(x.Dims, [x], (t, y) => t[0].Backend.ChannelAffine(t[0].Buffer, scale.Buffer, shift.Buffer, y.Buffer, y.Length / channels, channels));
    }

    private RunValue AddValues(OnnxValue a, OnnxValue b) =>
        EmitInto(a.Dims, [a, b], (t, y) => t[0].Backend.Add(t[0].Buffer, t[1].Buffer, y.Buffer, y.Length));

    /// <summary>
    /// Opset &lt; 13: the input is coerced to 2-D (prod of dims before axis, prod from axis on) and
    /// softmax runs over the second part. Opset ≥ 13: over the one axis. The channel axis of
    /// channels-last data is the storage's last axis, so both cases of it run in place.
    /// </summary>
    private void Softmax(bool log)
    {
        var x = Runtime(Input(0));
        int rank = x.Dims.Length;
        int axis = Axis(OnnxAttributes.Int(_node, "axis", _graph.Opset < 13 ? 1 : -1), rank, "axis");
        bool channelsAxisOnly = rank >= 3 && axis == 1 && (_graph.Opset >= 13 || x.Dims[2..].All(d => d == 1));
        if (rank < 3 ? axis == rank - 1 : channelsAxisOnly)
        {
            Set(0, SoftmaxInto(x, log));
            return;
        }
        if (_graph.Opset >= 13 && axis != rank - 1)
            throw Unsupported($"axis {axis} of a rank-{rank} input; opset 13 softmax is supported over the last axis or the channel axis.", "axis");
        // Softmax over the trailing dims from axis on, in plain ONNX order.
        int rows = x.Dims[..axis].Aggregate(1, (p, d) => p * d), cols = x.Dims[axis..].Aggregate(1, (p, d) => p * d);
        var flat = Reorder(x, Enumerable.Range(0, rank).ToArray(), [rows, cols]);
        var y = SoftmaxInto(flat, log);
        Set(0, Reorder(y, [0, 1], x.Dims));
    }

    /// <summary>Softmax over the storage's last axis.</summary>
    private RunValue SoftmaxInto(RunValue x, bool log)
    {
        int[] tensorDims = TensorDims(x.Dims);
        int cols = tensorDims[^1];
        return EmitInto(x.Dims, [x], (t, y) => t[0].Backend.Softmax(t[0].Buffer, y.Buffer, (int)(y.Length / cols), cols, log));
    }

    private void Lrn()
    {
        var x = Runtime(Input(0));
        if (x.Dims.Length < 2) throw Invalid($"input must have a channel axis; got ({string.Join(", ", x.Dims)}).");
        if (!OnnxAttributes.Has(_node, "size")) throw Invalid("attribute size is required.");
        int size = checked((int)OnnxAttributes.Int(_node, "size", 1));
        float alpha = OnnxAttributes.Float(_node, "alpha", 1e-4f), beta = OnnxAttributes.Float(_node, "beta", 0.75f), bias = OnnxAttributes.Float(_node, "bias", 1f);
        var g = LrnGeometry.Create($"LRN ({_node.Name})", new TensorShape(TensorDims(x.Dims)), size, alpha, beta, bias);
        Set(0, EmitInto(x.Dims, [x], (t, y) => t[0].Backend.Lrn(t[0].Buffer, y.Buffer, g)));
    }

    private void Dropout()
    {
        OnlyFirstOutputUsed("mask");
        if (Optional(2) is { } training)
        {
            var mode = training as ConstValue ?? throw Unsupported("training_mode is computed at run time.", _node.Inputs[2]);
            if (mode.Data.ToFloats().Any(v => v != 0)) throw Unsupported("training_mode true; only inference (identity) is supported.", _node.Inputs[2]);
        }
        Set(0, Input(0));
    }

    // ---------------------------------------------------------------- elementwise

    /// <summary>
    /// Add/Sub/Mul/Div. Constants fold. Two run-time values of one shape add (Sub negates first).
    /// A constant that is one value per channel (or one value) becomes a channel affine map. Other
    /// broadcasts are refused.
    /// </summary>
    private void Binary(string op)
    {
        var left = Input(0);
        var right = Input(1);
        if (left is ConstValue lc && right is ConstValue rc)
        {
            Set(0, new ConstValue(OnnxConstantFolding.Binary(op, lc.Data, rc.Data, Invalid)));
            return;
        }
        if (left is RunValue && right is RunValue)
        {
            if (!left.Dims.SequenceEqual(right.Dims))
                throw Unsupported($"{op} of run-time tensors of different shapes ({string.Join(", ", left.Dims)}) and ({string.Join(", ", right.Dims)}); broadcasting is supported for constants only.");
            if (op == "Add")
            {
                if (TryFuseResidual(0, (RunValue)right) || TryFuseResidual(1, (RunValue)left)) return;
                Set(0, AddValues(left, right));
                return;
            }
            if (op == "Sub")
            {
                var (minusOne, zero) = AffineTensors(Enumerable.Repeat(-1f, ChannelCount(right)).ToArray(), new float[ChannelCount(right)], "negate");
                var negated = Affine(right, minusOne, zero);
                Set(0, AddValues(left, negated));
                return;
            }
            throw Unsupported($"{op} of two run-time tensors; only Add and Sub are supported between run-time tensors.");
        }

        bool constantOnRight = right is ConstValue;
        var x = (RunValue)(constantOnRight ? left : right);
        var k = ((ConstValue)(constantOnRight ? right : left)).Data;
        int channels = ChannelCount(x);
        if (PerChannel(k, x.Dims) is { } perChannel)
        {
            float[] scale = new float[channels], shift = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                float v = perChannel[perChannel.Length == 1 ? 0 : c];
                (scale[c], shift[c]) = op switch
                {
                    "Add" => (1f, v),
                    "Sub" => constantOnRight ? (1f, -v) : (-1f, v),
                    "Mul" => (v, 0f),
                    _ => constantOnRight ? (1f / v, 0f) : throw Unsupported("a constant divided by a run-time tensor."),
                };
            }
            var (scaleTensor, shiftTensor) = AffineTensors(scale, shift, $"{op} {_node.Index}");
            Set(0, Affine(x, scaleTensor, shiftTensor));
            return;
        }
        if (k.Dims.SequenceEqual(x.Dims) && op is "Add" or "Sub")
        {
            float[] values = k.ToFloats();
            if (op == "Sub" && constantOnRight) values = values.Select(v => -v).ToArray();
            var addend = Runtime(new ConstValue(OnnxTensorData.FromFloats(k.Name, k.Dims, values)));
            if (op == "Sub" && !constantOnRight)
            {
                var (minusOne, zero) = AffineTensors(Enumerable.Repeat(-1f, channels).ToArray(), new float[channels], "negate");
                var negated = Affine(x, minusOne, zero);
                Set(0, AddValues(negated, addend));
            }
            else
                Set(0, AddValues(x, addend));
            return;
        }
        throw Unsupported($"{op} of a run-time ({string.Join(", ", x.Dims)}) and a constant ({string.Join(", ", k.Dims)}); constants must be one value, one per channel, or the same shape.");
    }

    /// <summary>Sum of one or more same-shape inputs, as a chain of Adds.</summary>
    private void Sum()
    {
        var inputs = Enumerable.Range(0, _node.Inputs.Length).Select(Input).ToArray();
        if (inputs.Length == 0) throw Invalid("Sum needs at least one input.");
        var total = inputs[0];
        for (int i = 1; i < inputs.Length; i++)
        {
            var next = inputs[i];
            if (total is ConstValue tc && next is ConstValue nc) { total = new ConstValue(OnnxConstantFolding.Binary("Add", tc.Data, nc.Data, Invalid)); continue; }
            if (total is ConstValue || next is ConstValue)
            {
                var x = (RunValue)(total is RunValue ? total : next);
                var k = ((ConstValue)(total is ConstValue ? total : next)).Data;
                if (PerChannel(k, x.Dims) is { } perChannel)
                {
                    int channels = ChannelCount(x);
                    var (scale, shift) = AffineTensors(Enumerable.Repeat(1f, channels).ToArray(),
                        Enumerable.Range(0, channels).Select(c => perChannel[perChannel.Length == 1 ? 0 : c]).ToArray(), $"sum {_node.Index}:{i}");
                    total = Affine(x, scale, shift);
                    continue;
                }
            }
            if (!total.Dims.SequenceEqual(next.Dims))
                throw Unsupported($"Sum of shapes ({string.Join(", ", total.Dims)}) and ({string.Join(", ", next.Dims)}); only same-shape inputs and per-channel constants are supported.");
            total = AddValues(total, next);
        }
        Set(0, total);
    }

    /// <summary>Channels of a run-time value: logical axis 1 (the storage's last axis), or the last axis of a rank-1 value.</summary>
    private static int ChannelCount(OnnxValue x) => x.Dims.Length >= 2 ? x.Dims[1] : x.Dims.Length == 1 ? x.Dims[0] : 1;

    /// <summary>
    /// The constant's values when, broadcast onto <paramref name="dims"/> (numpy rules), it varies only
    /// along the channel axis (logical axis 1; for rank ≤ 1 the only axis): one value or one per channel.
    /// </summary>
    private static float[]? PerChannel(OnnxTensorData k, int[] dims)
    {
        if (k.Length == 1) return k.ToFloats();
        if (k.Dims.Length > dims.Length) return null;
        int channelAxis = dims.Length >= 2 ? 1 : 0;
        int offset = dims.Length - k.Dims.Length;
        for (int i = 0; i < k.Dims.Length; i++)
        {
            int axis = i + offset;
            if (k.Dims[i] == 1) continue;
            if (axis != channelAxis || k.Dims[i] != dims[axis]) return null;
        }
        // Rank ≤ 2: the channel axis is the storage's last axis too, so ChannelAffine applies.
        return k.ToFloats();
    }

    private (Tensor Scale, Tensor Shift) AffineTensors(float[] scale, float[] shift, string key)
    {
        var keyTensor = OnnxTensorData.FromFloats(key, [scale.Length], scale);
        var s = _weights.Get(keyTensor, "affine-scale", () => (scale, [scale.Length]));
        var t = _weights.Get(keyTensor, "affine-shift", () => (shift, [shift.Length]));
        return (s, t);
    }

    // ---------------------------------------------------------------- shape ops

    private void Concat()
    {
        var inputs = Enumerable.Range(0, _node.Inputs.Length).Select(Input).ToArray();
        int rank = inputs[0].Dims.Length;
        if (!OnnxAttributes.Has(_node, "axis") && _graph.Opset >= 4) throw Invalid("attribute axis is required.");
        int axis = Axis(OnnxAttributes.Int(_node, "axis", 1), rank, "axis");
        if (inputs.All(v => v is ConstValue))
        {
            Set(0, new ConstValue(OnnxConstantFolding.Concat(inputs.Select(v => ((ConstValue)v).Data).ToArray(), axis, Invalid)));
            return;
        }
        foreach (var v in inputs)
            if (v.Dims.Length != rank || Enumerable.Range(0, rank).Any(i => i != axis && v.Dims[i] != inputs[0].Dims[i]))
                throw Invalid($"inputs ({string.Join("), (", inputs.Select(i => string.Join(", ", i.Dims)))}) differ outside axis {axis}.");
        bool lastStorageAxis = rank >= 3 ? axis == 1 : axis == rank - 1;
        if (!lastStorageAxis)
            throw Unsupported($"Concat along axis {axis} of rank-{rank} tensors; only the channel axis (1) is supported.", "axis");
        int[] outDims = (int[])inputs[0].Dims.Clone();
        outDims[axis] = inputs.Sum(v => v.Dims[axis]);
        if (TryConcatInPlace(inputs, outDims)) return;
        int[] channels = inputs.Select(v => v.Dims.Length >= 3 ? v.Dims[1] : v.Dims[^1]).ToArray();
        Set(0, EmitInto(outDims, inputs, (t, y) => t[0].Backend.Concat(t.Select(i => i.Buffer).ToArray(), channels, y.Buffer, y.Length / channels.Sum())));
    }

    private void Flatten()
    {
        var x = Input(0);
        int rank = x.Dims.Length;
        long rawAxis = OnnxAttributes.Int(_node, "axis", 1);
        int axis = rawAxis == rank ? rank : Axis(rawAxis, rank, "axis");
        int[] outDims = [x.Dims[..axis].Aggregate(1, (p, d) => p * d), x.Dims[axis..].Aggregate(1, (p, d) => p * d)];
        Set(0, ReshapeValue(x, outDims));
    }

    private void Reshape()
    {
        var x = Input(0);
        long[] shape;
        if (_graph.Opset < 5)
            shape = OnnxAttributes.Ints(_node, "shape") ?? throw Invalid("attribute shape is required (opset < 5).");
        else
            shape = Constant(1, "shape").ToInts(Context);
        bool allowZero = OnnxAttributes.Int(_node, "allowzero", 0) != 0;
        int[] outDims = OnnxConstantFolding.ResolveReshape(x.Dims, shape, allowZero, Invalid);
        Set(0, ReshapeValue(x, outDims));
    }

    private void SqueezeOrUnsqueeze(bool squeeze)
    {
        var x = Input(0);
        long[]? axes = _graph.Opset >= 13 ? (Optional(1) is null ? null : Constant(1, "axes").ToInts(Context)) : OnnxAttributes.Ints(_node, "axes");
        int[] outDims;
        if (squeeze)
        {
            var drop = axes is null ? Enumerable.Range(0, x.Dims.Length).Where(i => x.Dims[i] == 1).ToHashSet()
                : axes.Select(a => Axis(a, x.Dims.Length, "axes")).ToHashSet();
            if (drop.Any(i => x.Dims[i] != 1)) throw Invalid($"cannot squeeze a non-unit axis of ({string.Join(", ", x.Dims)}).");
            outDims = Enumerable.Range(0, x.Dims.Length).Where(i => !drop.Contains(i)).Select(i => x.Dims[i]).ToArray();
        }
        else
        {
            if (axes is null) throw Invalid("axes are required.");
            int outRank = x.Dims.Length + axes.Length;
            var insert = axes.Select(a => Axis(a, outRank, "axes")).ToHashSet();
            if (insert.Count != axes.Length) throw Invalid("axes repeat an axis.");
            var rest = new Queue<int>(x.Dims);
            outDims = Enumerable.Range(0, outRank).Select(i => insert.Contains(i) ? 1 : rest.Dequeue()).ToArray();
        }
        Set(0, ReshapeValue(x, outDims));
    }

    private OnnxValue ReshapeValue(OnnxValue x, int[] outDims) => x switch
    {
        ConstValue c => new ConstValue(c.Data.IsFloat ? OnnxTensorData.FromFloats(c.Data.Name, outDims, c.Data.Floats!) : OnnxTensorData.FromInts(c.Data.Name, outDims, c.Data.Ints!)),
        RunValue r => Reorder(r, Enumerable.Range(0, r.Dims.Length).ToArray(), outDims),
        _ => throw new InvalidOperationException(),
    };

    private void Transpose()
    {
        var x = Input(0);
        int rank = x.Dims.Length;
        int[] perm = OnnxAttributes.Ints(_node, "perm")?.Select(p => checked((int)p)).ToArray() ?? Enumerable.Range(0, rank).Reverse().ToArray();
        if (perm.Length != rank || perm.Order().Where((p, i) => p != i).Any())
            throw Invalid($"perm ({string.Join(", ", perm)}) is not a permutation of {rank} axes.");
        int[] outDims = perm.Select(p => x.Dims[p]).ToArray();
        if (x is ConstValue c)
        {
            var data = c.Data;
            Set(0, new ConstValue(data.IsFloat
                ? OnnxTensorData.FromFloats(data.Name, outDims, OnnxConstantFolding.Transpose(data.Floats!, data.Dims, perm))
                : OnnxTensorData.FromInts(data.Name, outDims, OnnxConstantFolding.Transpose(data.Ints!, data.Dims, perm))));
            return;
        }
        Set(0, Reorder((RunValue)x, perm, outDims));
    }

    /// <summary>Pad: constant (zero), reflect or edge, on the spatial axes only.</summary>
    private void Pad()
    {
        var x = SpatialInput("Pad");
        int rank = x.Dims.Length;
        string mode = OnnxAttributes.String(_node, "mode", "constant");
        long[] pads;
        float value;
        if (_graph.Opset < 11)
        {
            pads = OnnxAttributes.Ints(_node, "pads") ?? OnnxAttributes.Ints(_node, "paddings") ?? throw Invalid("attribute pads is required.");
            value = OnnxAttributes.Float(_node, "value", 0f);
        }
        else
        {
            pads = Constant(1, "pads").ToInts(Context);
            value = Optional(2) is null ? 0f : Constant(2, "constant_value").ToFloats().FirstOrDefault();
            if (Optional(3) is not null)
            {
                long[] axes = Constant(3, "axes").ToInts(Context);
                var full = new long[2 * rank];
                for (int i = 0; i < axes.Length; i++)
                {
                    int a = Axis(axes[i], rank, "axes");
                    full[a] = pads[i];
                    full[a + rank] = pads[i + axes.Length];
                }
                pads = full;
            }
        }
        if (pads.Length != 2 * rank) throw Invalid($"pads has {pads.Length} entries for rank {rank} (needs {2 * rank}).");
        if (pads.Any(p => p < 0)) throw Unsupported($"negative pads ({string.Join(", ", pads)}) (cropping).", "pads");
        if (pads[0] != 0 || pads[1] != 0 || pads[rank] != 0 || pads[rank + 1] != 0)
            throw Unsupported($"padding the batch or channel axis (pads {string.Join(", ", pads)}); only spatial axes can be padded.", "pads");
        var padMode = mode switch
        {
            "constant" => value == 0f ? PadMode.Zero : throw Unsupported($"constant padding with value {value}; only 0 is supported.", "value"),
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Edge,
            _ => throw Unsupported($"mode {QuotedName.Of(mode)}; constant, reflect and edge are supported.", "mode"),
        };
        bool oneD = rank == 3;
        int top = oneD ? 0 : (int)pads[2], bottom = oneD ? 0 : (int)pads[2 + rank];
        int left = (int)pads[rank - 1], right = (int)pads[2 * rank - 1];
        var g = Pad2DGeometry.Create($"Pad ({_node.Name})", new TensorShape(TensorDims(x.Dims)), top, bottom, left, right, padMode);
        int[] outDims = oneD ? [x.Dims[0], x.Dims[1], g.OW] : [x.Dims[0], x.Dims[1], g.OH, g.OW];
        Set(0, EmitInto(outDims, [x], (t, y) => t[0].Backend.Pad2D(t[0].Buffer, y.Buffer, g, padMode)));
    }

    // ---------------------------------------------------------------- constant folding

    private void ConstantOfShape()
    {
        long[] shape = Constant(0, "shape").ToInts(Context);
        var valueProto = OnnxAttributes.Tensor(_node, "value");
        var value = valueProto is null ? OnnxTensorData.FromFloats("", [1], [0f]) : OnnxTensorData.FromProto(valueProto, $"{Context}: {_node.Label}");
        if (value.Length != 1) throw Invalid("attribute value must hold one element.");
        int[] dims = shape.Select(d => d is >= 0 and <= int.MaxValue ? (int)d : throw Invalid($"shape ({string.Join(", ", shape)}) has an invalid dimension.")).ToArray();
        long count = dims.Aggregate(1L, (p, d) => p * d);
        if (count > 1 << 26) throw Unsupported($"a constant of {count} elements; folded constants are limited to 2^26.");
        Set(0, new ConstValue(value.IsFloat
            ? OnnxTensorData.FromFloats(_node.Outputs[0], dims, Enumerable.Repeat(value.Floats![0], (int)count).ToArray())
            : OnnxTensorData.FromInts(_node.Outputs[0], dims, Enumerable.Repeat(value.Ints![0], (int)count).ToArray())));
    }

    private void Shape()
    {
        var x = Input(0);
        int rank = x.Dims.Length;
        long start = OnnxAttributes.Int(_node, "start", 0), end = OnnxAttributes.Int(_node, "end", rank);
        int s = (int)Math.Clamp(start < 0 ? start + rank : start, 0, rank), e = (int)Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        long[] dims = x.Dims[s..Math.Max(s, e)].Select(d => (long)d).ToArray();
        Set(0, new ConstValue(OnnxTensorData.FromInts(_node.Outputs[0], [dims.Length], dims)));
    }

    private void Gather()
    {
        if (Input(0) is not ConstValue data)
            throw Unsupported("Gather from a run-time tensor; only constant data (e.g. a Shape) is folded.", _node.Inputs[0]);
        var indices = Constant(1, "indices");
        int axis = Axis(OnnxAttributes.Int(_node, "axis", 0), data.Dims.Length, "axis");
        Set(0, new ConstValue(OnnxConstantFolding.Gather(data.Data, indices.ToInts(Context), indices.Dims, axis, Invalid)));
    }

    private void Cast()
    {
        var x = Input(0);
        long to = OnnxAttributes.Int(_node, "to", 1);
        if (x is ConstValue c)
        {
            Set(0, new ConstValue(to switch
            {
                1 or 10 or 11 => OnnxTensorData.FromFloats(c.Data.Name, c.Dims, c.Data.ToFloats()),
                6 or 7 => OnnxTensorData.FromInts(c.Data.Name, c.Dims, c.Data.IsFloat ? c.Data.Floats!.Select(v => (long)v).ToArray() : c.Data.Ints!),
                _ => throw Unsupported($"Cast of a constant to element type {to}.", "to"),
            }));
            return;
        }
        if (to != 1) throw Unsupported($"Cast of a run-time tensor to element type {to}; the engine computes in float32.", "to");
        Set(0, x);
    }
}
