using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Batch-norm training kernels and LRN's backward on the cpu backend (Cpu/BatchNorm); readable versions in <see cref="CpuBatchNormReference"/>.</summary>
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void BatchNormStatistics(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, long rows, int channels)
    {
        const string Op = nameof(BatchNormStatistics);
        CheckRowsAndChannels(Op, rows, channels);
        CpuBatchNormKernels.Statistics(Threads, Data(input, rows * channels, Op, nameof(input)),
            Data(mean, channels, Op, nameof(mean)), Data(variance, channels, Op, nameof(variance)), rows, channels);
    }

    /// <inheritdoc/>
    public void BatchNormForward(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma, DeviceBuffer? beta,
        DeviceBuffer output, long rows, int channels, float epsilon)
    {
        const string Op = nameof(BatchNormForward);
        CheckRowsAndChannels(Op, rows, channels);
        CpuBatchNormKernels.Forward(Threads, Data(input, rows * channels, Op, nameof(input)),
            Data(mean, channels, Op, nameof(mean)), Data(variance, channels, Op, nameof(variance)),
            gamma is null ? null : Data(gamma, channels, Op, nameof(gamma)), beta is null ? null : Data(beta, channels, Op, nameof(beta)),
            Data(output, rows * channels, Op, nameof(output)), rows, channels, epsilon);
    }

    /// <inheritdoc/>
    public void BatchNormBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma,
        DeviceBuffer? gradInput, DeviceBuffer? gradGamma, DeviceBuffer? gradBeta, long rows, int channels, float epsilon, bool batchStatistics)
    {
        const string Op = nameof(BatchNormBackward);
        CheckRowsAndChannels(Op, rows, channels);
        long length = rows * channels;
        CpuBatchNormKernels.Backward(Threads, Data(input, length, Op, nameof(input)), Data(gradOutput, length, Op, nameof(gradOutput)),
            Data(mean, channels, Op, nameof(mean)), Data(variance, channels, Op, nameof(variance)),
            gamma is null ? null : Data(gamma, channels, Op, nameof(gamma)),
            gradInput is null ? null : Data(gradInput, length, Op, nameof(gradInput)),
            gradGamma is null ? null : Data(gradGamma, channels, Op, nameof(gradGamma)),
            gradBeta is null ? null : Data(gradBeta, channels, Op, nameof(gradBeta)), rows, channels, epsilon, batchStatistics);
    }

    /// <inheritdoc/>
    public void MovingAverageUpdate(DeviceBuffer moving, DeviceBuffer batch, int length, float momentum, float batchScale)
    {
        const string Op = nameof(MovingAverageUpdate);
        CpuBatchNormKernels.MovingAverage(Data(moving, length, Op, nameof(moving)), Data(batch, length, Op, nameof(batch)), length, momentum, batchScale);
    }

    /// <inheritdoc/>
    public void LrnBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in LrnGeometry g)
    {
        const string Op = nameof(LrnBackward);
        long length = g.Pixels * g.Channels;
        CpuBatchNormKernels.LrnBackward(Threads, Data(input, length, Op, nameof(input)), Data(gradOutput, length, Op, nameof(gradOutput)),
            Data(gradInput, length, Op, nameof(gradInput)), g);
    }

    /// <summary>Batch statistics need at least one row; an empty channel axis is a caller's bug.</summary>
    private static void CheckRowsAndChannels(string op, long rows, int channels)
    {
        if (rows <= 0 || channels <= 0)
            throw new ArgumentException($"{op}: needs rows > 0 and channels > 0; got {rows} rows and {channels} channels.");
    }
}
