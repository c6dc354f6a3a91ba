using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// act'(y) written from the activation's output y, per lane and per float (relu: y &gt; 0, leaky: y &gt; 0 ? 1 : α,
/// sigmoid: y(1 − y), tanh: 1 − y², linear: 1), the same float operations at every width so every SIMD level
/// gives the same bits. <see cref="CpuElementwiseBackward"/> multiplies by the same factors.
/// </summary>
internal readonly struct ActivationSlope(KernelActivation activation)
{
    private readonly ActivationKind _kind = activation.Kind;
    private readonly float _alpha = activation.Alpha;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(float y) => _kind switch
    {
        ActivationKind.None => 1f,
        ActivationKind.Relu => y > 0f ? 1f : 0f,
        ActivationKind.LeakyRelu => y > 0f ? 1f : _alpha,
        ActivationKind.Sigmoid => y * (1f - y),
        ActivationKind.Tanh => 1f - y * y,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), $"No derivative for activation {_kind}."),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> At(Vector256<float> y) => _kind switch
    {
        ActivationKind.None => Vector256<float>.One,
        ActivationKind.Relu => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), Vector256<float>.One, Vector256<float>.Zero),
        ActivationKind.LeakyRelu => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), Vector256<float>.One, Vector256.Create(_alpha)),
        ActivationKind.Sigmoid => y * (Vector256<float>.One - y),
        ActivationKind.Tanh => Vector256<float>.One - y * y,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), $"No derivative for activation {_kind}."),
    };
}

/// <summary>
/// Activation backward and the bias gradient of the layer under it in one pass over (rows, channels):
/// gradInput = gradOutput · act'(y), gradBias = Σ over rows of gradInput. Rows are cut into fixed parts; part 0
/// sums into gradBias, the others into pooled partials added in part order, so the result is the same every run.
/// </summary>
internal static unsafe class CpuActivationBiasBackward
{
    /// <summary>Fewest values per part (memory-bound; each extra part costs one partial row of sums).</summary>
    private const long MinPerPart = 1 << 15;

    public static void Run(int threads, SimdLevel simd, float* output, float* gradOutput, float* gradInput, float* gradBias,
        long rows, int channels, KernelActivation activation)
    {
        int parts = (int)Math.Min(Math.Max(1, rows), CpuParallel.Parts(threads, rows * channels, MinPerPart));
        float[]?[] partials = new float[parts][];
        for (int part = 1; part < parts; part++) partials[part] = ArrayPool<float>.Shared.Rent(channels);
        try
        {
            nint y = (nint)output, g = (nint)gradOutput, dx = (nint)gradInput, db = (nint)gradBias;
            var slope = new ActivationSlope(activation);
            CpuParallel.For(parts, part =>
            {
                fixed (float* own = partials[part])
                {
                    float* sums = part == 0 ? (float*)db : own;
                    new Span<float>(sums, channels).Clear();
                    long start = CpuParallel.Start(rows, parts, part), end = CpuParallel.Start(rows, parts, part + 1);
                    for (long r = start; r < end; r++)
                    {
                        nint at = (nint)(r * channels);
                        Row(simd, slope, (float*)y + at, (float*)g + at, (float*)dx + at, sums, channels);
                    }
                }
            });
            for (int part = 1; part < parts; part++)
                for (int c = 0; c < channels; c++) gradBias[c] += partials[part]![c];
        }
        finally
        {
            for (int part = 1; part < parts; part++) ArrayPool<float>.Shared.Return(partials[part]!);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(SimdLevel simd, in ActivationSlope slope, float* y, float* g, float* dx, float* sums, int channels)
    {
        int c = 0;
        if (simd >= SimdLevel.Avx2)
            for (; c <= channels - 8; c += 8)
            {
                var d = Vector256.Load(g + c) * slope.At(Vector256.Load(y + c));
                d.Store(dx + c);
                (Vector256.Load(sums + c) + d).Store(sums + c);
            }
        for (; c < channels; c++)
        {
            float d = g[c] * slope.At(y[c]);
            dx[c] = d;
            sums[c] += d;
        }
    }
}
