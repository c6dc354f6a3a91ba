using ConvEngine.Kernels;
using ConvEngine.Layers;

namespace ConvEngine.Losses;

/// <summary>Keras mean_squared_error: mean over the last axis of (y − t)², then over the batch.</summary>
public sealed class MeanSquaredError() : Loss(false)
{
    /// <inheritdoc/>
    public override string Name => "mean_squared_error";
    /// <inheritdoc/>
    public override string ClassName => "MeanSquaredError";

    internal override LossPlan Plan(SymbolicTensor output, ActivatedLayer? outputLayer) => new(LossKind.MeanSquaredError, null);
}
