using ConvEngine.Kernels;
using ConvEngine.Layers;

namespace ConvEngine.Losses;

/// <summary>
/// Keras binary_crossentropy, mean over the last axis. After a sigmoid it is computed from the logits,
/// max(z,0) − z·t + log(1 + e^−|z|) without clipping (Keras 2's _get_logits); otherwise on probabilities clipped to [1e−7, 1−1e−7].
/// </summary>
public sealed class BinaryCrossentropy(bool fromLogits = false) : Loss(fromLogits)
{
    /// <inheritdoc/>
    public override string Name => "binary_crossentropy";
    /// <inheritdoc/>
    public override string ClassName => "BinaryCrossentropy";

    internal override LossPlan Plan(SymbolicTensor output, ActivatedLayer? outputLayer)
    {
        if (FromLogits) return new LossPlan(LossKind.SigmoidBinaryCrossEntropy, null);
        if (outputLayer is { Activation.IsSigmoid: true }) return new LossPlan(LossKind.SigmoidBinaryCrossEntropy, outputLayer);
        return new LossPlan(LossKind.BinaryCrossEntropy, null);
    }
}
