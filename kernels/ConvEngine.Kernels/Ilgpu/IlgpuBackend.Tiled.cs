using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Launching the tiled GEMM (<see cref="IlgpuTiledGemmKernel"/>) for every operand layout, with split-K when it pays.</summary>
public sealed partial class IlgpuBackend
{
    private Action<KernelConfig, View, View, View, View, int, int, KernelActivation, MatrixOperands, TiledGemmSlices>? _gemmTiled;
    private Action<KernelConfig, View, View, View, View, int, int, KernelActivation, ConvOperands, TiledGemmSlices>? _convTiled;
    private Action<KernelConfig, View, View, View, View, int, int, KernelActivation, ConvBackwardDataOperands, TiledGemmSlices>? _convBackwardDataTiled;
    private Action<KernelConfig, View, View, View, View, int, int, KernelActivation, ConvBackwardFilterOperands, TiledGemmSlices>? _convBackwardFilterTiled;
    private Action<Index1D, View, View, int, int, View, int, int, int, KernelActivation>? _reduceSlices;

    /// <summary>A K slice shorter than this (8 k-steps) would spend more on its partial C than it saves.</summary>
    private const int MinKPerSlice = 128;
    /// <summary>At most 64 MB of partial results.</summary>
    private const long MaxPartialFloats = 1L << 24;

    /// <summary>
    /// C = act([C] + [bias] + A·B) for one operand layout. When the tiles alone would leave the device idle
    /// (fewer groups than 4 per multiprocessor) and K is long, K is split into slices whose partial C
    /// are summed by a second kernel.
    /// </summary>
    private void RunTiled<TOperands>(
        ref Action<KernelConfig, View, View, View, View, int, int, KernelActivation, TOperands, TiledGemmSlices>? kernel,
        TOperands operands, View a, View b, View c, View bias, int hasBias, int biasLength, bool accumulate,
        KernelActivation activation, int groups, int outputLength)
        where TOperands : struct, IGemmOperands
    {
        kernel ??= _accelerator.LoadStreamKernel<View, View, View, View, int, int, KernelActivation, TOperands, TiledGemmSlices>(IlgpuTiledGemmKernel.Run);
        int mTiles = (operands.M + IlgpuTiledGemmKernel.Tile - 1) / IlgpuTiledGemmKernel.Tile;
        int nTiles = (operands.N + IlgpuTiledGemmKernel.Tile - 1) / IlgpuTiledGemmKernel.Tile;
        var groupShape = new Index3D(IlgpuTiledGemmKernel.Threads, IlgpuTiledGemmKernel.Threads, 1);

        int slices = SliceCount((long)mTiles * nTiles * groups, operands.K, groups, outputLength);
        if (slices == 1)
        {
            kernel(new KernelConfig(new Index3D(mTiles, nTiles, groups), groupShape), a, b, c, bias, hasBias, accumulate ? 1 : 0, activation,
                operands, new TiledGemmSlices(groups, 1, operands.K, 0));
            return;
        }
        int kPerSlice = RoundUp((operands.K + slices - 1) / slices, IlgpuTiledGemmKernel.TileK);
        slices = (operands.K + kPerSlice - 1) / kPerSlice;
        var partial = Scratch((long)slices * outputLength);
        kernel(new KernelConfig(new Index3D(mTiles, nTiles, groups * slices), groupShape), a, b, partial, bias, 0, 0, KernelActivation.None,
            operands, new TiledGemmSlices(groups, slices, kPerSlice, outputLength));
        _reduceSlices ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int, View, int, int, int, KernelActivation>(IlgpuGemmKernels.ReduceSlices);
        _reduceSlices(outputLength, partial, c, slices, outputLength, bias, hasBias, biasLength, accumulate ? 1 : 0, activation);
    }

    private int SliceCount(long blocks, int k, int groups, int outputLength)
    {
        long target = 4L * _accelerator.NumMultiprocessors;
        if (blocks >= target) return 1;
        long slices = (target + blocks - 1) / blocks;
        slices = Math.Min(slices, (k + MinKPerSlice - 1) / MinKPerSlice);
        slices = Math.Min(slices, 65535 / groups);                       // grid z = groups × slices
        slices = Math.Min(slices, MaxPartialFloats / Math.Max(outputLength, 1));
        return (int)Math.Max(slices, 1);
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>A reusable device scratch area of at least <paramref name="length"/> floats, grown on demand.</summary>
    private View Scratch(long length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            // Queued kernels may still read the old area.
            _accelerator.Synchronize();
            _scratch?.Dispose();
            _scratch = _accelerator.Allocate1D<float>(length);
        }
        return ((View)_scratch.View).SubView(0, length);
    }
}
