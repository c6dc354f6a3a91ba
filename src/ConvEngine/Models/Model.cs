using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;

namespace ConvEngine.Models;

/// <summary>
/// A Keras functional model: a directed acyclic graph of layers from one <see cref="Input"/> to one output,
/// run in topological order. Backward runs in reverse order, summing the gradients of a tensor that
/// feeds several layers. A model is itself a layer, so a pretrained base can sit inside another model.
/// Weights live on <see cref="Backend"/>; they are initialized from <see cref="Seed"/> the first time
/// the model is compiled, run or saved, unless they were loaded.
/// </summary>
public partial class Model : Layer
{
    /// <summary>Separate random streams derived from the model seed.</summary>
    private const ulong InitStream = 0x696E6974UL, DropoutStream = 0x64726F70UL;

    private static readonly Lazy<IBackend> SharedCpu = new(() => new CpuBackend());

    private List<Node> _nodes = [];
    private int[][] _inputsOf = [];
    private int _inputNode, _outputNode;
    private Tensor?[] _values = [];
    private Tensor?[] _gradients = [];
    private bool[] _gradientIsSum = [];
    private Tensor?[] _gradientSums = [];
    /// <summary>Per node: d(loss)/d(pre-activation) already written by the fused backward of its consumer, and whether its bias gradient was too.</summary>
    private (Tensor Gradient, bool BiasWritten)?[] _preActivationGradients = [];
    /// <summary>How many input slots of other nodes read each node's output.</summary>
    private int[] _consumerCounts = [];
    private bool _trainable = true;

    /// <summary>A model from <paramref name="input"/> to <paramref name="output"/> (Keras's Model(inputs, outputs)).</summary>
    /// <param name="backend">Where the weights live and kernels run; the shared cpu backend if null.</param>
    /// <param name="seed">Seeds weight initialization and dropout; random if null.</param>
    /// <param name="input">The model's input, an InputLayer's tensor.</param>
    /// <param name="output">The tensor the model computes from it.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Model(SymbolicTensor input, SymbolicTensor output, string? name = null, IBackend? backend = null, ulong? seed = null)
        : this(name, backend, seed)
    {
        SetGraph(input, output);
    }

    private protected Model(string? name, IBackend? backend, ulong? seed) : base(name)
    {
        Backend = backend ?? SharedCpu.Value;
        Seed = seed ?? (ulong)Random.Shared.NextInt64();
    }

    /// <inheritdoc/>
    public override string ClassName => "Functional";
    /// <inheritdoc/>
    protected override string NamePrefix => "model";

    /// <summary>The backend the model's weights and activations live on.</summary>
    public IBackend Backend { get; private set; }
    /// <summary>The seed of the weights' initialisation and of dropout and shuffling draws.</summary>
    public ulong Seed { get; internal set; }

    /// <summary>The graph's input tensor (Keras's model.input).</summary>
    public SymbolicTensor Input => _nodes.Count > 0 ? _nodes[_inputNode].Output
        : throw new InvalidOperationException($"{ClassName} '{Name}' has no layers yet.");
    /// <summary>The graph's output tensor (Keras's model.output).</summary>
    public SymbolicTensor Output => _nodes.Count > 0 ? _nodes[_outputNode].Output
        : throw new InvalidOperationException($"{ClassName} '{Name}' has no layers yet.");
    /// <inheritdoc/>
    public override int[] OutputShape => Output.Shape;
    /// <summary>One sample's input shape.</summary>
    public int[] InputShape => Input.Shape;

    /// <summary>The nodes in topological order (the input first, the output last).</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>The layers in topological order; a functional model lists its InputLayer first, as Keras.</summary>
    public virtual IReadOnlyList<Layer> Layers => _nodes.Select(n => n.Layer).ToList();

    /// <summary>The layer named <paramref name="name"/>; an error listing the names when there is none.</summary>
    public Layer GetLayer(string name) => _nodes.Select(n => n.Layer).FirstOrDefault(l => l.Name == name)
        ?? throw new KeyNotFoundException($"{ClassName} '{Name}' has no layer '{name}'; it has {string.Join(", ", _nodes.Select(n => n.Layer.Name))}.");

