using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Hand-written SIMD C# kernels (AVX-512 / AVX2 / scalar, chosen at run time), multithreaded.
/// The fast path on machines without an accelerator.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    public CpuBackend(int? threads = null, SimdLevel? simd = null)
    {
        Threads = threads ?? Environment.ProcessorCount;
        if (Threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), "The cpu backend needs at least one thread.");
        Simd = SimdSupport.Resolve(simd);
        Device = new DeviceInfo("cpu", CpuName(), "CPU", TotalMemory(),
            $"{Simd} ({SimdSupport.FloatsPerVector(Simd)} floats/vector), {Threads} threads");
        Variants.Register("conv2d", "reference");
        Variants.Register("dense", "reference");
        Variants.Register("pool2d", "reference");
    }

    public string Name => "cpu";
    public DeviceInfo Device { get; }
    public KernelVariants Variants { get; } = new();
    public int Threads { get; }
    public SimdLevel Simd { get; }

    public DeviceBuffer Allocate(long length) => new CpuBuffer(this, length);

    public void Upload(ReadOnlySpan<float> source, DeviceBuffer destination) => source.CopyTo(Buf(destination));
    public void Download(DeviceBuffer source, Span<float> destination) => Buf(source)[..destination.Length].CopyTo(destination);
    public void Copy(DeviceBuffer source, DeviceBuffer destination, long length) => Buf(source)[..(int)length].CopyTo(Buf(destination));
    public void Synchronize() { }

    public void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, Activation activation)
    {
        switch (Variants["conv2d"])
        {
            default:
                CpuReferenceKernels.Conv2D(Buf(input), Buf(filter), Opt(bias), Buf(output), g, activation);
                break;
        }
    }

    public void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind) =>
        CpuReferenceKernels.Pool2D(Buf(input), Buf(output), g, kind);

    public void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind) =>
        CpuReferenceKernels.GlobalPool(Buf(input), Buf(output), n, spatial, channels, kind);

    public void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, Activation activation) =>
        CpuReferenceKernels.Dense(Buf(input), Buf(weights), Opt(bias), Buf(output), m, k, n, activation);

    public void Activate(DeviceBuffer input, DeviceBuffer output, long length, Activation activation) =>
        CpuReferenceKernels.Activate(Buf(input)[..(int)length], Buf(output), activation);

    public void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log) =>
        CpuReferenceKernels.Softmax(Buf(input), Buf(output), rows, cols, log);

    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length) =>
        CpuReferenceKernels.Add(Buf(a), Buf(b), Buf(output)[..(int)length]);

    public void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels) =>
        CpuReferenceKernels.Concat(inputs.Select(b => ((CpuBuffer)b).Data).ToArray(), channels, Buf(output), pixels);

    public void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode) =>
        CpuReferenceKernels.Pad2D(Buf(input), Buf(output), g, mode);

    public void Dispose() { }

    internal Span<float> Buf(DeviceBuffer buffer)
    {
        if (buffer is not CpuBuffer cpu || !ReferenceEquals(buffer.Backend, this))
            throw new ArgumentException($"A buffer of backend '{buffer.Backend.Name}' was passed to the cpu backend; copy it across explicitly.");
        if (buffer.IsDisposed) throw new ObjectDisposedException("CpuBuffer");
        return cpu.Span;
    }

    internal ReadOnlySpan<float> Opt(DeviceBuffer? buffer) => buffer is null ? ReadOnlySpan<float>.Empty : Buf(buffer);

    private static string CpuName()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static long TotalMemory() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}
