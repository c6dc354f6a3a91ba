using System.Text.Json.Nodes;

namespace ConvEngine.Metrics;

/// <summary>Keras binary_accuracy: a prediction counts as 1 when it is strictly above the threshold (0.5), then equals the target; mean over the last axis.</summary>
public sealed class BinaryAccuracy(double threshold = 0.5, string? name = null) : Metric(name)
{
    /// <summary>Probabilities above it count as class 1 (Keras's default 0.5).</summary>
    public double Threshold { get; } = threshold;
    /// <inheritdoc/>
    protected override string DefaultName => "binary_accuracy";

    /// <inheritdoc/>
    public override JsonObject ToJson()
    {
        var json = base.ToJson();
        ((JsonObject)json["config"]!)["threshold"] = Threshold;
        return json;
    }

    /// <inheritdoc/>
    public override double SumOverRows(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int rows, int columns)
    {
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            int matches = 0;
            for (int c = 0; c < columns; c++)
            {
                float predicted = predictions[r * columns + c] > Threshold ? 1f : 0f;
                if (predicted == targets[r * columns + c]) matches++;
            }
            sum += (double)matches / columns;
        }
        return sum;
    }
}