    /// <summary>Setting it sets every layer's flag, as Keras does; a frozen model trains none of its weights.</summary>
    public override bool Trainable
    {
        get => _trainable;
        set
        {
            _trainable = value;
            foreach (var node in _nodes) node.Layer.Trainable = value;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Parameter> Parameters => NamedParameters.Select(p => p.Parameter).ToList();

    /// <summary>Every weight with its path: "conv2d/kernel", or "vgg16/block1_conv1/kernel" inside a nested model.</summary>
    public IReadOnlyList<(string Path, Parameter Parameter)> NamedParameters
    {
        get
        {
            var list = new List<(string, Parameter)>();
            foreach (var node in _nodes)
            {
                if (node.Layer is Model inner)
                    list.AddRange(inner.NamedParameters.Select(p => ($"{inner.Name}/{p.Path}", p.Parameter)));
                else
                    list.AddRange(node.Layer.Parameters.Select(p => ($"{node.Layer.Name}/{p.Name}", p)));
            }
            return list;
        }
    }

    /// <summary>Weights the optimizer updates.</summary>
    public long TrainableParameterCount => Parameters.Where(p => p.Trainable).Sum(p => p.Length);
    /// <summary>Weights it does not (frozen layers, BatchNormalization's moving statistics).</summary>
    public long NonTrainableParameterCount => Parameters.Where(p => !p.Trainable).Sum(p => p.Length);

    /// <summary>Sets the graph: topological order from the output back to the input; every other entry is an error.</summary>
    private protected void SetGraph(SymbolicTensor input, SymbolicTensor output)
    {
        if (input.Layer is not InputLayer)
            throw new ArgumentException($"{ClassName} '{Name}': the input must come from an Input layer; '{input.Layer.Name}' is a {input.Layer.ClassName}.");
        var order = new List<Node>();
        var visited = new HashSet<Node>();
        Visit(output.Producer);
        if (!visited.Contains(input.Producer))
            throw new ArgumentException($"{ClassName} '{Name}': the output '{output.Layer.Name}' does not depend on the input '{input.Layer.Name}'.");
        var duplicate = order.GroupBy(n => n.Layer.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"{ClassName} '{Name}': two layers are named '{duplicate.Key}'; layer names must be unique within a model.");

        var index = new Dictionary<Node, int>();
        for (int i = 0; i < order.Count; i++) index[order[i]] = i;
        _nodes = order;
        _inputsOf = order.Select(n => n.Inputs.Select(t => index[t.Producer]).ToArray()).ToArray();
        _inputNode = index[input.Producer];
        _outputNode = index[output.Producer];
        _values = new Tensor?[order.Count];
        _gradients = new Tensor?[order.Count];
        _gradientIsSum = new bool[order.Count];
        _preActivationGradients = new (Tensor, bool)?[order.Count];
        _consumerCounts = new int[order.Count];
        foreach (var inputs in _inputsOf)
            foreach (int j in inputs) _consumerCounts[j]++;
        foreach (var t in _gradientSums) t?.Dispose();
        _gradientSums = new Tensor?[order.Count];
        _fusions = null;   // found again for the new graph at the next inference

        void Visit(Node node)
        {
            if (!visited.Add(node)) return;
            if (node.Layer is InputLayer && node != input.Producer)
                throw new ArgumentException($"{ClassName} '{Name}': the output depends on Input '{node.Layer.Name}', which is not the model's input '{input.Layer.Name}'; models have one input.");
            foreach (var t in node.Inputs) Visit(t.Producer);
            order.Add(node);
        }
    }

    /// <summary>Moves the weights (and optimizer state, at the next step) to another backend.</summary>
    public void UseBackend(IBackend backend)
    {
        Backend = backend;
        foreach (var (_, p) in NamedParameters) p.MoveTo(backend);
    }

    /// <summary>Gives every weight without a value its initial value (seeded by position), and moves all weights to <see cref="Backend"/>.</summary>
    public void Initialize()
    {
        var named = NamedParameters;
        ulong stream = CounterRng.Hash(Seed, InitStream);
        for (int i = 0; i < named.Count; i++)
        {
            var p = named[i].Parameter;
            if (p.Value is null)
            {
                var values = new float[p.Length];
                p.Initializer.Fill(values, CounterRng.Hash(stream, (ulong)i));
                p.Assign(Backend, values);
            }
            else p.MoveTo(Backend);
        }
    }

    private protected void RequireGraph()
    {
        if (_nodes.Count == 0) throw new InvalidOperationException($"{ClassName} '{Name}' has no layers yet.");
    }

    // ---- the model as a layer inside another model ----

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        RequireGraph();
        var input = SingleInput(inputs);
        if (!input.Shape.SequenceEqual(InputShape))
            throw ShapeError(input, $"expects input {SymbolicTensor.FormatShape(InputShape)}");
        return OutputShape;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context) => RunGraph(inputs[0], context);

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) =>
        [BackwardGraph(gradOutput, needInputGradient[0])];

    // ---- graph execution ----

