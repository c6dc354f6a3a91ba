using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;

namespace ConvEngine.Losses;

/// <summary>
/// Keras categorical_crossentropy on one-hot targets: fused with a softmax output (computed from the
/// logits as log-softmax), otherwise on probabilities clipped to [1e−7, 1−1e−7].
/// </summary>
public sealed class CategoricalCrossentropy(bool fromLogits = false) : Loss(fromLogits)
{
    /// <inheritdoc/>
    public override string Name => "categorical_crossentropy";
    /// <inheritdoc/>
    public override string ClassName => "CategoricalCrossentropy";

    internal override LossPlan Plan(SymbolicTensor output, ActivatedLayer? outputLayer)
    {
        RequireClasses(this, output);
        if (FromLogits) return new LossPlan(LossKind.SoftmaxCategoricalCrossEntropy, null);
        if (outputLayer is { Activation.IsSoftmax: true }) return new LossPlan(LossKind.SoftmaxCategoricalCrossEntropy, outputLayer);
        return new LossPlan(LossKind.CategoricalCrossEntropy, null);
    }

    /// <summary>Categorical losses need one output unit per class; a single unit would make the loss constant.</summary>
    internal static void RequireClasses(Loss loss, SymbolicTensor output)
    {
        if (output.Shape[^1] < 2)
            throw new ShapeException(
                $"{loss.Name} needs one output unit per class (at least 2) but '{output.Layer.Name}' outputs {output.ShapeText}; " +
                "for two classes with one sigmoid unit use binary_crossentropy.");
    }
}
