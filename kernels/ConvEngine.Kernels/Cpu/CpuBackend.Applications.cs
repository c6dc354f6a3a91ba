namespace ConvEngine.Kernels.Cpu;

/// <summary>The kernels keras.applications bases add: unfused activations' backward and broadcast products.</summary>
public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void ActivationBackwardFromInput(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation)
    {
        const string Op = nameof(ActivationBackwardFromInput);
        CpuActivationKernels.BackwardFromInput(Threads, Pointer(input, length, Op, nameof(input)),
            Pointer(gradOutput, length, Op, nameof(gradOutput)), Pointer(gradInput, length, Op, nameof(gradInput)), length, activation);
    }

    /// <inheritdoc/>
    public void MultiplyBroadcast(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer output, int n, int spatial, int channels, int scaleChannels)
    {
        const string Op = nameof(MultiplyBroadcast);
        CheckScale(Op, channels, scaleChannels);
        long length = (long)n * spatial * channels;
        CpuBroadcastKernels.Multiply(Threads, Data(input, length, Op, nameof(input)), Data(scale, (long)n * scaleChannels, Op, nameof(scale)),
            Data(output, length, Op, nameof(output)), n, spatial, channels, scaleChannels);
    }

    /// <inheritdoc/>
    public void MultiplyBroadcastBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradScale, int n, int spatial, int channels, int scaleChannels)
    {
        const string Op = nameof(MultiplyBroadcastBackward);
        CheckScale(Op, channels, scaleChannels);
        long length = (long)n * spatial * channels;
        CpuBroadcastKernels.MultiplyBackward(Threads, Data(input, length, Op, nameof(input)), Data(gradOutput, length, Op, nameof(gradOutput)),
            Data(gradScale, (long)n * scaleChannels, Op, nameof(gradScale)), n, spatial, channels, scaleChannels);
    }

    private static void CheckScale(string op, int channels, int scaleChannels)
    {
        if (scaleChannels != 1 && scaleChannels != channels)
            throw new ArgumentException($"{op}: the scale has {scaleChannels} channels; it must have 1 or {channels}.");
    }
}
