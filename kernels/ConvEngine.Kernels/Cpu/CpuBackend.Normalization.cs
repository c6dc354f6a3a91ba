using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Normalisation and layout kernels of the cpu backend (Cpu/Normalization); readable versions in <see cref="CpuNormalizationReference"/>.</summary>
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void ChannelAffine(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer shift, DeviceBuffer output, long pixels, int channels)
    {
        const string Op = nameof(ChannelAffine);
        if (pixels < 0 || channels <= 0)
            throw new ArgumentException($"{Op}: needs pixels ≥ 0 and channels > 0; got {pixels} and {channels}.");
        CpuNormalizationKernels.ChannelAffine(Threads,
            Data(input, pixels * channels, Op, nameof(input)), Data(scale, channels, Op, nameof(scale)),
            Data(shift, channels, Op, nameof(shift)), Data(output, pixels * channels, Op, nameof(output)), pixels, channels);
    }

    /// <inheritdoc/>
    public void Lrn(DeviceBuffer input, DeviceBuffer output, in LrnGeometry g)
    {
        const string Op = nameof(Lrn);
        long length = g.Pixels * g.Channels;
        CpuNormalizationKernels.Lrn(Threads, Data(input, length, Op, nameof(input)), Data(output, length, Op, nameof(output)), g);
    }

    /// <inheritdoc/>
    public void Transpose(DeviceBuffer input, DeviceBuffer output, in TransposeGeometry g)
    {
        const string Op = nameof(Transpose);
        CpuNormalizationKernels.Transpose(Threads, Data(input, g.Length, Op, nameof(input)), Data(output, g.Length, Op, nameof(output)), g);
    }
}
