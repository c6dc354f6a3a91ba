using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks.Training;

/// <summary>The timed pass-throughs of the kernels keras.applications layers add (IBackend.Activations, IBackend.Broadcast, IBackend.ConvTranspose).</summary>
public sealed partial class TimingBackend
{
    public void ActivationBackwardFromInput(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation)
    { var t = Start(); Inner.ActivationBackwardFromInput(input, gradOutput, gradInput, length, activation); Stop(t, "ActivationBackwardFromInput", $"{activation} {length}", length, gradInput); }
    public void MultiplyBroadcast(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer output, int n, int spatial, int channels, int scaleChannels)
    { var t = Start(); Inner.MultiplyBroadcast(input, scale, output, n, spatial, channels, scaleChannels); Stop(t, "MultiplyBroadcast", $"{n}x{spatial}x{channels} * {scaleChannels}", (long)n * spatial * channels, output); }
    public void ConvTranspose2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in ConvTranspose2DGeometry g, KernelActivation activation)
    { var t = Start(); Inner.ConvTranspose2D(input, filter, bias, output, g, activation); Stop(t, new KernelCall("ConvTranspose2D", $"{g.InputShape} * {g.FilterShape} -> {g.OutputShape} {activation}", g.OutputShape.Length, [filter, bias, output]) { Flops = g.Flops }); }
    public void MultiplyBroadcastBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradScale, int n, int spatial, int channels, int scaleChannels)
    { var t = Start(); Inner.MultiplyBroadcastBackward(input, gradOutput, gradScale, n, spatial, channels, scaleChannels); Stop(t, "MultiplyBroadcastBackward", $"{n}x{spatial}x{channels} * {scaleChannels}", (long)n * scaleChannels, gradScale); }
}
