using ConvEngine.Kernels.Cpu.Forward;
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
        Variants.Register("conv2d", "im2col-gemm", Im2colBufferedVariant, ReferenceVariant);
        Variants.Register("dense", "gemm", ReferenceVariant);
        Variants.Register("pool2d", "direct", ReferenceVariant);
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

    /// <summary>
    /// Variants: "im2col-gemm" (default; im2col gathered straight into the GEMM's packed A panels,
    /// <see cref="CpuConvKernels.ImplicitGemm"/>), "im2col-buffered" (CpuIm2Col rows into a per-thread
    /// buffer, then the GEMM, <see cref="CpuConvKernels.Im2colGemm"/>) and "reference". Under both GEMM
    /// variants a depthwise conv (groups = C) runs <see cref="CpuConvKernels.DepthwiseDirect"/>,
    /// since its per-group GEMM would be almost all tile padding.
    /// </summary>
    public unsafe void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, Activation activation)
    {
        string variant = Variants["conv2d"];
        if (variant == ReferenceVariant)
        {
            CpuReferenceKernels.Conv2D(Buf(input), Buf(filter), Opt(bias), Buf(output), g, activation);
            return;
        }
        fixed (float* x = Buf(input), f = Buf(filter), b = Opt(bias), y = Buf(output))
        {
            if (CpuConvKernels.IsDepthwise(g)) CpuConvKernels.DepthwiseDirect(Simd, Threads, x, f, b, y, g, activation);
            else if (variant == Im2colBufferedVariant) CpuConvKernels.Im2colGemm(Simd, Threads, x, f, b, y, g, activation);
            else CpuConvKernels.ImplicitGemm(Simd, Threads, x, f, b, y, g, activation);
        }
    }

    /// <summary>Variants "direct" (default) and "reference".</summary>
    public unsafe void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind)
    {
        if (Variants["pool2d"] == ReferenceVariant)
        {
            CpuReferenceKernels.Pool2D(Buf(input), Buf(output), g, kind);
            return;
        }
        fixed (float* x = Buf(input), y = Buf(output))
            CpuPoolKernels.Pool2DDirect(Simd, Threads, x, y, g, kind);
    }

    public unsafe void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind)
    {
        fixed (float* x = Buf(input), y = Buf(output))
            CpuElementwiseKernels.GlobalPool(Simd, Threads, x, y, n, spatial, channels, kind);
    }

    /// <summary>Variants "gemm" (default: CpuGemm with bias and activation fused) and "reference".</summary>
    public unsafe void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, Activation activation)
    {
        if (Variants["dense"] == ReferenceVariant)
        {
            CpuReferenceKernels.Dense(Buf(input), Buf(weights), Opt(bias), Buf(output), m, k, n, activation);
            return;
        }
        fixed (float* x = Buf(input), w = Buf(weights), b = Opt(bias), y = Buf(output))
            CpuGemm.Multiply(Simd, Threads, false, false, m, n, k, x, Math.Max(1, k), w, Math.Max(1, n), y, Math.Max(1, n),
                accumulate: false, new GemmEpilogue(b, activation));
    }

    public unsafe void Activate(DeviceBuffer input, DeviceBuffer output, long length, Activation activation)
    {
        fixed (float* x = Buf(input), y = Buf(output))
            CpuElementwiseKernels.Activate(Simd, Threads, x, y, length, activation);
    }

    public unsafe void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log)
    {
        fixed (float* x = Buf(input), y = Buf(output))
            CpuElementwiseKernels.Softmax(Simd, Threads, x, y, rows, cols, log);
    }

    public unsafe void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    {
        fixed (float* x = Buf(a), z = Buf(b), y = Buf(output))
            CpuElementwiseKernels.Add(Simd, Threads, x, z, y, length);
    }

    public unsafe void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels)
    {
        // CpuBuffer arrays are pinned for their lifetime, so their addresses stay valid outside a fixed block.
        var sources = new float*[inputs.Count];
        for (int t = 0; t < inputs.Count; t++) sources[t] = Pointer(inputs[t]);
        CpuElementwiseKernels.Concat(Threads, sources, channels.ToArray(), Pointer(output), pixels);
    }

    public unsafe void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode)
    {
        fixed (float* x = Buf(input), y = Buf(output))
            CpuElementwiseKernels.Pad2D(Threads, x, y, g, mode);
    }

    public void Dispose() { }

    internal Span<float> Buf(DeviceBuffer buffer)
    {
        if (buffer is not CpuBuffer cpu || !ReferenceEquals(buffer.Backend, this))
            throw new ArgumentException($"A buffer of backend '{buffer.Backend.Name}' was passed to the cpu backend; copy it across explicitly.");
        if (buffer.IsDisposed) throw new ObjectDisposedException("CpuBuffer");
        return cpu.Span;
    }

    internal ReadOnlySpan<float> Opt(DeviceBuffer? buffer) => buffer is null ? ReadOnlySpan<float>.Empty : Buf(buffer);

    /// <summary>Address of a (pinned) cpu buffer's first float, after the same checks as <see cref="Buf"/>.</summary>
    private unsafe float* Pointer(DeviceBuffer buffer) =>
        (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(Buf(buffer)));

    /// <summary>The readable loop version of each op, kept selectable (CpuReferenceKernels).</summary>
    public const string ReferenceVariant = "reference";
    private const string Im2colBufferedVariant = "im2col-buffered";

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
