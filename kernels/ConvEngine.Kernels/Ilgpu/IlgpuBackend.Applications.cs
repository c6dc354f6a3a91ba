using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Unfused activations and broadcast products (<see cref="IlgpuApplicationKernels"/>), compiled on first use.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, KernelActivation>? _activateUnfused;
    private Action<Index1D, View, View, View, KernelActivation>? _activationBackwardFromInput;
    private Action<Index1D, View, View, View, int, int, int>? _multiplyBroadcast;
    private Action<Index1D, View, View, View, int, int, int>? _multiplyBroadcastBackward;

    /// <summary>An activation outside the fused set, as a pass of its own (kept out of the fused kernels' code).</summary>
    private void ActivateUnfused(View x, View y, int count, KernelActivation activation)
    {
        _activateUnfused ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, KernelActivation>(IlgpuApplicationKernels.Activate);
        if (count > 0) _activateUnfused(count, x, y, activation);
    }

    /// <inheritdoc/>
    public void ActivationBackwardFromInput(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation)
    {
        const string op = "ActivationBackwardFromInput";
        int count = Count(length, op);
        var (x, gy, gx) = (View(input, count, op, "input"), View(gradOutput, count, op, "gradOutput"), View(gradInput, count, op, "gradInput"));
        _activationBackwardFromInput ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, KernelActivation>(IlgpuApplicationKernels.ActivationBackwardFromInput);
        if (count > 0) _activationBackwardFromInput(count, x, gy, gx, activation);
    }

    /// <inheritdoc/>
    public void MultiplyBroadcast(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer output, int n, int spatial, int channels, int scaleChannels)
    {
        const string op = "MultiplyBroadcast";
        CheckScale(op, channels, scaleChannels);
        int count = Count((long)n * spatial * channels, op);
        var (x, s, y) = (View(input, count, op, "input"), View(scale, (long)n * scaleChannels, op, "scale"), View(output, count, op, "output"));
        _multiplyBroadcast ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, int>(IlgpuApplicationKernels.MultiplyBroadcast);
        if (count > 0) _multiplyBroadcast(count, x, s, y, spatial, channels, scaleChannels);
    }

    /// <inheritdoc/>
    public void MultiplyBroadcastBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradScale, int n, int spatial, int channels, int scaleChannels)
    {
        const string op = "MultiplyBroadcastBackward";
        CheckScale(op, channels, scaleChannels);
        int length = Count((long)n * spatial * channels, op), count = n * scaleChannels;
        var (x, gy, gs) = (View(input, length, op, "input"), View(gradOutput, length, op, "gradOutput"), View(gradScale, count, op, "gradScale"));
        _multiplyBroadcastBackward ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, int>(IlgpuApplicationKernels.MultiplyBroadcastBackward);
        if (count > 0) _multiplyBroadcastBackward(count, x, gy, gs, spatial, channels, scaleChannels);
    }

    private void CheckScale(string op, int channels, int scaleChannels)
    {
        if (scaleChannels != 1 && scaleChannels != channels)
            throw new ArgumentException($"{op} on {Name}: the scale has {scaleChannels} channels; it must have 1 or {channels}.");
    }
}
