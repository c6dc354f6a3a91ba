using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Hand-written SIMD C# kernels (AVX-512 / AVX2 / scalar, chosen at run time), multithreaded.
/// The fast path on machines without an accelerator.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>A cpu backend on <paramref name="threads"/> worker threads (default: one per processor) at <paramref name="simd"/> (default: CONVENGINE_SIMD, else the widest the processor has).</summary>
    /// <param name="threads">Worker threads of every kernel; all logical processors by default.</param>
    /// <param name="simd">The widest vectors to use; CONVENGINE_SIMD, else what the processor has.</param>
    /// <param name="tuning">Whether conv shapes are timed once per machine (<see cref="CpuTuner"/>); CONVENGINE_TUNING, else on.</param>
    public CpuBackend(int? threads = null, SimdLevel? simd = null, TuningMode? tuning = null)
    {
        Threads = threads ?? Environment.ProcessorCount;
        if (Threads <= 0) throw new ArgumentOutOfRangeException(nameof(threads), "The cpu backend needs at least one thread.");
        Simd = SimdSupport.Resolve(simd);
        Tuning = new CpuTuner(tuning ?? CpuTuner.ModeFromEnvironment());
        Device = new DeviceInfo("cpu", CpuIdentity.ModelName, "CPU", TotalMemory(),
            $"{Simd} ({SimdSupport.FloatsPerVector(Simd)} floats/vector), {Threads} threads");
        Variants.Register("conv2d", ImplicitGemmVariant, Im2colGemmVariant, DirectConvVariant, ReferenceVariant);
        Variants.Register("dense", "gemm", ReferenceVariant);
        Variants.Register("pool2d", "direct", ReferenceVariant);
        RegisterTrainingVariants();
        Variants.Register("conv-transpose2d", ConvTransposeVariants);
        RegisterAugmentVariants();
    }

    /// <inheritdoc/>
    public string Name => "cpu";
    /// <inheritdoc/>
    public DeviceInfo Device { get; }
    /// <inheritdoc/>
    public KernelVariants Variants { get; } = new();
    /// <summary>The number of worker threads the kernels split their work over.</summary>
    public int Threads { get; }
    /// <summary>The vector path the kernels take.</summary>
    public SimdLevel Simd { get; }
    /// <summary>How conv shapes get their variant and GEMM blocking (timed once per machine, or the defaults).</summary>
    public CpuTuner Tuning { get; }

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long length) => new CpuBuffer(this, length);

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, DeviceBuffer destination) => source.CopyTo(Buf(destination));
    /// <inheritdoc/>
    public void Download(DeviceBuffer source, Span<float> destination) => Buf(source)[..destination.Length].CopyTo(destination);
    /// <inheritdoc/>
    public void Copy(DeviceBuffer source, DeviceBuffer destination, long length) => Buf(source)[..(int)length].CopyTo(Buf(destination));
    /// <inheritdoc/>
    public void Synchronize() { }

    /// <summary>
    /// What runs is <see cref="Conv2DVariantFor"/>. Variants: "implicit-gemm" (default; im2col gathered straight into the GEMM's packed A panels,
    /// <c>CpuConvKernels.ImplicitGemm</c>), "im2col-gemm" (CpuIm2Col rows into a per-thread
    /// buffer, then the GEMM, <c>CpuConvKernels.Im2colGemm</c>) and "reference". Under both GEMM
    /// variants a depthwise conv (groups = C) runs <see cref="CpuConvKernels.DepthwiseDirect(SimdLevel, int, float*, float*, float*, float*, Conv2DGeometry, KernelActivation)"/>,
    /// since its per-group GEMM would be almost all tile padding, and the default runs a conv with at most
    /// <see cref="CpuConvDirect.MaxDefaultChannels"/> input channels per group (an image's first layer) on
    /// <see cref="CpuConvDirect"/>, variant "direct", since gathering 1-3 floats per tap costs more than the GEMM. Otherwise,
    /// unless a variant was selected, the tuner picks among the GEMM variants and "direct" per shape (<see cref="CpuTuner"/>).
    /// </summary>
    public unsafe void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, KernelActivation activation)
    {
        string variant = Variants["conv2d"];
        if (variant == ReferenceVariant)
        {
            CpuReferenceKernels.Conv2D(Buf(input), Buf(filter), Opt(bias), Buf(output), g, activation);
            return;
        }
        float* x = Pointer(input, g.InputShape.Length, "Conv2D", "input"), f = Pointer(filter, g.FilterShape.Length, "Conv2D", "filter");
        float* b = bias is null ? null : Pointer(bias, g.OC, "Conv2D", "bias"), y = Pointer(output, g.OutputShape.Length, "Conv2D", "output");
        RunConv2D(Conv2DVariantFor(g), null, x, f, null, b, ConvTarget.Compact(y, g), g, activation);
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> (<see cref="Conv2DVariantFor"/>, not the reference); <paramref name="packed"/> is the
    /// GEMM's prepacked filter (laid out for <paramref name="blocking"/>) or null, <paramref name="blocking"/> null for the tuned one.
    /// </summary>
    private unsafe void RunConv2D(string kernel, GemmBlocking? blocking, float* x, float* f, float* packed, float* b, in ConvTarget target, in Conv2DGeometry g, KernelActivation activation)
    {
        if (kernel == DirectConvVariant) CpuConvDirect.Run(Simd, Threads, x, f, b, target, g, activation);
        else if (kernel == DepthwiseKernel) CpuConvKernels.DepthwiseDirect(Simd, Threads, x, f, b, target, g, activation);
        else if (kernel == Im2colGemmVariant) CpuConvKernels.Im2colGemm(Simd, blocking ?? BlockingFor(g), Threads, x, f, packed, b, target, g, activation);
        else CpuConvKernels.ImplicitGemm(Simd, blocking ?? BlockingFor(g), Threads, x, f, packed, b, target, g, activation);
    }

    /// <summary>Variants "direct" (default) and "reference".</summary>
    public unsafe void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind)
    {
        if (Variants["pool2d"] == ReferenceVariant)
        {
            CpuReferenceKernels.Pool2D(Buf(input), Buf(output), g, kind);
            return;
        }
        CpuPoolKernels.Pool2DDirect(Simd, Threads, Pointer(input, g.InputShape.Length, "Pool2D", "input"),
            Pointer(output, g.OutputShape.Length, "Pool2D", "output"), g, kind);
    }

    /// <inheritdoc/>
    public unsafe void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind)
    {
        CpuElementwiseKernels.GlobalPool(Simd, Threads, Pointer(input, (long)n * spatial * channels, "GlobalPool", "input"),
            Pointer(output, (long)n * channels, "GlobalPool", "output"), n, spatial, channels, kind);
    }

    /// <summary>Variants "gemm" (default: CpuGemm with bias and activation fused) and "reference".</summary>
    public unsafe void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, KernelActivation activation)
    {
        if (Variants["dense"] == ReferenceVariant)
        {
            CpuReferenceKernels.Dense(Buf(input), Buf(weights), Opt(bias), Buf(output), m, k, n, activation);
            return;
        }
        float* x = Pointer(input, (long)m * k, "Dense", "input"), w = Pointer(weights, (long)k * n, "Dense", "weights");
        float* b = bias is null ? null : Pointer(bias, n, "Dense", "bias"), y = Pointer(output, (long)m * n, "Dense", "output");
        CpuGemm.Multiply(Simd, Threads, false, false, m, n, k, x, Math.Max(1, k), w, Math.Max(1, n), y, Math.Max(1, n),
            accumulate: false, new GemmEpilogue(b, activation));
    }

    /// <inheritdoc/>
    public unsafe void Activate(DeviceBuffer input, DeviceBuffer output, long length, KernelActivation activation)
    {
        CpuElementwiseKernels.Activate(Simd, Threads, Pointer(input, length, "Activate", "input"),
            Pointer(output, length, "Activate", "output"), length, activation);
    }

    /// <inheritdoc/>
    public unsafe void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log)
    {
        CpuElementwiseKernels.Softmax(Simd, Threads, Pointer(input, (long)rows * cols, "Softmax", "input"),
            Pointer(output, (long)rows * cols, "Softmax", "output"), rows, cols, log);
    }

    /// <inheritdoc/>
    public unsafe void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    {
        CpuElementwiseKernels.Add(Simd, Threads, Pointer(a, length, "Add", "a"), Pointer(b, length, "Add", "b"),
            Pointer(output, length, "Add", "output"), length);
    }

    /// <inheritdoc/>
    public unsafe void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels)
    {
            if (inputs.Count != channels.Count)
            throw new ArgumentException($"Concat: {inputs.Count} inputs but {channels.Count} channel counts.");
        var sources = new float*[inputs.Count];
        for (int t = 0; t < inputs.Count; t++) sources[t] = Pointer(inputs[t], pixels * channels[t], "Concat", $"input {t}");
        CpuElementwiseKernels.Concat(Threads, sources, channels.ToArray(), Pointer(output, pixels * channels.Sum(), "Concat", "output"), pixels);
    }

    /// <inheritdoc/>
    public unsafe void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode)
    {
        CpuElementwiseKernels.Pad2D(Threads, Pointer(input, g.InputShape.Length, "Pad2D", "input"),
            Pointer(output, g.OutputShape.Length, "Pad2D", "output"), g, mode);
    }

    /// <summary>Nothing to free: the buffers are managed memory, freed with each <see cref="DeviceBuffer"/>.</summary>
    public void Dispose() { }

    internal Span<float> Buf(DeviceBuffer buffer)
    {
        if (buffer is not CpuBuffer cpu || !ReferenceEquals(buffer.Backend, this))
            throw new ArgumentException($"A buffer of backend '{buffer.Backend.Name}' was passed to the cpu backend; copy it across explicitly.");
        if (buffer.IsDisposed) throw new ObjectDisposedException("CpuBuffer");
        return cpu.Span;
    }

    internal ReadOnlySpan<float> Opt(DeviceBuffer? buffer) => buffer is null ? ReadOnlySpan<float>.Empty : Buf(buffer);

    /// <summary>The readable loop version of each op, kept selectable (CpuReferenceKernels).</summary>
    public const string ReferenceVariant = "reference";
    /// <summary>conv2d: im2col gathered into the GEMM's A panels (<c>CpuConvKernels.ImplicitGemm</c>).</summary>
    public const string ImplicitGemmVariant = "implicit-gemm";
    /// <summary>conv2d: im2col rows stored first, then the GEMM (<c>CpuConvKernels.Im2colGemm</c>).</summary>
    public const string Im2colGemmVariant = "im2col-gemm";
    /// <summary>
    /// conv2d: windows read straight from a padded input strip (<see cref="CpuConvDirect"/>), which the default also
    /// runs for convs with few input channels; conv2d-backward-filter's default (<see cref="CpuConvFilterGradient"/>).
    /// </summary>
    public const string DirectConvVariant = "direct";
    /// <summary>What <see cref="Conv2DVariantFor"/> names the depthwise kernel the GEMM variants hand a depthwise conv (groups = C) to; not a variant of its own.</summary>
    public const string DepthwiseKernel = "depthwise";

    private static long TotalMemory() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}
