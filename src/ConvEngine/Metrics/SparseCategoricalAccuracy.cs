namespace ConvEngine.Metrics;

/// <summary>Keras sparse_categorical_accuracy: the row's arg-max (first on ties) equals the target class index.</summary>
public sealed class SparseCategoricalAccuracy(string? name = null) : Metric(name)
{
    /// <inheritdoc/>
    protected override string DefaultName => "sparse_categorical_accuracy";
    /// <inheritdoc/>
    public override bool TakesClassIndices => true;

    /// <inheritdoc/>
    public override double SumOverRows(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int rows, int columns)
    {
        double sum = 0;
        for (int r = 0; r < rows; r++)
            if (CategoricalAccuracy.ArgMax(predictions.Slice(r * columns, columns)) == targets[r]) sum++;
        return sum;
    }
}
