using ILGPU;
using ILGPU.Runtime;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Device memory of an ILGPU backend: a dense 1-D buffer of floats on its accelerator.</summary>
internal sealed class IlgpuBuffer : DeviceBuffer
{
    internal IlgpuBuffer(IlgpuBackend backend, MemoryBuffer1D<float, Stride1D.Dense> memory, long length) : base(backend, length)
    {
        Memory = memory;
    }

    /// <summary>The ILGPU allocation; it may hold one spare float, since ILGPU cannot allocate zero.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Memory { get; }

    /// <summary>Exactly <see cref="DeviceBuffer.Length"/> floats.</summary>
    internal ArrayView<float> View => ((ArrayView<float>)Memory.View).SubView(0, Length);

    protected override void Release() => Memory.Dispose();
}
