using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Transposed convolution: the conv's backward-data kernels (tiled or gather, as selected for it), then the bias and activation.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, int, int, KernelActivation>? _convTransposeEpilogue;

    /// <inheritdoc/>
    public void ConvTranspose2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in ConvTranspose2DGeometry g, KernelActivation activation)
    {
        const string op = "ConvTranspose2D";
        int count = Count(g.OutputShape.Length, op);
        var b = OptionalBias(bias, g.OutputChannels, op);
        Conv2DBackwardData(input, filter, output, g.Conv);
        if (count == 0 || (bias is null && activation.Kind == ActivationKind.None)) return;
        _convTransposeEpilogue ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, KernelActivation>(IlgpuConvTransposeKernels.BiasActivate);
        _convTransposeEpilogue(count, View(output, count, op, "output"), b, bias is null ? 0 : 1, g.OutputChannels, activation);
    }
}
