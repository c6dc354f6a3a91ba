using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// A conv filter prepared once for a cpu backend that will run it many times with the same weights (an inference
/// plan): packed into the GEMM's panel layout under the blocking chosen for the conv's shape, or kept as it is for a
/// depthwise conv. It holds a reference to the source filter for the variants that read it directly; the source must
/// stay alive and unchanged while this is used (prepare it again after the weights change).
/// </summary>
public sealed unsafe class PackedConv2DFilter : IDisposable
{
    private float[]? _packed;

    internal PackedConv2DFilter(DeviceBuffer source, SimdLevel simd, GemmBlocking blocking, long length)
    {
        Source = source;
        Simd = simd;
        Blocking = blocking;
        Length = length;
        if (length > 0)
        {
            if (length + 16 > Array.MaxLength) throw new OutOfMemoryException($"A packed conv filter of {length} floats does not fit one array.");
            _packed = GC.AllocateUninitializedArray<float>((int)length + 16, pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_packed));
            Data = (float*)((start + 63) & ~(nint)63);
        }
    }

    /// <summary>The filter it was prepared from (KH, KW, C/groups, OC).</summary>
    public DeviceBuffer Source { get; }
    /// <summary>The SIMD level the panels were packed for.</summary>
    public SimdLevel Simd { get; }
    /// <summary>The GEMM blocking the panels are laid out for.</summary>
    internal GemmBlocking Blocking { get; }
    /// <summary>Floats of the packed panels; 0 when the conv reads the source directly.</summary>
    internal long Length { get; }
    /// <summary>The packed panels (64-byte aligned), or null when the conv reads the source directly (depthwise).</summary>
    internal float* Data { get; }

    /// <summary>Releases the packed panels.</summary>
    public void Dispose()
    {
        _packed = null;
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Where a fused inference conv writes: <see cref="ChannelOffset"/> into pixels of <see cref="ChannelStride"/> floats
/// (0: the conv's own OC), so a conv can write its channels of a concatenation in place, and an optional
/// <see cref="Residual"/> (laid out like the output) added before the activation.
/// </summary>
public readonly record struct Conv2DOutput(int ChannelOffset = 0, int ChannelStride = 0, DeviceBuffer? Residual = null);

public sealed partial class CpuBackend
{
    /// <summary>The GEMM blocking this backend uses for <paramref name="g"/> (from the tuning cache when it holds the shape).</summary>
    internal GemmBlocking BlockingFor(in Conv2DGeometry g) => Tuning.BlockingFor(this, g);

    /// <summary>
    /// The kernel that runs <paramref name="g"/>'s conv2d: "reference" or "direct" when selected; <see cref="DepthwiseKernel"/>
    /// for a depthwise conv under a GEMM variant; a selected GEMM variant as selected (but "direct" for a conv with few input
    /// channels per group under "implicit-gemm"); under the default, the tuner's choice for the shape, or where nothing is
    /// tuned "direct" for few input channels (an image's first layer: gathering 1-4 floats per tap costs the GEMM more than
    /// its multiply-adds on AVX2) and the default GEMM for the rest.
    /// </summary>
    public string Conv2DVariantFor(in Conv2DGeometry g)
    {
        string variant = Variants["conv2d"];
        if (variant is ReferenceVariant or DirectConvVariant) return variant;
        if (CpuConvKernels.IsDepthwise(g)) return DepthwiseKernel;
        if (Variants.IsSelected("conv2d")) return variant == ImplicitGemmVariant && CpuConvDirect.PreferredFor(g) ? DirectConvVariant : variant;
        // The tuner times direct against the GEMMs for few channels too: the rule below was measured on AVX2, and on AVX-512
        // (Zen 4) the two kernels ran ResNet18's 7×7 3→64 first conv within the machine's noise of each other (1.5-2.2 ms).
        if (Tuning.Tuned(this, g) is { } tuned) return tuned.Variant;
        return CpuConvDirect.PreferredFor(g) ? DirectConvVariant : variant;
    }

    /// <summary>
    /// Prepares <paramref name="filter"/> (KH, KW, C/groups, OC) for repeated runs of <paramref name="g"/>'s conv through
    /// <see cref="Conv2D(DeviceBuffer, PackedConv2DFilter, DeviceBuffer?, DeviceBuffer, in Conv2DGeometry, KernelActivation, Conv2DOutput)"/>.
    /// </summary>
    public unsafe PackedConv2DFilter PackConv2DFilter(DeviceBuffer filter, in Conv2DGeometry g)
    {
        float* f = Pointer(filter, g.FilterShape.Length, "PackConv2DFilter", "filter");
        var (blocking, length) = PackingFor(g);
        var packed = new PackedConv2DFilter(filter, Simd, blocking, length);
        if (length > 0) CpuConvKernels.PackFilter(Simd, blocking, Threads, f, g, packed.Data);
        return packed;
    }

    /// <summary>
    /// Whether <paramref name="packed"/> is what <see cref="PackConv2DFilter"/> would prepare from <paramref name="filter"/> for
    /// <paramref name="g"/> now: the same source, SIMD level, blocking and kernel (a tuned or selected kernel can change them),
    /// so a layer that keeps its packed filter can tell when to pack again. Whether the weights changed is the caller's to know.
    /// </summary>
    public bool Conv2DFilterFits(PackedConv2DFilter packed, DeviceBuffer filter, in Conv2DGeometry g)
    {
        if (!ReferenceEquals(packed.Source, filter) || packed.Simd != Simd) return false;
        var (blocking, length) = PackingFor(g);
        return packed.Length == length && (length == 0 || packed.Blocking == blocking);
    }

    /// <summary>
    /// The GEMM blocking and packed length of <paramref name="g"/>'s filter: none for a depthwise conv (it reads the filter as
    /// it is) or the direct kernel (it repacks the filter its own way on each run; GEMM panels would go unread).
    /// </summary>
    private (GemmBlocking Blocking, long Length) PackingFor(in Conv2DGeometry g)
    {
        if (CpuConvKernels.IsDepthwise(g)) return (default, 0);
        var blocking = BlockingFor(g);
        return (blocking, Conv2DVariantFor(g) == DirectConvVariant ? 0 : CpuConvKernels.PackedFilterLength(Simd, g));
    }

    /// <summary>
    /// output = act(conv(input, filter) + bias [+ residual]) with a filter prepared by <see cref="PackConv2DFilter"/>, written
    /// at <paramref name="target"/>'s channels. Runs the selected conv2d variant (the reference one reads the source filter).
    /// </summary>
    public unsafe void Conv2D(DeviceBuffer input, PackedConv2DFilter filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g,
        KernelActivation activation, Conv2DOutput target)
    {
        const string Op = "Conv2D";
        int stride = target.ChannelStride == 0 ? g.OC : target.ChannelStride;
        if (target.ChannelOffset < 0 || target.ChannelOffset + g.OC > stride)
            throw new ArgumentException($"{Op}: output channels {target.ChannelOffset}..{target.ChannelOffset + g.OC} do not fit pixels of {stride} channels.");
        if (filter.Simd != Simd) throw new ArgumentException($"{Op}: the filter was packed for {filter.Simd}, the backend runs {Simd}.");
        long outputLength = (long)g.N * g.OH * g.OW * stride;
        float* x = Pointer(input, g.InputShape.Length, Op, "input");
        float* b = bias is null ? null : Pointer(bias, g.OC, Op, "bias");
        float* y = Pointer(output, outputLength, Op, "output") + target.ChannelOffset;
        float* r = target.Residual is null ? null : Pointer(target.Residual, outputLength, Op, "residual") + target.ChannelOffset;
        var view = new ConvTarget(y, stride, r);
        string kernel = Conv2DVariantFor(g);
        if (kernel == ReferenceVariant)
        {
            ReferenceInto(input, filter.Source, bias, view, g, activation);
            return;
        }
        float* f = Pointer(filter.Source, g.FilterShape.Length, Op, "filter");
        RunConv2D(kernel, filter.Blocking, x, f, filter.Data, b, view, g, activation);
    }

    /// <summary>Copies (pixels, channels) into channels offset.. of (pixels, stride): a concatenation's input that was not written in place.</summary>
    public unsafe void CopyChannels(DeviceBuffer input, DeviceBuffer output, long pixels, int channels, int offset, int stride)
    {
        if (offset < 0 || channels < 0 || offset + channels > stride)
            throw new ArgumentException($"CopyChannels: channels {offset}..{offset + channels} do not fit pixels of {stride} channels.");
        CpuElementwiseKernels.CopyChannels(Threads, Pointer(input, pixels * channels, "CopyChannels", "input"),
            Pointer(output, pixels * stride, "CopyChannels", "output"), pixels, channels, offset, stride);
    }

    /// <summary>The reference conv into a compact scratch output, then moved to the target with the residual and activation.</summary>
    private unsafe void ReferenceInto(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, in ConvTarget view, in Conv2DGeometry g, KernelActivation activation)
    {
        var compact = new float[g.OutputShape.Length];
        CpuReferenceKernels.Conv2D(Buf(input), Buf(filter), Opt(bias), compact, g, KernelActivation.None);
        long pixels = (long)g.N * g.OH * g.OW;
        for (long p = 0; p < pixels; p++)
            for (int o = 0; o < g.OC; o++)
            {
                float v = compact[p * g.OC + o];
                if (view.Residual != null) v += view.Residual[p * view.Stride + o];
                view.Output[p * view.Stride + o] = activation.Apply(v);
            }
    }
}
