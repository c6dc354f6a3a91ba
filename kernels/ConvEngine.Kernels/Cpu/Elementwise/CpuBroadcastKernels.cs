using System.Numerics.Tensors;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Multiplication by a per-sample (or per-sample-and-channel) scale broadcast over the spatial positions, and
/// its gradient with respect to the scale (see <see cref="IBackend.MultiplyBroadcast"/>). Split over images, or
/// over channel ranges when there are fewer images than threads; each output value is summed in position order.
/// </summary>
internal static class CpuBroadcastKernels
{
    private const long MinFloatsPerPart = 1 << 15;

    public static void Multiply(int threads, float[] input, float[] scale, float[] output, int n, int spatial, int channels, int scaleChannels)
    {
        long rows = (long)n * spatial;
        CpuParallel.For(threads, rows, Math.Max(1, MinFloatsPerPart / Math.Max(1, channels)), (start, end) =>
        {
            for (long r = start; r < end; r++)
            {
                int b = (int)(r / spatial);
                var x = input.AsSpan((int)(r * channels), channels);
                var y = output.AsSpan((int)(r * channels), channels);
                if (scaleChannels == 1) TensorPrimitives.Multiply(x, scale[b], y);
                else TensorPrimitives.Multiply(x, scale.AsSpan(b * channels, channels), y);
            }
        });
    }

    public static void MultiplyBackward(int threads, float[] input, float[] gradOutput, float[] gradScale, int n, int spatial, int channels, int scaleChannels)
    {
        bool splitImages = n >= threads || scaleChannels == 1;
        int units = splitImages ? n : channels;
        int parts = Math.Min(units, CpuParallel.Parts(threads, (long)n * spatial * channels, MinFloatsPerPart));
        CpuParallel.For(parts, part =>
        {
            var (u0, u1) = CpuParallel.Range(units, parts, part, splitImages ? 1 : 16);
            int b0 = splitImages ? u0 : 0, b1 = splitImages ? u1 : n;
            int c0 = splitImages ? 0 : u0, width = splitImages ? channels : u1 - u0;
            Span<float> product = width <= 1024 ? stackalloc float[width] : new float[width];
            for (int b = b0; b < b1; b++)
            {
                if (scaleChannels == 1)
                {
                    float sum = 0f;
                    for (int s = 0; s < spatial; s++)
                    {
                        int row = (b * spatial + s) * channels;
                        sum += TensorPrimitives.Dot(input.AsSpan(row, channels), gradOutput.AsSpan(row, channels));
                    }
                    gradScale[b] = sum;
                    continue;
                }
                var acc = gradScale.AsSpan(b * channels + c0, width);
                acc.Clear();
                for (int s = 0; s < spatial; s++)
                {
                    int row = (b * spatial + s) * channels + c0;
                    TensorPrimitives.Multiply(input.AsSpan(row, width), gradOutput.AsSpan(row, width), product);
                    TensorPrimitives.Add(acc, product, acc);
                }
            }
        });
    }
}
