using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// What a forward pass needs besides its inputs: whether it trains (Dropout and augmentation act
/// only then) and a seed for this layer in this step. The model derives a distinct seed per node
/// and per step from its own seed, so randomness is reproducible and survives a resume.
/// </summary>
public readonly record struct ForwardContext(bool Training, ulong Seed)
{
    /// <summary>The layer whose pre-activation values the loss reads in this pass (sigmoid/softmax fused into the loss), if any.</summary>
    internal ActivatedLayer? LogitsOf { get; init; }

    /// <summary>Sees every node's output as the graph computes it (nested models' nodes too); set by FeatureMaps.</summary>
    internal Action<Node, Tensor>? Observer { get; init; }

    /// <summary>A pass at inference: random layers pass their input through, dropout is off.</summary>
    public static ForwardContext Inference => new(false, 0);

    /// <summary>The context for the node at <paramref name="index"/> of a graph run under this context.</summary>
    public ForwardContext ForNode(int index) => this with { Seed = CounterRng.Hash(Seed, (ulong)index) };
}
