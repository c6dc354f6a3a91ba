using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels;

/// <summary>
/// A compute backend: owns device memory and runs every kernel on it. Buffers hold float32
/// in channels-last order; shapes arrive already validated as geometry records, so a kernel
/// only computes. Host↔device copies happen only through <see cref="Upload"/> and <see cref="Download"/>.
/// </summary>
public partial interface IBackend : IDisposable
{
    /// <summary>"cpu", "cuda", "opencl" or "ilgpu-cpu".</summary>
    string Name { get; }
    /// <summary>The device the backend runs on.</summary>
    DeviceInfo Device { get; }
    /// <summary>Implementations per op, selectable by name (e.g. conv2d: implicit-gemm, im2col-gemm, reference).</summary>
    KernelVariants Variants { get; }

    /// <summary>A zero-filled buffer of <paramref name="length"/> floats.</summary>
    DeviceBuffer Allocate(long length);
    /// <summary>Copies host floats into <paramref name="destination"/> (as many as <paramref name="source"/> holds).</summary>
    void Upload(ReadOnlySpan<float> source, DeviceBuffer destination);
    /// <summary>Copies <paramref name="source"/>'s floats to the host (as many as <paramref name="destination"/> holds).</summary>
    void Download(DeviceBuffer source, Span<float> destination);
    /// <summary>Copies <paramref name="length"/> floats between buffers of this backend.</summary>
    void Copy(DeviceBuffer source, DeviceBuffer destination, long length);
    /// <summary>Waits until every queued kernel has finished.</summary>
    void Synchronize();

    /// <summary>output = act(conv(input, filter) + bias). Filter (KH,KW,C/groups,OC).</summary>
    void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, KernelActivation activation);
    /// <summary>Max or average pooling, NHWC, as <paramref name="g"/> resolves it.</summary>
    void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind);
    /// <summary>(N, spatial, C) → (N, C) by mean or max over the spatial positions.</summary>
    void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind);
    /// <summary>output (M,N) = act(input (M,K) · weights (K,N) + bias (N)).</summary>
    void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, KernelActivation activation);
    /// <paramref name="output"/> = <paramref name="activation"/>(<paramref name="input"/>), elementwise over <paramref name="length"/> floats.
    void Activate(DeviceBuffer input, DeviceBuffer output, long length, KernelActivation activation);
    /// <summary>Softmax (or log-softmax) over the last axis of a (rows, cols) view.</summary>
    void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log);
    /// <paramref name="output"/> = <paramref name="a"/> + <paramref name="b"/>, elementwise.
    void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length);
    /// <summary>Concatenates (pixels, channels[i]) inputs along the last axis into (pixels, Σ channels).</summary>
    void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels);
    /// <summary>Pads each image's borders with zeros, a reflection or the edge values, as <paramref name="g"/> resolves it.</summary>
    void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode);
}
