namespace ConvEngine.Kernels;

/// <summary>
/// An allocation larger than the memory this process may use, refused before it was attempted (a shape declared in a
/// file or an option, not a lack of free memory at that moment). The message names what was to be allocated.
/// </summary>
public sealed class MemoryLimitException(string message) : InvalidOperationException(message);

/// <summary>
/// The one check every large allocation of declared size goes through (tensor buffers, weights, decoded files), so a
/// file declaring a huge shape fails with a message instead of an OutOfMemoryException or the kernel's OOM killer.
/// </summary>
public static class MemoryBudget
{
    /// <summary>
    /// The most bytes one allocation may take: half of what the GC may use (physical memory, a container's limit,
    /// or DOTNET_GCHeapHardLimit), since the rest of the run needs memory too.
    /// </summary>
    public static long MaxAllocationBytes
    {
        get
        {
            long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            return available > 0 ? available / 2 : long.MaxValue;
        }
    }

    /// <summary>Throws <see cref="MemoryLimitException"/> when <paramref name="bytes"/> exceed <see cref="MaxAllocationBytes"/>.</summary>
    /// <param name="what">What is allocated, for the message: "weight 'conv2d/kernel' (3, 3, 1, 100000000)".</param>
    /// <param name="bytes">The size asked for.</param>
    public static void Check(long bytes, Func<string> what)
    {
        long limit = MaxAllocationBytes;
        if (bytes >= 0 && bytes <= limit) return;
        throw new MemoryLimitException($"{what()} needs {Describe(bytes)}, more than the {Describe(limit)} one allocation may take in this process.");
    }

    /// <summary>Bytes for messages: "3.4 GiB", "512 MiB".</summary>
    public static string Describe(long bytes) => bytes < 0 ? "more bytes than a 64-bit count holds"
        : bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.0} GiB"
        : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.0} MiB"
        : $"{bytes} bytes";
}
