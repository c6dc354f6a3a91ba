using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Per-thread working memory of the cpu kernels (packed panels, im2col rows). Each thread keeps its
/// own pinned, 64-byte aligned buffers and grows them when a larger op comes along, so a steady
/// stream of ops allocates nothing. A thread runs one kernel body at a time, which makes the
/// thread-static safe; the slots are distinct so a caller's buffer never aliases its worker's.
/// </summary>
internal sealed unsafe class CpuScratch
{
    [ThreadStatic] private static CpuScratch? t_current;

    /// <summary>The calling thread's scratch.</summary>
    public static CpuScratch Current => t_current ??= new CpuScratch();

    public Slot APanel { get; } = new();
    public Slot BBlock { get; } = new();
    /// <summary>A B packed once by the thread that starts a GEMM and read by every thread of its split.</summary>
    public Slot SharedB { get; } = new();
    public Slot Columns { get; } = new();

    /// <summary>One growable pinned buffer.</summary>
    public sealed class Slot
    {
        private const int AlignFloats = 16;
        private float[] _array = [];
        private float* _aligned;
        private long _capacity;

        /// <summary>At least <paramref name="length"/> floats, 64-byte aligned; contents undefined.</summary>
        public float* Get(long length)
        {
            if (length > _capacity)
            {
                long size = length + AlignFloats;
                if (size > Array.MaxLength)
                    throw new OutOfMemoryException($"A cpu kernel needs {length} floats of scratch, more than one array holds.");
                _array = GC.AllocateUninitializedArray<float>((int)size, pinned: true);
                nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
                _aligned = (float*)((start + 63) & ~(nint)63);
                _capacity = length;
            }
            return _aligned;
        }
    }
}
