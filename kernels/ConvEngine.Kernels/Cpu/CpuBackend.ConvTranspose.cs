using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Transposed convolution: variants "backward-data" (default, <see cref="CpuConvTransposeKernels.Forward"/>) and "reference".</summary>
public sealed partial class CpuBackend
{
    /// <summary>The variant names of "conv-transpose2d"; registered by the constructor.</summary>
    private static readonly string[] ConvTransposeVariants = ["backward-data", ReferenceVariant];

    /// <inheritdoc/>
    public void ConvTranspose2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in ConvTranspose2DGeometry g, KernelActivation activation)
    {
        const string Op = nameof(ConvTranspose2D);
        var x = Data(input, g.InputShape.Length, Op, nameof(input));
        var f = Data(filter, g.FilterShape.Length, Op, nameof(filter));
        var b = bias is null ? null : Data(bias, g.OutputChannels, Op, nameof(bias));
        var y = Data(output, g.OutputShape.Length, Op, nameof(output));
        if (Variants["conv-transpose2d"] == ReferenceVariant)
            CpuConvTransposeKernels.Reference(x, f, b, y, g, activation);
        else
            CpuConvTransposeKernels.Forward(Threads, Simd, x, f, b, y, g, activation);
    }
}
