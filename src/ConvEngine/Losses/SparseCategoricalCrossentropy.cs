using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;

namespace ConvEngine.Losses;

/// <summary>
/// Keras sparse_categorical_crossentropy: targets are class indices (one per row of the output). Fused with a
/// softmax output; otherwise the indices become one-hot rows and the clipped categorical cross-entropy applies.
/// </summary>
public sealed class SparseCategoricalCrossentropy(bool fromLogits = false) : Loss(fromLogits)
{
    /// <inheritdoc/>
    public override string Name => "sparse_categorical_crossentropy";
    /// <inheritdoc/>
    public override string ClassName => "SparseCategoricalCrossentropy";

    internal override LossPlan Plan(SymbolicTensor output, ActivatedLayer? outputLayer)
    {
        CategoricalCrossentropy.RequireClasses(this, output);
        if (FromLogits) return new LossPlan(LossKind.SoftmaxSparseCategoricalCrossEntropy, null);
        if (outputLayer is { Activation.IsSoftmax: true }) return new LossPlan(LossKind.SoftmaxSparseCategoricalCrossEntropy, outputLayer);
        return new LossPlan(LossKind.CategoricalCrossEntropy, null, SparseTargetsToOneHot: true);
    }

    internal override void ValidateTargets(int[] targetShape, TensorShape prediction, SymbolicTensor output)
    {
        long rows = prediction.Length / prediction[-1];
        long targets = targetShape.Aggregate(1L, (a, d) => a * d);
        if (targetShape.Length == 0 || targetShape[0] != prediction[0] || targets != rows)
            throw new ShapeException(
                $"{Name}: the targets have shape {Format(targetShape)} ({PerSample(targetShape)} per sample) but '{output.Layer.Name}' outputs {output.ShapeText}; " +
                $"expected one class index per sample (shape ({prediction[0]}) or ({prediction[0]}, 1)), or use categorical_crossentropy for one-hot targets.");
    }

    /// <summary>Every target must be a whole class index in [0, classes).</summary>
    internal static void ValidateIndices(ReadOnlySpan<float> targets, int classes, string outputName)
    {
        for (int i = 0; i < targets.Length; i++)
        {
            float t = targets[i];
            if (!(t >= 0 && t < classes && t == MathF.Floor(t)))
                throw new ArgumentException(
                    $"sparse_categorical_crossentropy: target {i} of the batch is {t}, not a class index in [0, {classes}) for '{outputName}'.");
        }
    }
}
