using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Forward ops: each one launches a cached kernel on the accelerator's default stream.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, View, int, View, Conv2DGeometry, KernelActivation>? _convDirect;
    private Action<Index1D, View, View, IlgpuPoolGeometry, PoolKind>? _pool;
    private Action<Index1D, View, View, int, int, PoolKind>? _globalPool;
    private Action<Index1D, View, View, View, int, View, int, int, KernelActivation>? _denseDirect;
    private Action<Index1D, View, View, KernelActivation>? _activate;
    private Action<Index1D, View, View, int, int>? _softmax;
    private Action<Index1D, View, View, View>? _add;
    private Action<Index1D, View, View, int, int, int, int>? _copyChannels;
    private Action<Index1D, View, View, Pad2DGeometry, PadMode>? _pad;
    private MemoryBuffer1D<float, Stride1D.Dense>? _noBias;

    private void RegisterVariants()
    {
        // The first variant is the default: tiled kernels are the ones meant for real GPUs.
        Variants.Register("conv2d", "implicit-gemm-tiled", "direct");
        Variants.Register("dense", "gemm-tiled", "direct");
        Variants.Register("matmul", "gemm-tiled", "direct");
        Variants.Register("conv2d-backward-data", "implicit-gemm-tiled", "gather");
        Variants.Register("conv2d-backward-filter", "implicit-gemm-tiled", "direct");
    }

    /// <inheritdoc/>
    public void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, KernelActivation activation)
    {
        const string op = "Conv2D";
        int count = Count(g.OutputShape.Length, op);
        var (x, f, b, y) = (View(input, g.InputShape.Length, op, "input"), View(filter, g.FilterShape.Length, op, "filter"),
            OptionalBias(bias, g.OC, op), View(output, count, op, "output"));
        if (count == 0) return;
        // Few output channels per group (depthwise) would leave most of a 64-wide tile idle: direct suits them better.
        if (Variants["conv2d"] == "implicit-gemm-tiled" && g.OutChannelsPerGroup >= 16)
        {
            RunTiled(ref _convTiled, new ConvOperands(g), x, f, y, b, bias is null ? 0 : 1, g.OC, accumulate: false, activation, g.Groups, count);
            return;
        }
        _convDirect ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, View, Conv2DGeometry, KernelActivation>(IlgpuConvKernels.ForwardDirect);
        _convDirect(count, x, f, b, bias is null ? 0 : 1, y, g, activation);
    }

    /// <inheritdoc/>
    public void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind)
    {
        const string op = "Pool2D";
        int count = Count(g.OutputShape.Length, op);
        var (x, y) = (View(input, g.InputShape.Length, op, "input"), View(output, count, op, "output"));
        _pool ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, IlgpuPoolGeometry, PoolKind>(IlgpuPoolKernels.Forward);
        if (count > 0) _pool(count, x, y, new IlgpuPoolGeometry(g), kind);
    }

    /// <inheritdoc/>
    public void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind)
    {
        const string op = "GlobalPool";
        int count = Count((long)n * channels, op);
        var (x, y) = (View(input, (long)n * spatial * channels, op, "input"), View(output, count, op, "output"));
        _globalPool ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, PoolKind>(IlgpuPoolKernels.GlobalForward);
        if (count > 0) _globalPool(count, x, y, spatial, channels, kind);
    }

    /// <inheritdoc/>
    public void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, KernelActivation activation)
    {
        const string op = "Dense";
        int count = Count((long)m * n, op);
        var (x, w, b, y) = (View(input, (long)m * k, op, "input"), View(weights, (long)k * n, op, "weights"),
            OptionalBias(bias, n, op), View(output, count, op, "output"));
        if (count == 0) return;
        if (Variants["dense"] == "gemm-tiled")
        {
            RunTiled(ref _gemmTiled, new MatrixOperands(m, k, n, 0, 0), x, w, y, b, bias is null ? 0 : 1, n, accumulate: false, activation, groups: 1, count);
            return;
        }
        _denseDirect ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, View, int, int, KernelActivation>(IlgpuGemmKernels.DenseDirect);
        _denseDirect(count, x, w, b, bias is null ? 0 : 1, y, k, n, activation);
    }

    /// <inheritdoc/>
    public void Activate(DeviceBuffer input, DeviceBuffer output, long length, KernelActivation activation)
    {
        const string op = "Activate";
        int count = Count(length, op);
        var (x, y) = (View(input, count, op, "input"), View(output, count, op, "output"));
        if (!activation.Fuses)
        {
            ActivateUnfused(x, y, count, activation);
            return;
        }
        _activate ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, KernelActivation>(IlgpuElementwiseKernels.Activate);
        if (count > 0) _activate(count, x, y, activation);
    }

    /// <inheritdoc/>
    public void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log)
    {
        const string op = "Softmax";
        int count = Count((long)rows * cols, op);
        var (x, y) = (View(input, count, op, "input"), View(output, count, op, "output"));
        _softmax ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int>(IlgpuTrainingKernels.Softmax);
        if (count > 0) _softmax(rows, x, y, cols, log ? 1 : 0);
    }

    /// <inheritdoc/>
    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    {
        const string op = "Add";
        int count = Count(length, op);
        var (av, bv, y) = (View(a, count, op, "a"), View(b, count, op, "b"), View(output, count, op, "output"));
        _add ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View>(IlgpuElementwiseKernels.Add);
        if (count > 0) _add(count, av, bv, y);
    }

    /// <inheritdoc/>
    public void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels) =>
        CopyChannels(inputs, channels, output, pixels, toWide: true, "Concat");

    /// <inheritdoc/>
    public void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode)
    {
        const string op = "Pad2D";
        int count = Count(g.OutputShape.Length, op);
        var (x, y) = (View(input, g.InputShape.Length, op, "input"), View(output, count, op, "output"));
        _pad ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, Pad2DGeometry, PadMode>(IlgpuElementwiseKernels.Pad2D);
        if (count > 0) _pad(count, x, y, g, mode);
    }

    /// <summary>Concat (narrow → wide) or Split (wide → narrow): one launch per part, each owning its column range.</summary>
    private void CopyChannels(IReadOnlyList<DeviceBuffer> parts, IReadOnlyList<int> channels, DeviceBuffer wide, long pixels, bool toWide, string op)
    {
        if (parts.Count != channels.Count)
            throw new ArgumentException($"{op}: {parts.Count} tensors but {channels.Count} channel counts.");
        int total = channels.Sum(), offset = 0;
        var wideView = View(wide, Count(pixels * total, op), op, toWide ? "output" : "input");
        var partViews = parts.Select((p, t) => View(p, pixels * channels[t], op, $"{(toWide ? "input" : "output")} {t}")).ToArray();
        _copyChannels ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, int, int>(IlgpuElementwiseKernels.CopyChannels);
        for (int t = 0; t < parts.Count; t++)
        {
            int count = (int)(pixels * channels[t]);
            if (count > 0) _copyChannels(count, partViews[t], wideView, channels[t], total, offset, toWide ? 1 : 0);
            offset += channels[t];
        }
    }

    /// <summary>A bias view, or <see cref="NoBias"/> when there is none.</summary>
    private View OptionalBias(DeviceBuffer? bias, long length, string op) => bias is null ? NoBias : View(bias, length, op, "bias");

    /// <summary>A one-float placeholder for kernels that take a bias they never read (hasBias 0).</summary>
    private View NoBias => (_noBias ??= _accelerator.Allocate1D<float>(1)).View;

    /// <summary>
    /// The view of a buffer that a kernel will index up to <paramref name="needed"/>: a GPU does not bounds-check,
    /// so a short buffer is refused here, by name, instead of corrupting memory.
    /// </summary>
    private View View(DeviceBuffer buffer, long needed, string op, string name)
    {
        var view = View(buffer);
        if (view.Length < needed)
            throw new ArgumentException($"{op} on {Name}: {name} holds {view.Length} floats but the op needs {needed}.");
        return view;
    }

    /// <summary>ILGPU indexes with 32-bit ints; larger tensors need splitting upstream.</summary>
    private int Count(long elements, string op) => elements <= int.MaxValue
        ? (int)elements
        : throw new ArgumentOutOfRangeException(nameof(elements), $"{op} on {Name}: {elements} elements exceed the 2^31−1 that one kernel launch indexes.");
}
