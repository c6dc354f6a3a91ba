using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Serialization;

namespace ConvEngine.Losses;

/// <summary>
/// A Keras loss. At compile time it chooses the backend's fused loss kernel for the model's output:
/// from the logits when the output layer ends in sigmoid/softmax (Keras 2 reads the logits there too),
/// from probabilities (clipped to [1e−7, 1−1e−7]) otherwise. Strings convert implicitly: "binary_crossentropy".
/// </summary>
public abstract class Loss
{
    private protected Loss(bool fromLogits) => FromLogits = fromLogits;

    /// <summary>Keras function name, e.g. "binary_crossentropy".</summary>
    public abstract string Name { get; }
    /// <summary>Keras class name, e.g. "BinaryCrossentropy".</summary>
    public abstract string ClassName { get; }
    /// <summary>The model outputs raw logits (Keras from_logits=True).</summary>
    public bool FromLogits { get; }

    /// <summary>Chooses the kernel for this output; throws if the loss cannot apply to it.</summary>
    internal abstract LossPlan Plan(SymbolicTensor output, ActivatedLayer? outputLayer);

    /// <summary>
    /// Checks one batch's targets against the output, with an error that names the loss, both shapes and the output layer.
    /// </summary>
    internal virtual void ValidateTargets(int[] targetShape, TensorShape prediction, SymbolicTensor output)
    {
        long perSample = prediction.SampleLength;
        long targets = targetShape.Aggregate(1L, (a, d) => a * d);
        if (targetShape.Length == 0 || targetShape[0] != prediction[0] || targets != prediction.Length)
            throw new ShapeException(
                $"{Name}: the targets have shape {Format(targetShape)} ({PerSample(targetShape)} per sample) but '{output.Layer.Name}' outputs {output.ShapeText} " +
                $"({perSample} per sample); they must match (e.g. {perSample} unit(s) for {PerSample(targetShape)} target value(s) per sample).");
    }

    private protected static string Format(int[] shape) => "(" + string.Join(", ", shape) + ")";
    private protected static long PerSample(int[] shape) => shape.Length == 0 || shape[0] == 0 ? 0 : shape.Aggregate(1L, (a, d) => a * d) / shape[0];

    /// <summary>The loss as Keras's serialized form: class_name and config.</summary>
    public JsonObject ToJson() => new()
    {
        ["class_name"] = ClassName,
        ["config"] = new JsonObject { ["name"] = Name, ["from_logits"] = FromLogits, ["reduction"] = "auto" },
    };

    /// <summary>binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, mse / mean_squared_error.</summary>
    public static Loss FromName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "binary_crossentropy" or "binarycrossentropy" or "bce" => new BinaryCrossentropy(),
        "categorical_crossentropy" or "categoricalcrossentropy" => new CategoricalCrossentropy(),
        "sparse_categorical_crossentropy" or "sparsecategoricalcrossentropy" => new SparseCategoricalCrossentropy(),
        "mse" or "mean_squared_error" or "meansquarederror" => new MeanSquaredError(),
        _ => throw new ArgumentException(
            $"Unknown loss '{name}'; known: binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error (mse)."),
    };

    /// <summary>Reads a loss written by <see cref="ToJson"/>, or a plain Keras loss name.</summary>
    public static Loss FromJson(JsonNode node)
    {
        if (node is JsonValue v && v.TryGetValue(out string? name)) return FromName(name);
        var obj = JsonConfig.Object(node, "loss");
        string className = JsonConfig.String(obj, "loss", "class_name");
        var config = obj["config"] as JsonObject ?? [];
        bool fromLogits = JsonConfig.Bool(config, className, "from_logits", false);
        return className switch
        {
            "BinaryCrossentropy" => new BinaryCrossentropy(fromLogits),
            "CategoricalCrossentropy" => new CategoricalCrossentropy(fromLogits),
            "SparseCategoricalCrossentropy" => new SparseCategoricalCrossentropy(fromLogits),
            "MeanSquaredError" => new MeanSquaredError(),
            _ => FromName(className),
        };
    }

    /// <summary>The loss Keras calls <paramref name="name"/>, e.g. "binary_crossentropy" (see <see cref="FromName"/>).</summary>
    public static implicit operator Loss(string name) => FromName(name);

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>What the model runs for a loss: the kernel, the layer whose logits it reads (if any) and how targets are fed.</summary>
internal sealed record LossPlan(LossKind Kind, ActivatedLayer? LogitsLayer, bool SparseTargetsToOneHot = false);
