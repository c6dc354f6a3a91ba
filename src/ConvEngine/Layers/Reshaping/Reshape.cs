using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Reshape: each sample's values, in channels-last order, seen with <see cref="TargetShape"/> (batch left out);
/// one entry may be −1, inferred from the rest. A view, no copy; its gradient is the same view back.
/// </summary>
public sealed class Reshape : Layer
{
    /// <summary>Gives each sample the shape <paramref name="targetShape"/> (one dimension may be -1, inferred).</summary>
    public Reshape(int[] targetShape, string? name = null) : base(name)
    {
        if (targetShape.Length is < 1 or > 3)
            throw new ArgumentException($"Reshape '{Name}': target_shape ({string.Join(", ", targetShape)}) must have 1 to 3 dimensions (the batch is added in front).");
        if (targetShape.Count(d => d == -1) > 1 || targetShape.Any(d => d == 0 || d < -1))
            throw new ArgumentException($"Reshape '{Name}': target_shape ({string.Join(", ", targetShape)}) must hold positive sizes and at most one −1.");
        TargetShape = (int[])targetShape.Clone();
    }

    /// <inheritdoc/>
    public override string ClassName => "Reshape";
    /// <summary>As given, −1 included.</summary>
    public int[] TargetShape { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        long total = input.Shape.Aggregate(1L, (a, d) => a * d);
        long known = TargetShape.Where(d => d != -1).Aggregate(1L, (a, d) => a * d);
        bool infer = TargetShape.Contains(-1);
        if (infer ? total % known != 0 : total != known)
            throw new ShapeException($"Reshape '{Name}': cannot reshape {input.ShapeText} from '{input.Layer.Name}' ({total} values per sample) " +
                $"to target_shape ({string.Join(", ", TargetShape)}){(infer ? $": {total} is not a multiple of {known}" : $" ({known} values)")}.");
        return TargetShape.Select(d => d == -1 ? (int)(total / known) : d).ToArray();
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context) =>
        inputs[0].Reshape([inputs[0].Shape[0], .. OutputShape]);

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) =>
        [needInputGradient[0] ? gradOutput.Reshape(LastInput.Shape.ToArray()) : null];

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["target_shape"] = new JsonArray(TargetShape.Select(d => (JsonNode?)d).ToArray());
        return config;
    }

    internal static Reshape FromConfig(JsonObject c)
    {
        const string owner = "Reshape";
        return new Reshape(JsonConfig.Ints(c, owner, "target_shape"), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
