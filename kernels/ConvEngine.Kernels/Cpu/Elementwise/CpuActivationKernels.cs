namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The activations that do not fuse into conv and dense (ReLU6, ELU, SELU, swish, GELU, hard sigmoid, softplus,
/// softsign, exponential), forward and backward, one float at a time through <see cref="ActivationMath"/>: the
/// same scalar definition at every SIMD level and on ILGPU, so results agree across backends bit for bit.
/// </summary>
internal static unsafe class CpuActivationKernels
{
    /// <summary>Transcendentals cost ~10 ns a float: a second thread pays off well below a memory-bound loop's threshold.</summary>
    private const long MinPerPart = 1 << 13;

    /// <summary>output = act(input) for any kind; in place allowed.</summary>
    public static void Apply(ReadOnlySpan<float> input, Span<float> output, KernelActivation act)
    {
        for (int i = 0; i < input.Length; i++) output[i] = ActivationMath.Apply(input[i], act);
    }

    public static void Apply(int threads, float* input, float* output, long length, KernelActivation act)
    {
        nint x0 = (nint)input, y0 = (nint)output;
        CpuParallel.For(threads, length, MinPerPart, (start, end) =>
        {
            float* x = (float*)x0, y = (float*)y0;
            for (long i = start; i < end; i++) y[i] = ActivationMath.Apply(x[i], act);
        });
    }

    /// <summary>gradInput = gradOutput · act'(input).</summary>
    public static void BackwardFromInput(int threads, float* input, float* gradOutput, float* gradInput, long length, KernelActivation act)
    {
        nint x0 = (nint)input, g0 = (nint)gradOutput, d0 = (nint)gradInput;
        CpuParallel.For(threads, length, MinPerPart, (start, end) =>
        {
            float* x = (float*)x0, g = (float*)g0, dx = (float*)d0;
            for (long i = start; i < end; i++) dx[i] = g[i] * ActivationMath.DerivativeFromInput(x[i], act);
        });
    }
}
