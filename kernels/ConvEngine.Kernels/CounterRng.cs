namespace ConvEngine.Kernels;

/// <summary>
/// A counter-based random number: a pure function of (seed, index), so every backend and every
/// thread draws the same value for the same element, in any order. SplitMix64's finaliser.
/// </summary>
public static class CounterRng
{
    /// <summary>A well-mixed 64-bit value for element <paramref name="index"/> of the stream <paramref name="seed"/>.</summary>
    public static ulong Hash(ulong seed, ulong index)
    {
        ulong z = seed + (index + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1), 24 bits of resolution (exact in float32).</summary>
    /// <remarks>
    /// The 24-bit value goes through int: an unsigned-to-float conversion compiles to a float64 step
    /// (IL conv.r.un), which OpenCL devices without fp64 reject. The value is exact either way.
    /// </remarks>
    public static float Uniform(ulong seed, ulong index) => (int)(Hash(seed, index) >> 40) * (1f / 16777216f);
}
