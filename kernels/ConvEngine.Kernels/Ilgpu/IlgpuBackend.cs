using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Which ILGPU accelerator a backend runs on.</summary>
public enum IlgpuDeviceKind
{
    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,
    /// <summary>An OpenCL device.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator, which runs the GPU kernels on host threads (for testing without a GPU).</summary>
    Cpu,
}

/// <summary>
/// One ILGPU kernel set over any ILGPU accelerator: CUDA, OpenCL, or ILGPU's CPU accelerator
/// (which runs the same kernels without a GPU, to prove them correct). Kernels are compiled on
/// first use and cached for the life of the backend. Not thread-safe: one caller at a time.
/// </summary>
public sealed partial class IlgpuBackend : IBackend
{
    /// <summary>
    /// The CPU accelerator simulates groups of up to 256 threads (64 warps of 4), so the tiled kernels
    /// run with the same 16×16 groups as on a GPU; ILGPU's default CPU device allows only 16 per group.
    /// </summary>
    private static CPUDevice SimulatedCpuDevice => new(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 64, numMultiprocessors: 1);

    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private bool _disposed;

    private IlgpuBackend(Context context, Accelerator accelerator, string name, DeviceInfo device)
    {
        _context = context;
        _accelerator = accelerator;
        Name = name;
        Device = device;
        RegisterVariants();
    }

    /// <summary>
    /// Opens the first device of the kind, or throws <see cref="BackendUnavailableException"/> naming what
    /// was looked for and what ILGPU does see. Never falls back to another kind.
    /// </summary>
    public static IlgpuBackend Create(IlgpuDeviceKind kind)
    {
        string name = BackendName(kind);
        Context? context = null;
        Accelerator? accelerator = null;
        try
        {
            context = OpenContext(kind);
            var device = FindDevices(context, kind).FirstOrDefault()
                ?? throw new BackendUnavailableException($"Backend '{name}' is unavailable: {Looked(kind)}, and found none. {Seen()}");
            accelerator = device.CreateAccelerator(context);
            if (accelerator.AcceleratorType != ExpectedType(kind))
            {
                // ILGPU can hand back a CPU accelerator for a device it cannot drive; refuse it rather than run slowly under a false name.
                throw new BackendUnavailableException(
                    $"Backend '{name}' is unavailable: ILGPU returned a {accelerator.AcceleratorType} accelerator instead of a {ExpectedType(kind)} device. {Seen()}");
            }
            return new IlgpuBackend(context, accelerator, name, Describe(accelerator.Device, name));
        }
        catch (Exception e)
        {
            accelerator?.Dispose();
            context?.Dispose();
            if (e is not BackendUnavailableException && IsDriverError(e))
                throw new BackendUnavailableException($"Backend '{name}' is unavailable: {Looked(kind)}, and the driver failed ({e.GetType().Name}: {e.Message}). {Seen()}");
            throw;
        }
    }

