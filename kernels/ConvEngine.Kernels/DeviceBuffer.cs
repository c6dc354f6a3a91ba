namespace ConvEngine.Kernels;

/// <summary>Memory owned by one backend; only that backend's kernels read or write it.</summary>
public abstract class DeviceBuffer : IDisposable
{
    /// <summary>Records the backend that owns the memory and its length in floats.</summary>
    protected DeviceBuffer(IBackend backend, long length)
    {
        Backend = backend;
        Length = length;
    }

    /// <summary>The backend whose memory this is; only its kernels may read or write it.</summary>
    public IBackend Backend { get; }
    /// <summary>Number of floats.</summary>
    public long Length { get; }
    /// <summary>Whether <see cref="Dispose"/> has freed the memory.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Frees the memory (once; later calls do nothing).</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the backend's memory; called once, by <see cref="Dispose"/>.</summary>
    protected abstract void Release();
}
