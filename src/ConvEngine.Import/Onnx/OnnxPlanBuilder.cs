using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>A value of the graph while a plan is built: ONNX logical dims (NCHW order) and where it lives.</summary>
internal abstract record OnnxValue(int[] Dims);

/// <summary>Known at import: an initializer, a Constant, or something folded from them (e.g. a Shape).</summary>
internal sealed record ConstValue(OnnxTensorData Data) : OnnxValue(Data.Dims);

/// <summary>
/// Computed when the plan runs, held in a slot. Rank ≥ 3 values are channels-last in the slot:
/// logical (N,C,H,W) is stored (N,H,W,C) and (N,C,L) is stored (N,1,L,C); rank ≤ 2 are stored as is.
/// </summary>
internal sealed record RunValue(int[] Dims, int Slot) : OnnxValue(Dims);

/// <summary>
/// Turns the graph into an <see cref="OnnxPlan"/> for given input shapes: infers every shape,
/// folds constant subgraphs (Shape → Gather → Concat → Reshape and the like), converts NCHW/OIHW to
/// the engine's NHWC/HWIO, and emits one step per kernel. Anything it cannot run exactly is an
/// <see cref="OnnxUnsupportedException"/> naming the node.
/// </summary>
internal sealed partial class OnnxPlanBuilder
{
    private readonly OnnxGraph _graph;
    private readonly IBackend _backend;
    private readonly OnnxWeightCache _weights;
    private readonly List<OnnxStep> _steps = [];
    private readonly List<int> _owner = [];
    private readonly Dictionary<int, Tensor> _constantSlots = [];
    private readonly List<IDisposable> _owned = [];
    private readonly Dictionary<string, OnnxValue> _values = [];
    /// <summary>The node being converted; null while the graph inputs are set up.</summary>
    private OnnxNode _node = null!;

    private OnnxPlanBuilder(OnnxGraph graph, IBackend backend, OnnxWeightCache weights)
    {
        _graph = graph;
        _backend = backend;
        _weights = weights;
    }

    /// <summary>
    /// Builds the plan. <paramref name="inputDims"/> gives each fed input's ONNX dims. With
    /// <paramref name="channelsLast"/> the fed tensors and the outputs are in the engine's layout
    /// (N,H,W,C) instead of ONNX's (N,C,H,W).
    /// </summary>
    public static OnnxPlan Build(OnnxGraph graph, IBackend backend, OnnxWeightCache weights, IReadOnlyDictionary<string, int[]> inputDims, bool channelsLast)
    {
        var builder = new OnnxPlanBuilder(graph, backend, weights);
        try
        {
            return builder.BuildPlan(inputDims, channelsLast);
        }
        catch
        {
            foreach (var t in builder._constantSlots.Values) t.Dispose();
            foreach (var d in builder._owned) d.Dispose();
            throw;
        }
    }

    private string Context => _graph.Context;

