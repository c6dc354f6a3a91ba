using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Ilgpu;

public enum IlgpuDeviceKind { Cuda, OpenCL, Cpu }

/// <summary>
/// One ILGPU kernel set over any ILGPU accelerator: CUDA, OpenCL, or ILGPU's CPU accelerator
/// (which runs the same kernels without a GPU, to prove them correct).
/// </summary>
public sealed class IlgpuBackend : IBackend
{
    public static IlgpuBackend Create(IlgpuDeviceKind kind) => throw new NotImplementedException("ILGPU backend: to be written");

    /// <summary>The devices ILGPU can see, each as `convengine devices` lists it.</summary>
    public static IReadOnlyList<DeviceInfo> ListDevices() => [];

    private IlgpuBackend() => throw new NotImplementedException();

    public string Name => throw new NotImplementedException();
    public DeviceInfo Device => throw new NotImplementedException();
    public KernelVariants Variants => throw new NotImplementedException();
    public DeviceBuffer Allocate(long length) => throw new NotImplementedException();
    public void Upload(ReadOnlySpan<float> source, DeviceBuffer destination) => throw new NotImplementedException();
    public void Download(DeviceBuffer source, Span<float> destination) => throw new NotImplementedException();
    public void Copy(DeviceBuffer source, DeviceBuffer destination, long length) => throw new NotImplementedException();
    public void Synchronize() => throw new NotImplementedException();
    public void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, Activation activation) => throw new NotImplementedException();
    public void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind) => throw new NotImplementedException();
    public void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind) => throw new NotImplementedException();
    public void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, Activation activation) => throw new NotImplementedException();
    public void Activate(DeviceBuffer input, DeviceBuffer output, long length, Activation activation) => throw new NotImplementedException();
    public void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log) => throw new NotImplementedException();
    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length) => throw new NotImplementedException();
    public void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels) => throw new NotImplementedException();
    public void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode) => throw new NotImplementedException();
    public void Conv2DBackwardData(DeviceBuffer gradOutput, DeviceBuffer filter, DeviceBuffer gradInput, in Conv2DGeometry g) => throw new NotImplementedException();
    public void Conv2DBackwardFilter(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradFilter, in Conv2DGeometry g) => throw new NotImplementedException();
    public void BiasBackward(DeviceBuffer gradOutput, DeviceBuffer gradBias, long rows, int channels) => throw new NotImplementedException();
    public void Pool2DBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pool2DGeometry g, PoolKind kind) => throw new NotImplementedException();
    public void GlobalPoolBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, int n, int spatial, int channels, PoolKind kind) => throw new NotImplementedException();
    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate) => throw new NotImplementedException();
    public void ActivationBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, Activation activation) => throw new NotImplementedException();
    public void SoftmaxBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, int rows, int cols, bool log) => throw new NotImplementedException();
    public void Split(DeviceBuffer input, IReadOnlyList<DeviceBuffer> outputs, IReadOnlyList<int> channels, long pixels) => throw new NotImplementedException();
    public void Pad2DBackward(DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pad2DGeometry g, PadMode mode) => throw new NotImplementedException();
    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length) => throw new NotImplementedException();
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y, long length) => throw new NotImplementedException();
    public void Fill(DeviceBuffer buffer, float value, long length) => throw new NotImplementedException();
    public void Dropout(DeviceBuffer input, DeviceBuffer mask, DeviceBuffer output, long length, float rate, ulong seed) => throw new NotImplementedException();
    public void Loss(LossKind kind, DeviceBuffer prediction, DeviceBuffer target, DeviceBuffer lossPerRow, DeviceBuffer gradPrediction, int rows, int cols) => throw new NotImplementedException();
    public void AdamUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer m, DeviceBuffer v, long length, float stepSize, float beta1, float beta2, float epsilon) => throw new NotImplementedException();
    public void SgdUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer velocity, long length, float learningRate, float momentum, bool nesterov) => throw new NotImplementedException();
    public void Dispose() { }
}