    /// <summary>The devices ILGPU can see, each as `convengine devices` lists it. Never throws for a missing or broken driver.</summary>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        var devices = new List<DeviceInfo>();
        foreach (var kind in new[] { IlgpuDeviceKind.Cuda, IlgpuDeviceKind.OpenCL, IlgpuDeviceKind.Cpu })
        {
            try
            {
                using var context = OpenContext(kind);
                devices.AddRange(FindDevices(context, kind).Select(d => Describe(d, BackendName(kind))));
            }
            catch (Exception e) when (IsDriverError(e))
            {
                // A driver that is installed but broken hides its devices; listing must still succeed.
            }
        }
        return devices;
    }

    /// <summary>A context that enables only the one kind, so a broken driver of another kind cannot get in the way.</summary>
    private static Context OpenContext(IlgpuDeviceKind kind) => Context.Create(builder => (kind switch
    {
        IlgpuDeviceKind.Cuda => builder.Cuda(),
        IlgpuDeviceKind.OpenCL => builder.OpenCL(),
        _ => builder.CPU(SimulatedCpuDevice),
    }).EnableAlgorithms());

    private static List<Device> FindDevices(Context context, IlgpuDeviceKind kind)
    {
        var found = new List<Device>();
        foreach (var device in context)
            if (device.AcceleratorType == ExpectedType(kind)) found.Add(device);
        return found;
    }

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public DeviceInfo Device { get; }
    /// <inheritdoc/>
    public KernelVariants Variants { get; } = new();

    /// <summary>The ILGPU accelerator the kernels run on.</summary>
    public Accelerator Accelerator => _accelerator;

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long length)
    {
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), $"{Name}: a buffer length cannot be negative ({length}).");
        if (length * sizeof(float) > _accelerator.MemorySize)
            throw new MemoryLimitException($"{Name}: a tensor of {length} floats needs {MemoryBudget.Describe(length * sizeof(float))}, more than the device's {MemoryBudget.Describe(_accelerator.MemorySize)}.");
        if (_accelerator.AcceleratorType == AcceleratorType.CPU)
            MemoryBudget.Check(length * sizeof(float), () => $"{Name}: a tensor of {length} floats");
        var memory = _accelerator.Allocate1D<float>(Math.Max(length, 1));
        memory.MemSetToZero();
        return new IlgpuBuffer(this, memory, length);
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, DeviceBuffer destination)
    {
        var view = View(destination);
        if (source.Length > view.Length)
            throw new ArgumentException($"{Name} upload: {source.Length} floats do not fit a buffer of {view.Length}.");
        if (source.Length > 0) view.SubView(0, source.Length).CopyFromCPU(source);
    }

    /// <inheritdoc/>
    public void Download(DeviceBuffer source, Span<float> destination)
    {
        var view = View(source);
        if (destination.Length > view.Length)
            throw new ArgumentException($"{Name} download: asked for {destination.Length} floats from a buffer of {view.Length}.");
        if (destination.Length > 0) view.SubView(0, destination.Length).CopyToCPU(destination);
    }

    /// <inheritdoc/>
    public void Copy(DeviceBuffer source, DeviceBuffer destination, long length)
    {
        var from = View(source);
        var to = View(destination);
            if (length < 0 || length > from.Length || length > to.Length)
            throw new ArgumentException($"{Name} copy: {length} floats from a buffer of {from.Length} into one of {to.Length}.");
        if (length > 0) from.SubView(0, length).CopyTo(to.SubView(0, length));
    }

    /// <inheritdoc/>
    public void Synchronize() => _accelerator.Synchronize();

    /// <summary>Frees the backend's own buffers, then the ILGPU accelerator and context (once; later calls do nothing).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _noBias?.Dispose();
        _scratch?.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>The view of a buffer of this backend, checked.</summary>
    internal ArrayView<float> View(DeviceBuffer buffer)
    {
        if (buffer is not IlgpuBuffer ilgpu || !ReferenceEquals(buffer.Backend, this))
            throw new ArgumentException($"A buffer of backend '{buffer.Backend.Name}' was passed to the {Name} backend; copy it across explicitly.");
        if (buffer.IsDisposed) throw new ObjectDisposedException(nameof(IlgpuBuffer), $"A disposed buffer was passed to the {Name} backend.");
        return ilgpu.View;
    }

    private static string BackendName(IlgpuDeviceKind kind) => kind switch
    {
        IlgpuDeviceKind.Cuda => "cuda",
        IlgpuDeviceKind.OpenCL => "opencl",
        _ => "ilgpu-cpu",
    };

    private static AcceleratorType ExpectedType(IlgpuDeviceKind kind) => kind switch
    {
        IlgpuDeviceKind.Cuda => AcceleratorType.Cuda,
        IlgpuDeviceKind.OpenCL => AcceleratorType.OpenCL,
        _ => AcceleratorType.CPU,
    };

    private static string Looked(IlgpuDeviceKind kind) => kind switch
    {
        IlgpuDeviceKind.Cuda => "looked for a CUDA device through ILGPU (needs an NVIDIA GPU and its driver, libcuda)",
        IlgpuDeviceKind.OpenCL => "looked for an OpenCL GPU or accelerator through ILGPU (needs an installed OpenCL ICD that ILGPU supports)",
        _ => "looked for ILGPU's CPU accelerator",
    };

    /// <summary>What ILGPU does see, so the message says what to choose instead.</summary>
    private static string Seen()
    {
        var seen = ListDevices().Select(d => $"{d.Backend} ({d.Name})").ToList();
        return $"ILGPU sees: {(seen.Count == 0 ? "nothing" : string.Join(", ", seen))}. Choose 'cpu' or 'ilgpu-cpu' instead.";
    }

    /// <summary>Errors that mean "this driver is missing or broken" rather than a bug of ours.</summary>
    private static bool IsDriverError(Exception e) =>
        e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException
          or CudaException or CLException or NotSupportedException or InvalidOperationException or AcceleratorException;

    private static DeviceInfo Describe(Device device, string backend) => device switch
    {
        CudaDevice cuda => new DeviceInfo(backend, cuda.Name, $"CUDA GPU ({cuda.Architecture})", cuda.MemorySize,
            $"{cuda.NumMultiprocessors} multiprocessors, warp {cuda.WarpSize}"),
        CLDevice cl => new DeviceInfo(backend, cl.Name, $"OpenCL {cl.DeviceType} ({cl.VendorName})", cl.MemorySize,
            $"{cl.NumMultiprocessors} compute units"),
        _ => new DeviceInfo(backend, "ILGPU CPU accelerator", "CPU (simulated GPU threads)", GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            $"{device.MaxNumThreads} threads, up to {device.MaxNumThreadsPerGroup} per group"),
    };
}