    private OnnxPlan BuildPlan(IReadOnlyDictionary<string, int[]> inputDims, bool channelsLast)
    {
        var inputSlots = new Dictionary<string, int>();
        foreach (var input in _graph.Inputs)
        {
            int[] dims = inputDims[input.Name];
            if (dims.Length is 0 or > 4)
                throw new OnnxUnsupportedException($"{Context}: graph input {QuotedName.Of(input.Name)} has rank {dims.Length} ({string.Join(", ", dims)}); the engine holds tensors of rank 1 to 4.");
            int fed = NewSlot();
            inputSlots[input.Name] = fed;
            _values[input.Name] = dims.Length < 3 ? new RunValue(dims, fed)
                : channelsLast ? View(new RunValue(dims, fed), dims, "input " + input.Name)
                : FromPlain(fed, dims, $"input {QuotedName.Of(input.Name)} NCHW → NHWC");
        }

        foreach (var node in _graph.Nodes)
        {
            _node = node;
            try
            {
                Convert(node);
            }
            catch (ShapeException e)
            {
                throw new OnnxFormatException($"{Context}: {node.Label}: {e.Message}", e);
            }
        }

        var outputSlots = new List<(string, int)>();
        var outputDims = new Dictionary<string, int[]>();
        foreach (var name in _graph.Outputs)
        {
            var value = _values.GetValueOrDefault(name) ?? throw new OnnxFormatException($"{Context}: graph output {QuotedName.Of(name)} is not produced by any node.");
            var run = Runtime(value);
            int slot = run.Dims.Length < 3 ? run.Slot
                : channelsLast ? Emit($"output {QuotedName.Of(name)}", [run.Slot], true, a => a[0].Reshape(CompactStorageDims(run.Dims)))
                : ToPlain(run, $"output {QuotedName.Of(name)} NHWC → NCHW");
            outputSlots.Add((name, slot));
            outputDims[name] = run.Dims;
        }

        return new OnnxPlan
        {
            Backend = _backend, Steps = [.. _steps], SlotCount = _owner.Count, InputSlots = inputSlots,
            ConstantSlots = new Dictionary<int, Tensor>(_constantSlots), OutputSlots = outputSlots, Owner = [.. _owner], OutputOnnxDims = outputDims,
            Owned = [.. _owned],
        };
    }

    // ---------------------------------------------------------------- values and slots

    private int NewSlot(int owner = -1)
    {
        int slot = _owner.Count;
        _owner.Add(owner < 0 ? slot : owner);
        return slot;
    }

    /// <summary>Appends a step that returns its output; a view step's output shares its first input's buffer.</summary>
    private int Emit(string label, int[] inputs, bool isView, Func<Tensor[], Tensor> run)
    {
        int output = NewSlot(isView ? _owner[inputs[0]] : -1);
        _steps.Add(new OnnxStep
        {
            Label = label, Inputs = inputs, Output = output, Kind = isView ? OnnxStepKind.View : OnnxStepKind.Allocating, Produce = run, Target = output,
        });
        return output;
    }

    private RunValue Emit(int[] dims, OnnxValue[] inputs, Func<Tensor[], Tensor> run, bool isView = false) =>
        new(dims, Emit(_node.Label, inputs.Select(v => Runtime(v).Slot).ToArray(), isView, run));

    /// <summary>Appends a step that writes a planned output tensor of engine dims <paramref name="tensorDims"/>.</summary>
    private int EmitInto(string label, int[] inputs, int[] tensorDims, Action<Tensor[], Tensor> into)
    {
        int output = NewSlot();
        _steps.Add(new OnnxStep { Label = label, Inputs = inputs, Output = output, Kind = OnnxStepKind.Into, Into = into, Target = output, OutputDims = tensorDims });
        return output;
    }

    /// <summary>The current node's step writing a planned output of ONNX dims <paramref name="dims"/>.</summary>
    private RunValue EmitInto(int[] dims, OnnxValue[] inputs, Action<Tensor[], Tensor> into) =>
        new(dims, EmitInto(_node.Label, inputs.Select(v => Runtime(v).Slot).ToArray(), TensorDims(dims), into));

    /// <summary>The value an input names, or null for an absent optional input.</summary>
    private OnnxValue? Optional(int index)
    {
        string? name = _node.Input(index);
        if (name is null) return null;
        if (_values.TryGetValue(name, out var value)) return value;
        if (_graph.Initializers.TryGetValue(name, out var data)) return _values[name] = new ConstValue(data);
        throw new OnnxFormatException($"{Context}: {_node.Label} reads {QuotedName.Of(name)}, which no earlier node, initializer or graph input produces (nodes out of order, or a truncated file?).");
    }

    private OnnxValue Input(int index) => Optional(index)
        ?? throw new OnnxFormatException($"{Context}: {_node.Label} needs input {index}, which is missing.");

    /// <summary>A constant input, or unsupported: the importer runs only graphs whose weights and shapes are known at import.</summary>
    private OnnxTensorData Constant(int index, string role) => Input(index) is ConstValue c ? c.Data
        : throw Unsupported($"its {role} (input {index}, {QuotedName.Of(_node.Inputs[index])}) is computed at run time; only a constant (initializer or folded) {role} is supported.", _node.Inputs[index]);

