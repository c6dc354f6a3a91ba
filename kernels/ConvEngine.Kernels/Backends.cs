using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Ilgpu;

namespace ConvEngine.Kernels;

/// <summary>Backends by name: cpu, cuda, opencl, ilgpu-cpu, auto (CUDA if present, else cpu).</summary>
public static class Backends
{
    /// <summary>The backend names <see cref="Create"/> accepts; "auto" is CUDA when present, else cpu.</summary>
    public static readonly string[] Names = ["cpu", "cuda", "opencl", "ilgpu-cpu", "auto"];

    /// <summary>Creates the named backend, or throws <see cref="BackendUnavailableException"/> if it is absent here.</summary>
    public static IBackend Create(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cpu" => new CpuBackend(),
        "cuda" => IlgpuBackend.Create(IlgpuDeviceKind.Cuda),
        "opencl" => IlgpuBackend.Create(IlgpuDeviceKind.OpenCL),
        "ilgpu-cpu" => IlgpuBackend.Create(IlgpuDeviceKind.Cpu),
        "auto" => IlgpuBackend.ListDevices().Any(d => d.Backend == "cuda")
            ? IlgpuBackend.Create(IlgpuDeviceKind.Cuda)
            : new CpuBackend(),
        _ => throw new ArgumentException($"Unknown backend '{name}'; choose one of {string.Join(", ", Names)}."),
    };

    /// <summary>Every device present: the cpu backend's processor, then what ILGPU finds.</summary>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        using var cpu = new CpuBackend();
        return [cpu.Device, .. IlgpuBackend.ListDevices()];
    }
}
