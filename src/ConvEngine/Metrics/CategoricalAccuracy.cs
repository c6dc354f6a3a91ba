namespace ConvEngine.Metrics;

/// <summary>Keras categorical_accuracy: the row's arg-max (first on ties) equals the one-hot target's arg-max.</summary>
public sealed class CategoricalAccuracy(string? name = null) : Metric(name)
{
    /// <inheritdoc/>
    protected override string DefaultName => "categorical_accuracy";

    /// <inheritdoc/>
    public override double SumOverRows(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int rows, int columns)
    {
        double sum = 0;
        for (int r = 0; r < rows; r++)
            if (ArgMax(predictions.Slice(r * columns, columns)) == ArgMax(targets.Slice(r * columns, columns))) sum++;
        return sum;
    }

    /// <summary>Index of the first largest value.</summary>
    internal static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
            if (row[i] > row[best]) best = i;
        return best;
    }
}
