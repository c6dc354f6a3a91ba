using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Forward ops: each one launches a cached kernel on the accelerator's default stream.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, View, int, View, Conv2DGeometry, Activation>? _convDirect;
    private Action<Index1D, View, View, IlgpuPoolGeometry, PoolKind>? _pool;
    private Action<Index1D, View, View, int, int, PoolKind>? _globalPool;
    private Action<Index1D, View, View, View, int, View, int, int, Activation>? _denseDirect;
    private Action<Index1D, View, View, Activation>? _activate;
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

    public void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, Activation activation)
    {
        int count = Count(g.OutputShape.Length, "Conv2D");
        if (count == 0) return;
        // Few output channels per group (depthwise) would leave most of a 64-wide tile idle: direct suits them better.
        if (Variants["conv2d"] == "implicit-gemm-tiled" && g.OutChannelsPerGroup >= 16)
        {
            ConvTiled(View(input), View(filter), OptionalBias(bias), bias is null ? 0 : 1, View(output), g, activation);
            return;
        }
        _convDirect ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, View, Conv2DGeometry, Activation>(IlgpuConvKernels.ForwardDirect);
        _convDirect(count, View(input), View(filter), OptionalBias(bias), bias is null ? 0 : 1, View(output), g, activation);
    }

    public void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind)
    {
        _pool ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, IlgpuPoolGeometry, PoolKind>(IlgpuPoolKernels.Forward);
        int count = Count(g.OutputShape.Length, "Pool2D");
        if (count > 0) _pool(count, View(input), View(output), new IlgpuPoolGeometry(g), kind);
    }

    public void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind)
    {
        _globalPool ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, PoolKind>(IlgpuPoolKernels.GlobalForward);
        int count = Count((long)n * channels, "GlobalPool");
        if (count > 0) _globalPool(count, View(input), View(output), spatial, channels, kind);
    }

    public void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, Activation activation)
    {
        int count = Count((long)m * n, "Dense");
        if (count == 0) return;
        if (Variants["dense"] == "gemm-tiled")
        {
            GemmTiled(View(input), View(weights), View(output), OptionalBias(bias), bias is null ? 0 : 1, m, k, n,
                transposeA: false, transposeB: false, accumulate: false, activation);
            return;
        }
        _denseDirect ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, View, int, int, Activation>(IlgpuGemmKernels.DenseDirect);
        _denseDirect(count, View(input), View(weights), OptionalBias(bias), bias is null ? 0 : 1, View(output), k, n, activation);
    }

    public void Activate(DeviceBuffer input, DeviceBuffer output, long length, Activation activation)
    {
        _activate ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, Activation>(IlgpuElementwiseKernels.Activate);
        int count = Count(length, "Activate");
        if (count > 0) _activate(count, View(input), View(output), activation);
    }

    public void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log)
    {
        _softmax ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int>(IlgpuTrainingKernels.Softmax);
        if (rows > 0) _softmax(rows, View(input), View(output), cols, log ? 1 : 0);
    }

    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    {
        _add ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View>(IlgpuElementwiseKernels.Add);
        int count = Count(length, "Add");
        if (count > 0) _add(count, View(a), View(b), View(output));
    }

    public void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels) =>
        CopyChannels(inputs, channels, output, pixels, toWide: true, "Concat");

    public void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode)
    {
        _pad ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, Pad2DGeometry, PadMode>(IlgpuElementwiseKernels.Pad2D);
        int count = Count(g.OutputShape.Length, "Pad2D");
        if (count > 0) _pad(count, View(input), View(output), g, mode);
    }

    /// <summary>Concat (narrow → wide) or Split (wide → narrow): one launch per part, each owning its column range.</summary>
    private void CopyChannels(IReadOnlyList<DeviceBuffer> parts, IReadOnlyList<int> channels, DeviceBuffer wide, long pixels, bool toWide, string op)
    {
        if (parts.Count != channels.Count)
            throw new ArgumentException($"{op}: {parts.Count} tensors but {channels.Count} channel counts.");
        _copyChannels ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, int, int>(IlgpuElementwiseKernels.CopyChannels);
        int total = channels.Sum(), offset = 0;
        var wideView = View(wide);
        for (int t = 0; t < parts.Count; t++)
        {
            int count = Count(pixels * channels[t], op);
            if (count > 0) _copyChannels(count, View(parts[t]), wideView, channels[t], total, offset, toWide ? 1 : 0);
            offset += channels[t];
        }
    }

    /// <summary>A bias view, or a one-float placeholder that the kernel never reads when hasBias is 0.</summary>
    private View OptionalBias(DeviceBuffer? bias)
    {
        if (bias is not null) return View(bias);
        _noBias ??= _accelerator.Allocate1D<float>(1);
        return _noBias.View;
    }

    /// <summary>ILGPU indexes with 32-bit ints; larger tensors need splitting upstream.</summary>
    private int Count(long elements, string op) => elements <= int.MaxValue
        ? (int)elements
        : throw new ArgumentOutOfRangeException(nameof(elements), $"{op} on {Name}: {elements} elements exceed the 2^31−1 that one kernel launch indexes.");
}
