using ILGPU;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>
/// Kernels for the layers of keras.applications bases: the activations that do not fuse (one thread per element,
/// through the same <see cref="ActivationMath"/> as the cpu), and products with a scale broadcast over the spatial
/// positions (squeeze-and-excite gates).
/// </summary>
internal static class IlgpuApplicationKernels
{
    /// <summary>output = act(input), any kind.</summary>
    public static void Activate(Index1D index, ArrayView<float> input, ArrayView<float> output, KernelActivation activation) =>
        output[index] = ActivationMath.Apply(input[index], activation);

    /// <summary>gradInput = gradOutput · act'(x) from the activation's input x.</summary>
    public static void ActivationBackwardFromInput(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradInput, KernelActivation activation) =>
        gradInput[index] = gradOutput[index] * ActivationMath.DerivativeFromInput(input[index], activation);

    /// <summary>One thread per element of (n, spatial, channels): output = input · scale[b, c or 0].</summary>
    public static void MultiplyBroadcast(Index1D index, ArrayView<float> input, ArrayView<float> scale, ArrayView<float> output, int spatial, int channels, int scaleChannels)
    {
        int c = index % channels;
        int b = index / channels / spatial;
        output[index] = input[index] * scale[b * scaleChannels + (scaleChannels == 1 ? 0 : c)];
    }

    /// <summary>One thread per scale value (b, k): Σ input · gradOutput over the positions (and channels when the scale has one).</summary>
    public static void MultiplyBroadcastBackward(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradScale, int spatial, int channels, int scaleChannels)
    {
        int k = index % scaleChannels;
        int b = index / scaleChannels;
        int c0 = scaleChannels == 1 ? 0 : k, c1 = scaleChannels == 1 ? channels : k + 1;
        float sum = 0f;
        for (int s = 0; s < spatial; s++)
        {
            int row = (b * spatial + s) * channels;
            for (int c = c0; c < c1; c++) sum += input[row + c] * gradOutput[row + c];
        }
        gradScale[index] = sum;
    }
}
