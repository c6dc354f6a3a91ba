using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels;

/// <summary>Transposed convolution (Keras Conv2DTranspose, ONNX ConvTranspose); its backward passes are the conv kernels.</summary>
public partial interface IBackend
{
    /// <summary>
    /// output (N, OH, OW, Cout) = act(convᵀ(input, filter) + bias): <see cref="Conv2DBackwardData"/> of <see cref="ConvTranspose2DGeometry.Conv"/>
    /// with the input as its output gradient, then the bias and activation. Filter (KH, KW, Cout/groups, Cin), bias (Cout) or null.
    /// </summary>
    void ConvTranspose2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in ConvTranspose2DGeometry g, KernelActivation activation);
}
