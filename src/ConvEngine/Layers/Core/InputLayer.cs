using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// The entry of a model (Keras's Input / InputLayer): one sample's shape, batch left out,
/// e.g. new InputLayer(128, 128, 3). Converts implicitly to its symbolic tensor.
/// </summary>
public sealed class InputLayer : Layer
{
    /// <summary>The input of samples of <paramref name="shape"/> (batch left out), e.g. (28, 28, 1).</summary>
    public InputLayer(params int[] shape) : this(shape, null) { }

    /// <summary>The input of samples of <paramref name="shape"/> (batch left out), named <paramref name="name"/>.</summary>
    public InputLayer(int[] shape, string? name) : base(name)
    {
        if (shape.Length is < 1 or > 3 || shape.Any(d => d <= 0))
            throw new ArgumentException($"Input '{Name}': a sample shape has 1 to 3 positive dimensions (the batch is added in front); got ({string.Join(", ", shape)}).");
        Node = new Node(this, [], (int[])shape.Clone());
    }

    /// <inheritdoc/>
    public override string ClassName => "InputLayer";
    /// <inheritdoc/>
    protected override string NamePrefix => "input";
    /// <inheritdoc/>
    protected override bool NameZeroBased => false;

    /// <summary>One sample's shape.</summary>
    public int[] Shape => OutputShape;

    /// <summary>The symbolic tensor the input gives, to pass to the next layer's Apply.</summary>
    public static implicit operator SymbolicTensor(InputLayer input) => input.Node!.Output;

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) =>
        throw new InvalidOperationException($"InputLayer '{Name}' is a graph entry; it is not applied to other tensors.");

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context) => inputs[0];

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) => [];

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var shape = new JsonArray { null };
        foreach (int d in Shape) shape.Add(d);
        return new JsonObject
        {
            ["batch_input_shape"] = shape,
            ["dtype"] = "float32",
            ["sparse"] = false,
            ["ragged"] = false,
            ["name"] = Name,
        };
    }

    internal static InputLayer FromConfig(JsonObject config) =>
        new(JsonConfig.Ints(config, "InputLayer", "batch_input_shape", skipLeadingNull: true), JsonConfig.String(config, "InputLayer", "name"));
}
