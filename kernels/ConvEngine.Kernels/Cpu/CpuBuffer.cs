namespace ConvEngine.Kernels.Cpu;

/// <summary>Host memory of the cpu backend: a pinned array, so kernels may take pointers without fixing it.</summary>
public sealed class CpuBuffer : DeviceBuffer
{
    internal CpuBuffer(IBackend backend, long length) : base(backend, length)
    {
        if (length > Array.MaxLength)
            throw new MemoryLimitException($"A cpu buffer holds at most {Array.MaxLength} floats; a tensor of {length} floats was asked for.");
        MemoryBudget.Check(length * sizeof(float), () => $"A tensor of {length} floats");
        Data = GC.AllocateArray<float>((int)length, pinned: true);
    }

    /// <summary>The floats, pinned in memory; empty once the buffer is disposed.</summary>
    public float[] Data { get; private set; }
    /// <summary>The floats as a span, read and written in place.</summary>
    public Span<float> Span => Data;

    /// <inheritdoc/>
    protected override void Release() => Data = [];
}
