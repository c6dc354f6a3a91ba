using System.Runtime.Intrinsics.X86;

namespace ConvEngine.Kernels.Cpu;

/// <summary>The widest vector path the cpu backend's kernels use.</summary>
public enum SimdLevel
{
    /// <summary>One float at a time (any processor).</summary>
    Scalar,
    /// <summary>256-bit vectors with FMA: 8 floats.</summary>
    Avx2,
    /// <summary>512-bit vectors (AVX-512F): 16 floats.</summary>
    Avx512,
}

/// <summary>Which vector path the processor supports and which one the cpu backend takes.</summary>
public static class SimdSupport
{
    /// <summary>What this processor supports.</summary>
    public static SimdLevel Detected =>
        Avx512F.IsSupported ? SimdLevel.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? SimdLevel.Avx2
        : SimdLevel.Scalar;

    /// <summary>
    /// The level to use: <paramref name="requested"/>, else the CONVENGINE_SIMD environment
    /// variable (scalar, avx2, avx512), else the detected one. Asking for more than the
    /// processor has is an error.
    /// </summary>
    public static SimdLevel Resolve(SimdLevel? requested = null)
    {
        SimdLevel level = requested ?? (Environment.GetEnvironmentVariable("CONVENGINE_SIMD") is { Length: > 0 } env
            ? env.ToLowerInvariant() switch
            {
                "scalar" => SimdLevel.Scalar,
                "avx2" => SimdLevel.Avx2,
                "avx512" => SimdLevel.Avx512,
                _ => throw new ArgumentException($"CONVENGINE_SIMD='{env}' is not one of scalar, avx2, avx512."),
            }
            : Detected);
        if (level > Detected)
            throw new BackendUnavailableException($"SIMD level {level} was requested but this processor supports only {Detected}.");
        return level;
    }

    /// <summary>Floats in one vector register at <paramref name="level"/> (1, 8 or 16).</summary>
    public static int FloatsPerVector(SimdLevel level) => level switch
    {
        SimdLevel.Avx512 => 16,
        SimdLevel.Avx2 => 8,
        _ => 1,
    };
}
