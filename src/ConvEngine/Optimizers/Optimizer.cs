using System.Text.Json.Nodes;
using ConvEngine.Layers;
using ConvEngine.Serialization;

namespace ConvEngine.Optimizers;

/// <summary>
/// A Keras optimizer. It keeps per-weight state ("slots": Adam's m and v, SGD's momentum) on the
/// weight's backend, created the first time the weight is trained, so a frozen weight holds none.
/// <see cref="Iterations"/> counts applied steps, as Keras's optimizer.iterations.
/// </summary>
public abstract class Optimizer
{
    private readonly Dictionary<Parameter, Tensor[]> _slots = [];

    /// <summary>Starts at <paramref name="learningRate"/>, no steps taken.</summary>
    protected Optimizer(double learningRate)
    {
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
            throw new ArgumentException($"{GetType().Name}: learning_rate must be a positive finite number, got {learningRate}.");
        LearningRate = learningRate;
    }

    /// <summary>Keras's class name, e.g. "Adam".</summary>
    public abstract string ClassName { get; }
    /// <summary>May be changed between steps (e.g. by a callback).</summary>
    public double LearningRate { get; set; }
    /// <summary>Update steps taken so far (Keras's <c>iterations</c>); restored from a checkpoint.</summary>
    public long Iterations { get; internal set; }
    /// <summary>Names of the per-weight state tensors, e.g. ["m", "v"].</summary>
    public abstract IReadOnlyList<string> SlotNames { get; }

    /// <summary>Applies one update to every weight in <paramref name="parameters"/> from its gradient, then counts the step.</summary>
    internal void Apply(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            if (p.Value is null || p.Gradient is null)
                throw new InvalidOperationException($"{ClassName}: weight '{p.Owner.Name}/{p.Name}' has no value or gradient to update.");
            Update(p, SlotsOf(p), Iterations + 1);
            p.Changed();
        }
        Iterations++;
    }

    /// <summary>Updates one weight in place. <paramref name="step"/> is Keras's t = iterations + 1.</summary>
    protected abstract void Update(Parameter parameter, IReadOnlyList<Tensor> slots, long step);

    /// <summary>True once the weight has optimizer state.</summary>
    public bool HasState(Parameter parameter) => _slots.ContainsKey(parameter);

    /// <summary>The state tensors of a weight, in <see cref="SlotNames"/> order, or null if it has none.</summary>
    public IReadOnlyList<Tensor>? StateOf(Parameter parameter) => _slots.GetValueOrDefault(parameter);

    /// <summary>Every weight with state and its state tensors.</summary>
    public IEnumerable<KeyValuePair<Parameter, Tensor[]>> State => _slots;

    /// <summary>The weight's state, created zero-filled on first use and moved along if the weight changed backend.</summary>
    private Tensor[] SlotsOf(Parameter p)
    {
        var backend = p.Value!.Backend;
        if (!_slots.TryGetValue(p, out var slots))
            return _slots[p] = SlotNames.Select(_ => Tensor.Zeros(backend, p.Shape)).ToArray();
        if (slots.All(s => ReferenceEquals(s.Backend, backend))) return slots;
        var moved = slots.Select(s => s.To(backend)).ToArray();
        foreach (var s in slots) s.Dispose();
        return _slots[p] = moved;
    }

    /// <summary>Restores a weight's state (from a checkpoint).</summary>
    internal void SetState(Parameter p, IReadOnlyList<float[]> values)
    {
        if (values.Count != SlotNames.Count)
            throw new ArgumentException($"{ClassName}: weight '{p.Owner.Name}/{p.Name}' needs {SlotNames.Count} state tensors, got {values.Count}.");
        var backend = p.Value?.Backend ?? throw new InvalidOperationException($"Weight '{p.Owner.Name}/{p.Name}' has no value yet.");
        if (_slots.Remove(p, out var old)) foreach (var s in old) s.Dispose();
        _slots[p] = values.Select(v => Tensor.FromArray(backend, v, p.Shape.ToArray())).ToArray();
    }

    /// <summary>Drops all state (also done when the model is recompiled with this optimizer).</summary>
    public void ResetState()
    {
        foreach (var slots in _slots.Values) foreach (var s in slots) s.Dispose();
        _slots.Clear();
        Iterations = 0;
    }

    /// <summary>The settings as Keras's get_config() spells them.</summary>
    public virtual JsonObject GetConfig() => new() { ["name"] = ClassName, ["learning_rate"] = LearningRate };

    /// <summary>The optimizer as Keras's serialized form: class_name and config.</summary>
    public JsonObject ToJson() => new() { ["class_name"] = ClassName, ["config"] = GetConfig() };

    /// <summary>"adam" or "sgd" with Keras defaults.</summary>
    public static Optimizer FromName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "adam" => new Adam(),
        "sgd" => new Sgd(),
        _ => throw new ArgumentException($"Unknown optimizer '{name}'; known: adam, sgd."),
    };

    /// <summary>Reads an optimizer written by <see cref="ToJson"/> (Keras's class_name + config).</summary>
    public static Optimizer FromJson(JsonNode node)
    {
        if (node is JsonValue v && v.TryGetValue(out string? name)) return FromName(name);
        var obj = JsonConfig.Object(node, "optimizer");
        string className = JsonConfig.String(obj, "optimizer", "class_name");
        var c = obj["config"] as JsonObject ?? [];
        return className switch
        {
            "Adam" => new Adam(JsonConfig.Double(c, "Adam", "learning_rate", 0.001), JsonConfig.Double(c, "Adam", "beta_1", 0.9),
                JsonConfig.Double(c, "Adam", "beta_2", 0.999), JsonConfig.Double(c, "Adam", "epsilon", 1e-7)),
            "SGD" => new Sgd(JsonConfig.Double(c, "SGD", "learning_rate", 0.01), JsonConfig.Double(c, "SGD", "momentum", 0),
                JsonConfig.Bool(c, "SGD", "nesterov", false)),
            _ => throw new FormatException($"Unknown optimizer class '{className}'; known: Adam, SGD."),
        };
    }

    /// <summary>The optimizer Keras calls <paramref name="name"/>, e.g. "adam", with its defaults.</summary>
    public static implicit operator Optimizer(string name) => FromName(name);
}
