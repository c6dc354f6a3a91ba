using System.Text.Json.Nodes;
using ConvEngine.Losses;
using ConvEngine.Serialization;

namespace ConvEngine.Metrics;

/// <summary>
/// A Keras metric computed on the host from the downloaded predictions: each row of the output
/// (the last axis) gives one value, and the epoch's value is the mean over all rows seen, so batches
/// count by their size as in Keras's MeanMetricWrapper. Strings convert implicitly: "accuracy".
/// </summary>
public abstract class Metric
{
    /// <summary>Names the metric <paramref name="name"/>, or <see cref="DefaultName"/> when null.</summary>
    protected Metric(string? name) => Name = name ?? DefaultName;

    /// <summary>The key in logs and History ("accuracy", "binary_accuracy"; "val_" is prefixed for validation).</summary>
    public string Name { get; }
    /// <summary>The name Keras gives the metric when none is given, e.g. "accuracy".</summary>
    protected abstract string DefaultName { get; }

    /// <summary>Sum of the per-row values over <paramref name="rows"/> rows of <paramref name="columns"/> predictions.</summary>
    /// <param name="targets">Same length as the predictions, or one value per row for sparse metrics.</param>
    /// <param name="rows">The number of rows (samples).</param>
    /// <param name="columns">Values per row.</param>
    /// <param name="predictions">The model's outputs, row-major.</param>
    public abstract double SumOverRows(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int rows, int columns);

    /// <summary>True when the targets hold one class index per row rather than one value per prediction.</summary>
    public virtual bool TakesClassIndices => false;

    /// <summary>Turns a generic name such as "accuracy" into the concrete metric for this loss and output.</summary>
    internal virtual Metric Resolve(Loss loss, int[] outputShape) => this;

    /// <summary>accuracy / acc (chosen by the loss and output), binary_accuracy, categorical_accuracy, sparse_categorical_accuracy.</summary>
    public static Metric FromName(string name) => name.Trim() switch
    {
        "accuracy" or "acc" => new Accuracy(name.Trim()),
        "binary_accuracy" => new BinaryAccuracy(),
        "categorical_accuracy" => new CategoricalAccuracy(),
        "sparse_categorical_accuracy" => new SparseCategoricalAccuracy(),
        _ => throw new ArgumentException(
            $"Unknown metric '{name}'; known: accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy."),
    };

    /// <summary>The metric Keras calls <paramref name="name"/>, e.g. "accuracy" (see <see cref="FromName"/>).</summary>
    public static implicit operator Metric(string name) => FromName(name);

    /// <summary>Keras-like {class_name, config: {name, …}}.</summary>
    public virtual JsonObject ToJson() => new()
    {
        ["class_name"] = GetType().Name,
        ["config"] = new JsonObject { ["name"] = Name },
    };

    /// <summary>Reads a metric written by <see cref="ToJson"/>, or a plain Keras metric name.</summary>
    public static Metric FromJson(JsonNode node)
    {
        if (node is JsonValue v && v.TryGetValue(out string? name)) return FromName(name);
        var obj = JsonConfig.Object(node, "metric");
        string className = JsonConfig.String(obj, "metric", "class_name");
        var config = obj["config"] as JsonObject ?? [];
        string? metricName = JsonConfig.OptionalString(config, className, "name");
        return className switch
        {
            "BinaryAccuracy" => new BinaryAccuracy(JsonConfig.Double(config, className, "threshold", 0.5), metricName),
            "CategoricalAccuracy" => new CategoricalAccuracy(metricName),
            "SparseCategoricalAccuracy" => new SparseCategoricalAccuracy(metricName),
            "Accuracy" => new Accuracy(metricName ?? "accuracy"),
            _ => throw new FormatException($"Unknown metric class '{className}'; known: BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy."),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// Keras's "accuracy": binary_accuracy when the output has one unit or the loss is binary cross-entropy,
/// sparse_categorical_accuracy with the sparse loss, categorical_accuracy otherwise (keras compile_utils).
/// </summary>
public sealed class Accuracy(string name = "accuracy") : Metric(name)
{
    /// <inheritdoc/>
    protected override string DefaultName => "accuracy";

    /// <inheritdoc/>
    public override double SumOverRows(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int rows, int columns) =>
        throw new InvalidOperationException("'accuracy' is resolved to a concrete metric when the model is compiled.");

    internal override Metric Resolve(Loss loss, int[] outputShape)
    {
        if (outputShape[^1] == 1 || loss is BinaryCrossentropy) return new BinaryAccuracy(name: Name);
        if (loss is SparseCategoricalCrossentropy) return new SparseCategoricalAccuracy(Name);
        return new CategoricalAccuracy(Name);
    }
}
