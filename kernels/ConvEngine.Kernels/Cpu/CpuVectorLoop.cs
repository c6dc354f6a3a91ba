using System.Runtime.CompilerServices;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// An elementwise kernel written once per vector width: element i (scalar), elements i..i+7
/// (Vector256) and i..i+15 (Vector512). The three must do the same float operations in the same
/// order (no fused multiply-add), so every SIMD level gives bit-identical results.
/// </summary>
internal interface IVectorKernel
{
    void Scalar(long i);
    void Vector256At(long i);
    void Vector512At(long i);
}

/// <summary>Runs an <see cref="IVectorKernel"/> over a range at the backend's SIMD level, split over threads.</summary>
internal static class CpuVectorLoop
{
    /// <summary>Elements per part below which splitting over threads costs more than it saves (memory-bound loops).</summary>
    public const long MinPerPart = 1 << 15;

    public static void Run<TKernel>(int threads, SimdLevel simd, long length, TKernel kernel) where TKernel : struct, IVectorKernel
    {
        if (CpuParallel.Parts(threads, length, MinPerPart) == 1)
        {
            Range(ref kernel, simd, 0, length);
            return;
        }
        CpuParallel.For(threads, length, MinPerPart, (start, end) =>
        {
            var copy = kernel;
            Range(ref copy, simd, start, end);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Range<TKernel>(ref TKernel kernel, SimdLevel simd, long start, long end) where TKernel : struct, IVectorKernel
    {
        long i = start;
        if (simd == SimdLevel.Avx512)
            for (; i + 16 <= end; i += 16) kernel.Vector512At(i);
        else if (simd == SimdLevel.Avx2)
            for (; i + 8 <= end; i += 8) kernel.Vector256At(i);
        for (; i < end; i++) kernel.Scalar(i);
    }
}
