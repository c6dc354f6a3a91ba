using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels;

/// <summary>
/// Backward passes fused across the layers of a conv block (conv + activation → pool), so the training step makes
/// one pass over the block's large activations instead of three. Each has a default that composes the plain
/// kernels, which is what a backend without a fused kernel runs; the results are the same up to float rounding.
/// </summary>
public partial interface IBackend
{
    /// <summary>
    /// gradInput = act'(input) ⊙ Pool2DBackward(gradOutput), where <paramref name="input"/> is the pool's input and
    /// also the activation's output (act' written from it, as <see cref="ActivationBackward"/>); with
    /// <paramref name="gradBias"/>, also the bias gradient of the layer under the activation: the column sums of
    /// gradInput over its (N·H·W, C) rows.
    /// </summary>
    void Pool2DActivationBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, DeviceBuffer? gradBias,
        in Pool2DGeometry g, PoolKind kind, KernelActivation activation)
    {
        long length = g.InputShape.Length;
        Pool2DBackward(input, gradOutput, gradInput, g, kind);
        if (activation.Kind != ActivationKind.None) ActivationBackward(input, gradInput, gradInput, length, activation);
        if (gradBias is not null) BiasBackward(gradInput, gradBias, (long)g.N * g.H * g.W, g.C);
    }

    /// <summary>gradInput = gradOutput ⊙ act'(output) (as <see cref="ActivationBackward"/>) and gradBias = its column sums over (rows, channels).</summary>
    void ActivationBiasBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, DeviceBuffer gradBias,
        long rows, int channels, KernelActivation activation)
    {
        ActivationBackward(output, gradOutput, gradInput, rows * channels, activation);
        BiasBackward(gradInput, gradBias, rows, channels);
    }
}
