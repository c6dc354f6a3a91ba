using System.Numerics.Tensors;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Transposed convolution on the cpu: the conv's backward-data kernel (<see cref="CpuConvBackward.BackwardData"/>, col2im
/// of a GEMM), then one pass adding the bias and applying the activation. The reference is
/// <see cref="CpuReferenceBackward.Conv2DBackwardData"/> followed by the same epilogue written as loops.
/// </summary>
internal static class CpuConvTransposeKernels
{
    public static void Forward(int threads, SimdLevel simd, float[] input, float[] filter, float[]? bias, float[] output, in ConvTranspose2DGeometry g, KernelActivation activation)
    {
        CpuConvBackward.BackwardData(threads, simd, input, filter, output, g.Conv);
        Epilogue(threads, simd, output, bias, g, activation);
    }

    public static void Reference(ReadOnlySpan<float> input, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, Span<float> output, in ConvTranspose2DGeometry g, KernelActivation activation)
    {
        CpuReferenceBackward.Conv2DBackwardData(input, filter, output, g.Conv);
        int channels = g.OutputChannels;
        long length = g.OutputShape.Length;
        for (long i = 0; i < length; i++)
            output[(int)i] = activation.Apply(output[(int)i] + (bias.IsEmpty ? 0f : bias[(int)(i % channels)]));
    }

    /// <summary>y = act(y + bias) over (pixels, Cout), pixels split over threads.</summary>
    private static void Epilogue(int threads, SimdLevel simd, float[] output, float[]? bias, ConvTranspose2DGeometry g, KernelActivation activation)
    {
        if (bias is null && activation.Kind == ActivationKind.None) return;
        int channels = g.OutputChannels;
        long pixels = g.OutputShape.Length / channels;
        CpuParallel.For(threads, pixels, Math.Max(1, CpuVectorLoop.MinPerPart / Math.Max(1, channels)), (start, end) =>
        {
            for (long p = start; p < end; p++)
            {
                var row = output.AsSpan((int)(p * channels), channels);
                if (bias is not null) TensorPrimitives.Add(row, bias.AsSpan(0, channels), row);
                if (activation.Kind != ActivationKind.None) CpuElementwiseKernels.Activate(row, row, activation, simd);
            }
        });
    }
}
