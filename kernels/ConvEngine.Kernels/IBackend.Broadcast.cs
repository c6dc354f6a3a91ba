namespace ConvEngine.Kernels;

/// <summary>
/// Products where one operand is broadcast over the spatial positions of the other: Keras's Multiply of
/// (N, 1, 1, C) by (N, H, W, C), as squeeze-and-excite blocks gate channels, and per-sample masks.
/// Data is (n, spatial, channels) channels-last; the scale is (n, scaleChannels) with scaleChannels 1 or channels.
/// </summary>
public partial interface IBackend
{
    /// <summary>output[b, s, c] = input[b, s, c] · scale[b, scaleChannels == 1 ? 0 : c].</summary>
    void MultiplyBroadcast(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer output, int n, int spatial, int channels, int scaleChannels);

    /// <summary>
    /// The gradient of <see cref="MultiplyBroadcast"/> with respect to its scale: gradScale[b, k] = Σ input · gradOutput over
    /// the spatial positions (and over the channels when scaleChannels is 1). The input's gradient is MultiplyBroadcast of gradOutput.
    /// </summary>
    void MultiplyBroadcastBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradScale, int n, int spatial, int channels, int scaleChannels);
}
