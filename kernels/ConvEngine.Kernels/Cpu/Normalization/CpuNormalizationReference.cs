using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Readable versions of the normalisation and layout kernels: plain loops over the definitions.</summary>
internal static class CpuNormalizationReference
{
    public static void ChannelAffine(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output, long pixels, int channels)
    {
        for (long p = 0; p < pixels; p++)
        for (int c = 0; c < channels; c++)
        {
            long i = p * channels + c;
            output[(int)i] = input[(int)i] * scale[c] + shift[c];
        }
    }

    public static void Lrn(ReadOnlySpan<float> input, Span<float> output, in LrnGeometry g)
    {
        for (long p = 0; p < g.Pixels; p++)
        for (int c = 0; c < g.Channels; c++)
        {
            float sum = 0f;
            for (int k = Math.Max(0, c - g.Before); k <= Math.Min(g.Channels - 1, c + g.After); k++)
            {
                float v = input[(int)(p * g.Channels + k)];
                sum += v * v;
            }
            int i = (int)(p * g.Channels + c);
            output[i] = input[i] / MathF.Pow(g.Bias + g.Alpha / g.Size * sum, g.Beta);
        }
    }

    public static void Transpose(ReadOnlySpan<float> input, Span<float> output, in TransposeGeometry g)
    {
        int index = 0;
        for (int a = 0; a < g.Out0; a++)
        for (int b = 0; b < g.Out1; b++)
        for (int c = 0; c < g.Out2; c++)
        for (int d = 0; d < g.Out3; d++)
            output[index++] = input[a * g.InStride0 + b * g.InStride1 + c * g.InStride2 + d * g.InStride3];
    }
}
