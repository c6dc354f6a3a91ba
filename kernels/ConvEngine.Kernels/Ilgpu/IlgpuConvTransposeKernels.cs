using ILGPU;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>The epilogue of a transposed convolution (whose body is the conv's backward-data kernel): bias and activation.</summary>
internal static class IlgpuConvTransposeKernels
{
    /// <summary>One thread per output element: y = act(y + bias[c]).</summary>
    public static void BiasActivate(Index1D index, ArrayView<float> output, ArrayView<float> bias, int hasBias, int channels, KernelActivation activation) =>
        output[index] = ActivationMath.Apply(output[index] + (hasBias != 0 ? bias[index % channels] : 0f), activation);
}
