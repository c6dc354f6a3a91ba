using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>
/// A Keras-style layer. It is applied once to symbolic inputs (<see cref="Apply(SymbolicTensor[])"/>),
/// which builds it: checks the input shapes, fixes its output shape and declares its weights. A model
/// then runs <see cref="Forward"/> and <see cref="Backward"/> on real tensors through the backend.
/// A layer keeps what its backward pass needs (inputs, output, masks) from its last forward pass,
/// and reuses its buffers from step to step.
/// </summary>
public abstract class Layer : IDisposable
{
    private readonly List<Parameter> _parameters = [];
    private readonly Dictionary<string, Tensor> _workspace = new(StringComparer.Ordinal);
    private IReadOnlyList<Tensor> _lastInputs = [];
    private Tensor? _lastOutput;

    /// <summary>A layer named <paramref name="name"/>, or by its class and a counter when null (Keras's naming).</summary>
    protected Layer(string? name)
    {
        if (name is not null && (name.Length == 0 || name.Contains('/')))
            throw new ArgumentException($"Layer name '{name}' must be non-empty and free of '/' (it separates names in weight files).");
        Name = name ?? LayerNames.Unique(NamePrefix, NameZeroBased);
    }

    /// <summary>Keras class name, as in configs and summaries: "Conv2D", "MaxPooling2D".</summary>
    public abstract string ClassName { get; }
    /// <summary>The layer's name, unique in its model.</summary>
    public string Name { get; }
    /// <summary>Prefix of automatic names: Keras's snake_case of the class name.</summary>
    protected virtual string NamePrefix => LayerNames.ToSnakeCase(ClassName);
    /// <summary>Whether the first generated name is the bare prefix ("conv2d", then "conv2d_1"); false starts at "_1" (InputLayer).</summary>
    protected virtual bool NameZeroBased => true;

    /// <summary>A frozen layer (false) computes no weight gradient and holds no optimizer state.</summary>
    public virtual bool Trainable { get; set; } = true;

    /// <summary>This layer's weights (for a model: all weights of its layers).</summary>
    public virtual IReadOnlyList<Parameter> Parameters => _parameters;
    /// <summary>The number of weights the layer holds.</summary>
    public long ParameterCount => Parameters.Sum(p => p.Length);

    /// <summary>Where the layer sits in a graph; null until it is applied.</summary>
    public Node? Node { get; private protected set; }
    /// <summary>One sample's output shape (batch left out).</summary>
    public virtual int[] OutputShape => Node?.Output.Shape ?? throw new InvalidOperationException($"{ClassName} '{Name}' has not been applied to an input yet.");

    /// <summary>Applies the layer to symbolic inputs (Keras's layer(x)), building it; returns its symbolic output.</summary>
    public SymbolicTensor Apply(params SymbolicTensor[] inputs)
    {
        if (inputs.Length == 0) throw new ArgumentException($"{ClassName} '{Name}' needs at least one input.");
        int[] shape = Build(inputs);
        if (Node is not null)
            throw new InvalidOperationException(
                $"{ClassName} '{Name}' is already applied to {string.Join(", ", Node.Inputs.Select(i => $"'{i.Layer.Name}'"))}; " +
                "applying one layer twice (shared weights) is not supported: create another layer.");
        Node = new Node(this, inputs.ToArray(), shape);
        return Node.Output;
    }

    /// <summary>
    /// Checks the inputs' shapes (errors name this layer, the producing layer and both shapes),
    /// declares the weights the first time, and returns one sample's output shape.
    /// </summary>
    protected abstract int[] Build(IReadOnlyList<SymbolicTensor> inputs);

    /// <summary>Computes the output on the inputs' backend. The result may be a buffer the layer reuses next step.</summary>
    protected abstract Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context);

    /// <summary>
    /// From d(loss)/d(output), writes the trainable weights' gradients (<see cref="GradientOf"/>) and returns
    /// d(loss)/d(input) for each input whose flag is set (null elsewhere). Uses the last forward pass.
    /// </summary>
    protected abstract Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient);

    internal Tensor RunForward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        _lastInputs = inputs;
        _lastOutput = Forward(inputs, context);
        return _lastOutput;
    }

    internal Tensor?[] RunBackward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (_lastOutput is null)
            throw new InvalidOperationException($"{ClassName} '{Name}': backward pass without a forward pass.");
        return Backward(gradOutput, needInputGradient);
    }

    /// <summary>The inputs of the last forward pass.</summary>
    protected IReadOnlyList<Tensor> LastInputs => _lastInputs;
    /// <summary>The first input of the last forward pass, kept for the backward pass.</summary>
    protected Tensor LastInput => _lastInputs[0];
    /// <summary>The output of the last forward pass.</summary>
    protected Tensor LastOutput => _lastOutput ?? throw new InvalidOperationException($"{ClassName} '{Name}' has not run forward.");

    /// <summary>Keras-like config: name, trainable, dtype plus the layer's own settings.</summary>
    public virtual JsonObject GetConfig() => new()
    {
        ["name"] = Name,
        ["trainable"] = Trainable,
        ["dtype"] = "float32",
    };

    /// <summary>Declares a weight; its value is set when the model initializes or loads weights.</summary>
    protected Parameter AddParameter(string name, int[] shape, Initializer initializer, bool trainable = true)
    {
        var p = new Parameter(this, name, shape, initializer, trainable);
        _parameters.Add(p);
        return p;
    }

    /// <summary>The gradient buffer of <paramref name="parameter"/>, or null when it is frozen (skip its gradient).</summary>
    protected static Tensor? GradientOf(Parameter parameter) => parameter.GradientBuffer();

    /// <summary>A buffer of this layer kept between steps; reallocated only when the shape or backend changes.</summary>
    protected Tensor Workspace(string slot, IBackend backend, TensorShape shape)
    {
        if (_workspace.TryGetValue(slot, out var t) && t.Shape == shape && ReferenceEquals(t.Backend, backend))
            return t;
        t?.Dispose();
        return _workspace[slot] = Tensor.Zeros(backend, shape);
    }

    /// <summary>(batch, sample dimensions…).</summary>
    protected static TensorShape BatchShape(int batch, IReadOnlyList<int> sampleShape) => new([batch, .. sampleShape]);

    /// <summary>
    /// A shape error that names this layer, what it expects, the layer feeding it and that layer's output,
    /// e.g. "Dense 'dense_1' expects 1600 features but 'flatten' outputs (None, 1568)".
    /// </summary>
    protected ShapeException ShapeError(SymbolicTensor input, string expectation) =>
        new($"{ClassName} '{Name}' {expectation} but '{input.Layer.Name}' outputs {input.ShapeText}.");

    /// <summary>The single input of a one-input layer.</summary>
    protected SymbolicTensor SingleInput(IReadOnlyList<SymbolicTensor> inputs) => inputs.Count == 1 ? inputs[0]
        : throw new ArgumentException($"{ClassName} '{Name}' takes one input; got {inputs.Count} ({string.Join(", ", inputs.Select(i => $"'{i.Layer.Name}'"))}).");

    /// <summary>Frees the layer's weights and workspace tensors.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the weights and workspace tensors when <paramref name="disposing"/>; derived layers free their own here too.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var t in _workspace.Values) t.Dispose();
        _workspace.Clear();
        foreach (var p in _parameters) p.Dispose();
        _lastInputs = [];
        _lastOutput = null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({ClassName})";
}