    /// <summary>A run-time value; a constant is uploaded (channels-last when rank ≥ 3) into a slot that lives as long as the plan.</summary>
    private RunValue Runtime(OnnxValue value)
    {
        if (value is RunValue run) return run;
        var data = ((ConstValue)value).Data;
        int[] dims = data.Dims;
        float[] values = data.ToFloats();
        if (dims.Length >= 3) values = OnnxConstantFolding.Transpose(values, dims, StorageOrder(dims.Length));
        var tensor = Tensor.FromArray(_backend, values, TensorDims(dims));
        int slot = NewSlot();
        _constantSlots[slot] = tensor;
        return new RunValue(dims, slot);
    }

    private void Set(int output, OnnxValue value)
    {
        if (output < _node.Outputs.Length && _node.Outputs[output].Length > 0) _values[_node.Outputs[output]] = value;
    }

    private OnnxUnsupportedException Unsupported(string why, string? attribute = null) => _node is null
        ? new($"{Context}: {why}")
        : new($"{Context}: {_node.Label} is not supported: {why}", _node.Name, _node.Index, _node.OpType, attribute);

    private OnnxFormatException Invalid(string why) => new($"{Context}: {(_node is null ? "" : _node.Label + ": ")}{why}");

    // ---------------------------------------------------------------- layout

    /// <summary>Logical axis at each storage position: (N,C,S1..Sk) is stored (N,S1..Sk,C) when rank ≥ 3.</summary>
    internal static int[] StorageOrder(int rank) => rank < 3
        ? Enumerable.Range(0, rank).ToArray()
        : [0, .. Enumerable.Range(2, rank - 2), 1];

    /// <summary>The storage dims in storage order (rank kept): (N,C,H,W) → (N,H,W,C), (N,C,L) → (N,L,C).</summary>
    internal static int[] CompactStorageDims(int[] dims) => dims.Length == 0 ? [1] : StorageOrder(dims.Length).Select(a => dims[a]).ToArray();

    /// <summary>The engine tensor's shape: as compact storage, but (N,L,C) becomes (N,1,L,C) so 1-D ops run as 2-D ones.</summary>
    private int[] TensorDims(int[] dims)
    {
        if (dims.Length > 6)
            throw Unsupported($"a tensor of rank {dims.Length} ({string.Join(", ", dims)}); the engine holds ranks 1 to 6.");
        if (dims.Any(d => d <= 0))
            throw Unsupported($"an empty tensor ({string.Join(", ", dims)}) at run time.");
        return dims.Length == 3 ? [dims[0], 1, dims[2], dims[1]] : CompactStorageDims(dims);
    }

    /// <summary>The same data seen with other dims (free): the value's storage order must already match.</summary>
    private RunValue View(RunValue v, int[] dims, string label)
    {
        int[] tensorDims = TensorDims(dims);
        return new RunValue(dims, Emit(label, [v.Slot], true, a => a[0].Reshape(tensorDims)));
    }

    /// <summary>
    /// Permutes a slot whose data has <paramref name="compactDims"/> by <paramref name="perm"/>
    /// (output axis i = input axis perm[i]) into a tensor of <paramref name="tensorDims"/>. When only
    /// unit axes move the data order is unchanged and it is a free view.
    /// </summary>
    private int Permute(int slot, int[] compactDims, int[] perm, int[] tensorDims, string label)
    {
        var moving = perm.Where(p => compactDims[p] > 1).ToArray();
        if (moving.Zip(moving.Skip(1)).All(pair => pair.First < pair.Second))
            return Emit(label, [slot], true, a => a[0].Reshape(tensorDims));
        TransposeGeometry g;
        try
        {
            g = TransposeGeometry.Create(label, compactDims, perm);
        }
        catch (ShapeException e)
        {
            throw Unsupported(e.Message);   // a permutation beyond the kernels (more than four moving blocks of axes)
        }
        return EmitInto(label, [slot], tensorDims, (a, output) => a[0].Backend.Transpose(a[0].Buffer, output.Buffer, g));
    }

