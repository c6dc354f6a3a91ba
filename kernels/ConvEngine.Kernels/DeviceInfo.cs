namespace ConvEngine.Kernels;

/// <summary>A compute device as `convengine devices` shows it.</summary>
/// <param name="Backend">The name that selects it: cpu, cuda, opencl, ilgpu-cpu.</param>
/// <param name="Parallelism">SIMD width and threads for the CPU; multiprocessors or compute units for accelerators.</param>
/// <param name="Name">The device's own name, e.g. the processor model or the GPU.</param>
/// <param name="Kind">What kind of device: "CPU", "CUDA GPU (…)", "OpenCL GPU (…)".</param>
/// <param name="MemoryBytes">Memory the device has, in bytes.</param>
public sealed record DeviceInfo(string Backend, string Name, string Kind, long MemoryBytes, string Parallelism);

/// <summary>The requested backend does not exist on this machine. Never answered by a silent fallback.</summary>
public sealed class BackendUnavailableException(string message) : InvalidOperationException(message);
