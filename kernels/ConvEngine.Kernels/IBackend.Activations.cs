namespace ConvEngine.Kernels;

/// <summary>
/// The activations that do not fuse into conv and dense kernels (ReLU6 and Keras's clipped ReLU, ELU, SELU, swish,
/// GELU, hard sigmoid, softplus, softsign, exponential): <see cref="Activate"/> runs them as a pass of their own,
/// and their gradient is written from the activation's input, since most are not functions of their output.
/// </summary>
public partial interface IBackend
{
    /// <summary>gradInput = gradOutput · act'(x), from the activation's input x; any <see cref="ActivationKind"/>.</summary>
    void ActivationBackwardFromInput(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation);
}