    /// <summary>A slot holding data in plain ONNX order (any rank) as a value in storage layout.</summary>
    private RunValue FromPlain(int slot, int[] dims, string label) => dims.Length < 3
        ? new RunValue(dims, Emit(label, [slot], true, a => a[0].Reshape(TensorDims(dims))))
        : new RunValue(dims, Permute(slot, dims, StorageOrder(dims.Length), TensorDims(dims), label));

    /// <summary>The value's data in plain ONNX order, as a tensor of its ONNX dims.</summary>
    private int ToPlain(RunValue v, string label)
    {
        if (v.Dims.Length < 3) return v.Slot;
        if (v.Dims.Length > 6) throw Unsupported($"a tensor of rank {v.Dims.Length}; the engine holds ranks 1 to 6.");
        int[] inverse = Inverse(StorageOrder(v.Dims.Length));
        return Permute(v.Slot, CompactStorageDims(v.Dims), inverse, v.Dims, label);
    }

    /// <summary>
    /// Logical transpose by <paramref name="perm"/> then reshape to <paramref name="outDims"/>, as
    /// ONNX's Transpose, Flatten, Reshape, Squeeze and Unsqueeze define them on NCHW data. Done
    /// on the channels-last storage with at most two permutations, often none.
    /// </summary>
    private RunValue Reorder(RunValue v, int[] perm, int[] outDims)
    {
        int[] permuted = perm.Select(p => v.Dims[p]).ToArray();
        int[] inverseIn = Inverse(StorageOrder(v.Dims.Length));
        int[] orderOut = StorageOrder(outDims.Length);
        if (permuted.SequenceEqual(outDims))
        {
            // Storage axis j of the output is logical axis orderOut[j] of the permuted value, i.e. input storage axis inverseIn[perm[orderOut[j]]].
            int[] direct = orderOut.Select(j => inverseIn[perm[j]]).ToArray();
            return new RunValue(outDims, Permute(v.Slot, CompactStorageDims(v.Dims), direct, TensorDims(outDims), _node.Label));
        }
        if (permuted.Length > 6 || outDims.Length > 6)
            throw Unsupported($"reshaping ({string.Join(", ", v.Dims)}) to ({string.Join(", ", outDims)}) needs a tensor of rank above 6.");
        int plain = Permute(v.Slot, CompactStorageDims(v.Dims), perm.Select(p => inverseIn[p]).ToArray(), permuted.Length == 0 ? [1] : permuted, _node.Label);
        int reshaped = Emit(_node.Label, [plain], true, a => a[0].Reshape(outDims.Length == 0 ? [1] : outDims));
        return FromPlain(reshaped, outDims, _node.Label);
    }

    internal static int[] Inverse(int[] perm)
    {
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return inverse;
    }

    /// <summary>A (possibly negative) axis of a rank-<paramref name="rank"/> tensor, checked.</summary>
    private int Axis(long axis, int rank, string attribute)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Invalid($"{attribute} {axis} is out of range for rank {rank}.");
        return (int)a;
    }
}

/// <summary>
/// Weights converted to the engine's layout and uploaded once per model, shared by every plan
/// (one per input shape). Keyed by the host tensor and the conversion applied to it.
/// </summary>
internal sealed class OnnxWeightCache(IBackend backend) : IDisposable
{
    private readonly Dictionary<(OnnxTensorData, string), Tensor> _tensors = [];

    public Tensor Get(OnnxTensorData data, string conversion, Func<(float[] Values, int[] Dims)> convert)
    {
        if (_tensors.TryGetValue((data, conversion), out var tensor)) return tensor;
        var (values, dims) = convert();
        tensor = Tensor.FromArray(backend, values, dims);
        _tensors[(data, conversion)] = tensor;
        return tensor;
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
