using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// One weight of a layer (a kernel, a bias, …): its shape and initializer from the moment the layer is
/// built, its value once the model places it on a backend, and its gradient while it trains.
/// </summary>
public sealed class Parameter : IDisposable
{
    private readonly bool _trainableWeight;

    internal Parameter(Layer owner, string name, int[] shape, Initializer initializer, bool trainable)
    {
        Owner = owner;
        Name = name;
        Shape = new TensorShape(shape);
        // Checked when the layer is built, so a config declaring a huge layer fails naming it, before any allocation.
        MemoryBudget.Check(Shape.Length * sizeof(float), () => $"Weight '{owner.Name}/{name}' {Shape}");
        Initializer = initializer;
        _trainableWeight = trainable;
    }

    /// <summary>The layer this weight belongs to.</summary>
    public Layer Owner { get; }
    /// <summary>The weight's own name within its layer ("kernel", "bias").</summary>
    public string Name { get; }
    /// <summary>The weight's dimensions.</summary>
    public TensorShape Shape { get; }
    /// <summary>The number of values.</summary>
    public long Length => Shape.Length;
    /// <summary>How the values start.</summary>
    public Initializer Initializer { get; }
    /// <summary>Trained by the optimizer: the weight is trainable (not, e.g., a moving mean) and so is its layer.</summary>
    public bool Trainable => _trainableWeight && Owner.Trainable;
    /// <summary>
    /// The value on the model's backend; null until the model initializes or loads it. Change it through
    /// <see cref="Assign(IBackend, ReadOnlySpan{float})"/> (or train it): inference keeps prepared copies of some
    /// weights (conv filters packed for the GEMM) and prepares them again when <see cref="Version"/> moves, which a
    /// write straight into the value's buffer through the backend does not do.
    /// </summary>
    public Tensor? Value { get; private set; }
    /// <summary>Counts the changes of the value (assignments, moves, optimizer updates), for copies prepared from it.</summary>
    public int Version { get; private set; }
    /// <summary>d(loss)/d(value) from the last backward pass; null for a frozen weight.</summary>
    public Tensor? Gradient { get; private set; }

    /// <summary>The value as a host array (a copy).</summary>
    public float[] ToArray() => (Value ?? throw new InvalidOperationException(
        $"Weight '{Owner.Name}/{Name}' has no value yet: compile, fit or initialize the model first.")).ToArray();

    /// <summary>Replaces the value with host data of the same length, on <paramref name="backend"/>.</summary>
    public void Assign(IBackend backend, ReadOnlySpan<float> data)
    {
        if (data.Length != Length)
            throw new Kernels.Geometry.ShapeException(
                $"Weight '{Owner.Name}/{Name}' has shape {Shape} ({Length} values); got {data.Length} values.");
        if (Value is null || !ReferenceEquals(Value.Backend, backend))
        {
            Value?.Dispose();
            Value = Tensor.Zeros(backend, Shape);
        }
        backend.Upload(data, Value.Buffer);
        Version++;
    }

    /// <summary>Records an in-place change of the value (an optimizer update).</summary>
    internal void Changed() => Version++;

    /// <summary>Replaces the value with host data of the same length, on the backend it already lives on.</summary>
    public void Assign(ReadOnlySpan<float> data) => Assign(Value?.Backend ?? throw new InvalidOperationException(
        $"Weight '{Owner.Name}/{Name}' has no value yet: initialize the model first, or pass the backend."), data);

    /// <summary>Moves the value to another backend (no-op if it is already there).</summary>
    internal void MoveTo(IBackend backend)
    {
        if (Value is null || ReferenceEquals(Value.Backend, backend)) return;
        var moved = Value.To(backend);
        Value.Dispose();
        Value = moved;
        Version++;
        Gradient?.Dispose();
        Gradient = null;
    }

    /// <summary>The gradient buffer (allocated on first use), or null when the weight is frozen, which then holds no gradient.</summary>
    internal Tensor? GradientBuffer()
    {
        if (!Trainable)
        {
            Gradient?.Dispose();
            Gradient = null;
            return null;
        }
        var value = Value ?? throw new InvalidOperationException($"Weight '{Owner.Name}/{Name}' has no value.");
        if (Gradient is null || !ReferenceEquals(Gradient.Backend, value.Backend))
        {
            Gradient?.Dispose();
            Gradient = Tensor.Zeros(value.Backend, Shape);
        }
        return Gradient;
    }

    /// <summary>Frees the values and the gradient.</summary>
    public void Dispose()
    {
        Value?.Dispose();
        Gradient?.Dispose();
        Value = Gradient = null;
        Version++;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Owner.Name}/{Name} {Shape}";
}
