using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// An imported ONNX model, executable on any backend through <see cref="Ops"/>. Inputs and outputs
/// are named as in the file. <see cref="Run(Tensor)"/> takes and returns ONNX's layout (NCHW, so
/// results compare directly with ONNX Runtime's); <see cref="RunChannelsLast(Tensor)"/> takes and
/// returns the engine's (NHWC). Inside, activations stay channels-last. One plan is built per
/// distinct input shape and kept; weights are shared. Not thread-safe.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly OnnxGraph _graph;
    private readonly OnnxWeightCache _weights;
    private readonly Dictionary<string, OnnxPlan> _plans = [];

    private OnnxModel(OnnxGraph graph, IBackend backend, IReadOnlyList<string> opTypes, long irVersion, string producer)
    {
        _graph = graph;
        Backend = backend;
        _weights = new OnnxWeightCache(backend);
        OpTypes = opTypes;
        IrVersion = irVersion;
        Producer = producer;
    }

    internal static OnnxModel Create(ModelProto proto, string context, IBackend backend, OnnxImportOptions options)
    {
        var graph = OnnxGraph.FromProto(proto, context);
        var opTypes = graph.Nodes.Select(n => n.OpType).ToList();
        if (options.FoldBatchNorm) graph.FoldBatchNormIntoConv();
        if (options.FuseActivations) graph.FuseActivations();
        var model = new OnnxModel(graph, backend, opTypes, proto.IrVersion, $"{proto.ProducerName} {proto.ProducerVersion}".Trim());
        try
        {
            var declared = graph.Inputs.ToDictionary(i => i.Name, i => i.Dims.Select(d => d ?? 1).ToArray());
            var plan = model.PlanFor(declared, channelsLast: false);
            model.OutputDims = graph.Outputs.ToDictionary(o => o, o => plan.OutputDims(o));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>The backend the plans run on.</summary>
    public IBackend Backend { get; }
    /// <summary>The fed inputs with their declared ONNX dims (null where symbolic).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs => _graph.Inputs;
    /// <summary>Output names in graph order.</summary>
    public IReadOnlyList<string> Outputs => _graph.Outputs;
    /// <summary>Each output's ONNX dims for the declared input shapes.</summary>
    public IReadOnlyDictionary<string, int[]> OutputDims { get; private set; } = new Dictionary<string, int[]>();
    /// <summary>The op type of every node in the file, in order (before folding and fusion).</summary>
    public IReadOnlyList<string> OpTypes { get; }
    /// <summary>The file's ONNX IR version.</summary>
    public long IrVersion { get; }
    /// <summary>The default-domain opset the file imports.</summary>
    public long Opset => _graph.Opset;
    /// <summary>The tool that wrote the file, as the file names it.</summary>
    public string Producer { get; }
    /// <summary>
    /// The steps of a run for the declared input shapes, each "node i 'name' (Op)" or a boundary
    /// conversion, with " [view]" where the step only reshapes (no kernel, no copy).
    /// </summary>
    public IReadOnlyList<string> PlanSteps => _plans.Values.First().Steps.Select(s => s.IsView ? s.Label + " [view]" : s.Label).ToList();

    /// <summary>Runs a single-input, single-output model on an ONNX-layout (NCHW) tensor; returns NCHW.</summary>
    public Tensor Run(Tensor input) => Single(Run(new Dictionary<string, Tensor> { [SingleInput()] = input }));

    /// <summary>Runs on ONNX-layout tensors by input name; returns every output in ONNX layout, owned by the caller.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => RunCore(inputs, channelsLast: false);

    /// <summary>Runs a single-input, single-output model on the engine's layout: input (N,H,W,C), output channels-last too.</summary>
    public Tensor RunChannelsLast(Tensor input) => Single(RunChannelsLast(new Dictionary<string, Tensor> { [SingleInput()] = input }));

    /// <summary>Runs on engine-layout tensors ((N,H,W,C) for 4-D, (N,L,C) for 3-D); outputs in engine layout.</summary>
    public Dictionary<string, Tensor> RunChannelsLast(IReadOnlyDictionary<string, Tensor> inputs) => RunCore(inputs, channelsLast: true);

    private Dictionary<string, Tensor> RunCore(IReadOnlyDictionary<string, Tensor> inputs, bool channelsLast)
    {
        var dims = new Dictionary<string, int[]>();
        foreach (var input in _graph.Inputs)
        {
            if (!inputs.TryGetValue(input.Name, out var tensor))
                throw new ArgumentException($"{_graph.Context}: input {QuotedName.Of(input.Name)} was not given (inputs: {string.Join(", ", _graph.Inputs)}).");
            if (!ReferenceEquals(tensor.Backend, Backend))
                throw new ArgumentException($"{_graph.Context}: input {QuotedName.Of(input.Name)} lives on backend '{tensor.Backend.Name}' but the model runs on '{Backend.Name}'; copy it with Tensor.To first.");
            int[] onnxDims = tensor.Shape.ToArray();
            if (channelsLast && onnxDims.Length >= 3)
                onnxDims = [onnxDims[0], onnxDims[^1], .. onnxDims[1..^1]];
            bool fits = onnxDims.Length == input.Dims.Count && input.Dims.Select((d, i) => d is null || d == onnxDims[i]).All(ok => ok);
            if (!fits)
                throw new ArgumentException($"{_graph.Context}: input {QuotedName.Of(input.Name)} was declared {input} but got {tensor.Shape}{(channelsLast ? " (channels-last)" : "")}.");
            dims[input.Name] = onnxDims;
        }
        foreach (var name in inputs.Keys)
            if (_graph.Inputs.All(i => i.Name != name))
                throw new ArgumentException($"{_graph.Context}: the model has no input {QuotedName.Of(name)} (inputs: {string.Join(", ", _graph.Inputs)}).");
        return PlanFor(dims, channelsLast).Run(inputs);
    }

    private OnnxPlan PlanFor(IReadOnlyDictionary<string, int[]> dims, bool channelsLast)
    {
        string key = (channelsLast ? "nhwc|" : "nchw|") + string.Join("|", _graph.Inputs.Select(i => string.Join(",", dims[i.Name])));
        if (!_plans.TryGetValue(key, out var plan))
            _plans[key] = plan = OnnxPlanBuilder.Build(_graph, Backend, _weights, dims, channelsLast);
        return plan;
    }

    private string SingleInput() => _graph.Inputs.Count == 1 ? _graph.Inputs[0].Name
        : throw new InvalidOperationException($"{_graph.Context} has {_graph.Inputs.Count} inputs ({string.Join(", ", _graph.Inputs)}); pass them by name.");

    private Tensor Single(Dictionary<string, Tensor> outputs)
    {
        if (outputs.Count == 1) return outputs.Values.First();
        foreach (var t in outputs.Values) t.Dispose();
        throw new InvalidOperationException($"{_graph.Context} has {outputs.Count} outputs ({string.Join(", ", _graph.Outputs)}); use the dictionary overload.");
    }

    /// <summary>Frees the execution plans and the weights on the backend (not the backend).</summary>
    public void Dispose()
    {
        foreach (var plan in _plans.Values) plan.Dispose();
        _plans.Clear();
        _weights.Dispose();
    }
}
