using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Normalisation and layout kernels (<see cref="IlgpuNormalizationKernels"/>), compiled on first use.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, View, View, int>? _channelAffine;
    private Action<Index1D, View, View, LrnGeometry>? _lrn;
    private Action<Index1D, View, View, TransposeGeometry>? _transpose;

    /// <inheritdoc/>
    public void ChannelAffine(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer shift, DeviceBuffer output, long pixels, int channels)
    {
        if (pixels < 0 || channels <= 0)
            throw new ArgumentException($"ChannelAffine on {Name}: needs pixels ≥ 0 and channels > 0; got {pixels} and {channels}.");
        _channelAffine ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, int>(IlgpuNormalizationKernels.ChannelAffine);
        int count = Count(pixels * channels, "ChannelAffine");
        if (count > 0) _channelAffine(count, View(input), View(scale), View(shift), View(output), channels);
    }

    /// <inheritdoc/>
    public void Lrn(DeviceBuffer input, DeviceBuffer output, in LrnGeometry g)
    {
        _lrn ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, LrnGeometry>(IlgpuNormalizationKernels.Lrn);
        int count = Count(g.Pixels * g.Channels, "Lrn");
        if (count > 0) _lrn(count, View(input), View(output), g);
    }

    /// <inheritdoc/>
    public void Transpose(DeviceBuffer input, DeviceBuffer output, in TransposeGeometry g)
    {
        _transpose ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, TransposeGeometry>(IlgpuNormalizationKernels.Transpose);
        int count = Count(g.Length, "Transpose");
        if (count > 0) _transpose(count, View(input), View(output), g);
    }
}