    /// <summary>
    /// Runs every node in topological order; returns the output (a buffer owned by the last layer). Inference on the
    /// cpu backend runs the graph's fusions (<see cref="InferenceFusions"/>) unless the pass observes every node. With
    /// <paramref name="nodeMilliseconds"/>, adds each node's wall time to its entry (after a backend synchronize).
    /// </summary>
    internal Tensor RunGraph(Tensor input, ForwardContext context, double[]? nodeMilliseconds = null)
    {
        var fusions = FusionsFor(input, context);
        _values[_inputNode] = input;
        context.Observer?.Invoke(_nodes[_inputNode], input);
        for (int i = 0; i < _nodes.Count; i++)
        {
            if (i == _inputNode || fusions?.RunsAt[i] >= 0) continue;
            long started = nodeMilliseconds is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            if (fusions?.At[i] is { } fusion) RunFusion(i, fusion);
            else
            {
                var from = _inputsOf[i];
                var inputs = new Tensor[from.Length];
                for (int k = 0; k < from.Length; k++) inputs[k] = _values[from[k]]!;
                _values[i] = _nodes[i].Layer.RunForward(inputs, context.ForNode(i));
            }
            if (nodeMilliseconds is not null)
            {
                input.Backend.Synchronize();
                nodeMilliseconds[i] += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            context.Observer?.Invoke(_nodes[i], _values[i]!);
        }
        return _values[_outputNode]!;
    }

    /// <summary>
    /// Back-propagates d(loss)/d(output) through the graph. A node runs backward only if it or something
    /// upstream has trainable weights (a frozen base costs no backward pass); returns d(loss)/d(input) if asked.
    /// </summary>
    internal Tensor? BackwardGraph(Tensor gradOutput, bool inputNeedsGradient)
    {
        var needs = new bool[_nodes.Count];
        for (int i = 0; i < _nodes.Count; i++)
        {
            if (i == _inputNode) { needs[i] = inputNeedsGradient; continue; }
            bool need = _nodes[i].Layer.Parameters.Any(p => p.Trainable);
            foreach (int j in _inputsOf[i]) need |= needs[j];
            needs[i] = need;
        }

        Array.Clear(_gradients);
        Array.Clear(_gradientIsSum);
        Array.Clear(_preActivationGradients);
        _gradients[_outputNode] = gradOutput;
        for (int i = _nodes.Count - 1; i >= 0; i--)
        {
            if (i == _inputNode || !needs[i]) continue;
            var from = _inputsOf[i];
            var needInput = new bool[from.Length];
            for (int k = 0; k < from.Length; k++) needInput[k] = needs[from[k]];
            Tensor?[] inputGradients;
            if (_preActivationGradients[i] is { } fused)
                inputGradients = ((ActivatedLayer)_nodes[i].Layer).BackwardFromPreActivation(fused.Gradient, needInput, fused.BiasWritten);
            else if (_gradients[i] is not { } grad) continue;
            else if (FusesWithProducer(i, needs) is { } producer)
            {
                // The pool's backward also does its producer's activation backward and bias gradient (one pass, not three).
                var act = (ActivatedLayer)_nodes[producer].Layer;
                var gradPre = act.PreActivationGradient(grad.Backend, _values[producer]!.Shape);
                var gradBias = act.BiasGradient;
                ((Pooling2DLayer)_nodes[i].Layer).BackwardThroughActivation(grad, act, gradPre, gradBias);
                _preActivationGradients[producer] = (gradPre, gradBias is not null);
                continue;
            }
            else inputGradients = _nodes[i].Layer.RunBackward(grad, needInput);
            for (int k = 0; k < from.Length; k++)
                if (needInput[k] && inputGradients[k] is { } g) Accumulate(from[k], g);
        }
        return inputNeedsGradient ? _gradients[_inputNode] : null;
    }

    /// <summary>
    /// The producer node whose activation backward the pool at <paramref name="node"/> can do for it: the pool's only
    /// input is an activated layer (conv, dense, activation) whose output only this pool reads and which kept no logits.
    /// </summary>
    private int? FusesWithProducer(int node, bool[] needs)
    {
        if (_nodes[node].Layer is not Pooling2DLayer || _inputsOf[node].Length != 1) return null;
        int producer = _inputsOf[node][0];
        if (producer == _inputNode || producer == _outputNode || !needs[producer] || _consumerCounts[producer] != 1) return null;
        return _nodes[producer].Layer is ActivatedLayer { TakesPreActivationGradient: true } ? producer : null;
    }

    /// <summary>The first gradient of a tensor is used as is; further ones are summed into a buffer of the model's.</summary>
    private void Accumulate(int node, Tensor gradient)
    {
        if (_gradients[node] is not { } existing)
        {
            _gradients[node] = gradient;
            return;
        }
        var backend = gradient.Backend;
        if (!_gradientIsSum[node])
        {
            var sum = _gradientSums[node];
            if (sum is null || sum.Shape != existing.Shape || !ReferenceEquals(sum.Backend, backend))
            {
                sum?.Dispose();
                _gradientSums[node] = sum = Tensor.Zeros(backend, existing.Shape);
            }
            backend.Copy(existing.Buffer, sum.Buffer, existing.Length);
            _gradients[node] = sum;
            _gradientIsSum[node] = true;
        }
        backend.Axpy(1f, gradient.Buffer, _gradients[node]!.Buffer, gradient.Length);
    }

    /// <summary>The layer whose activation ends the model (looking inside a nested model), if it is an activated layer.</summary>
    internal ActivatedLayer? OutputActivationLayer()
    {
        var layer = _nodes[_outputNode].Layer;
        return layer switch
        {
            ActivatedLayer a => a,
            Model inner => inner.OutputActivationLayer(),
            _ => null,
        };
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => Serialization.ModelConfig.GraphConfig(this);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var node in _nodes) node.Layer.Dispose();
            foreach (var t in _gradientSums) t?.Dispose();
            DisposeTraining();
        }
        base.Dispose(disposing);
    }
}
