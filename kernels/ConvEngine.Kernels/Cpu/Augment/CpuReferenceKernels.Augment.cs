using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>The augmentation kernels one pixel at a time, as TensorFlow's kernels read (image_ops.h, resize ops, adjust_contrast).</summary>
internal static partial class CpuReferenceKernels
{
    public static void ImageTransform(ReadOnlySpan<float> input, ReadOnlySpan<float> transforms, Span<float> output, in ImageTransformGeometry g)
    {
        for (int b = 0; b < g.N; b++)
        {
            var t = transforms.Slice(8 * b, 8);
            for (int y = 0; y < g.OH; y++)
            for (int x = 0; x < g.OW; x++)
            for (int c = 0; c < g.C; c++)
                output[((b * g.OH + y) * g.OW + x) * g.C + c] = TransformSample(input, t, b, x, y, c, g);
        }
    }

    /// <summary>TensorFlow's ProjectiveGenerator for one output value.</summary>
    private static float TransformSample(ReadOnlySpan<float> input, ReadOnlySpan<float> t, int b, int outX, int outY, int c, in ImageTransformGeometry g)
    {
        float fx = outX, fy = outY;
        float projection = t[6] * fx + t[7] * fy + 1f;
        if (projection == 0) return g.FillValue;
        float inX = (t[0] * fx + t[1] * fy + t[2]) / projection;
        float inY = (t[3] * fx + t[4] * fy + t[5]) / projection;
        float x = ImageTransformGeometry.MapCoordinate(inX, g.W, g.Fill);
        float y = ImageTransformGeometry.MapCoordinate(inY, g.H, g.Fill);
        if (!(x >= 0 && x <= g.W - 1 && y >= 0 && y <= g.H - 1)) return g.FillValue;
        if (g.Interpolation == InterpolationMode.Nearest)
            return Read(input, b, ImageTransformGeometry.RoundHalfUp(y), ImageTransformGeometry.RoundHalfUp(x), c, g);
        float yFloor = MathF.Floor(y), xFloor = MathF.Floor(x);
        float yCeil = yFloor + 1, xCeil = xFloor + 1;
        float top = (xCeil - x) * Read(input, b, (int)yFloor, (int)xFloor, c, g) + (x - xFloor) * Read(input, b, (int)yFloor, (int)xCeil, c, g);
        float bottom = (xCeil - x) * Read(input, b, (int)yCeil, (int)xFloor, c, g) + (x - xFloor) * Read(input, b, (int)yCeil, (int)xCeil, c, g);
        return (yCeil - y) * top + (y - yFloor) * bottom;
    }

    private static float Read(ReadOnlySpan<float> input, int b, int y, int x, int c, in ImageTransformGeometry g) =>
        y >= 0 && y < g.H && x >= 0 && x < g.W ? input[((b * g.H + y) * g.W + x) * g.C + c] : g.FillValue;

    public static void Flip(ReadOnlySpan<float> input, ReadOnlySpan<float> flags, Span<float> output, int n, int height, int width, int channels)
    {
        for (int b = 0; b < n; b++)
        {
            bool horizontal = flags[2 * b] != 0, vertical = flags[2 * b + 1] != 0;
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int sy = vertical ? height - 1 - y : y, sx = horizontal ? width - 1 - x : x;
                for (int c = 0; c < channels; c++)
                    output[((b * height + y) * width + x) * channels + c] = input[((b * height + sy) * width + sx) * channels + c];
            }
        }
    }

    public static void AdjustContrast(ReadOnlySpan<float> input, ReadOnlySpan<float> factors, Span<float> means, Span<float> output, in ContrastGeometry g)
    {
        for (int b = 0; b < g.N; b++)
        {
            float factor = factors[g.PerImage != 0 ? b : 0];
            for (int c = 0; c < g.C; c++)
            {
                double sum = 0;
                for (int p = 0; p < g.Pixels; p++) sum += input[(b * g.Pixels + p) * g.C + c];
                float mean = (float)(sum / g.Pixels);
                means[b * g.C + c] = mean;
                for (int p = 0; p < g.Pixels; p++)
                {
                    int i = (b * g.Pixels + p) * g.C + c;
                    output[i] = Math.Min(Math.Max((input[i] - mean) * factor + mean, g.Low), g.High);
                }
            }
        }
    }

    public static void AdjustBrightness(ReadOnlySpan<float> input, ReadOnlySpan<float> deltas, Span<float> output, int n, long sampleLength, float low, float high)
    {
        for (int b = 0; b < n; b++)
            for (long i = b * sampleLength; i < (b + 1) * sampleLength; i++)
                output[(int)i] = Math.Min(Math.Max(input[(int)i] + deltas[b], low), high);
    }

    public static void Resize(ReadOnlySpan<float> input, Span<float> output, in ResizeGeometry g)
    {
        for (int b = 0; b < g.N; b++)
        for (int y = 0; y < g.OH; y++)
        for (int x = 0; x < g.OW; x++)
        for (int c = 0; c < g.C; c++)
        {
            float value;
            if (g.Interpolation == InterpolationMode.Nearest)
            {
                int sy = g.CropTop + ResizeGeometry.NearestSource(y, g.CropHeight, g.OH);
                int sx = g.CropLeft + ResizeGeometry.NearestSource(x, g.CropWidth, g.OW);
                value = input[((b * g.H + sy) * g.W + sx) * g.C + c];
            }
            else
            {
                float cy = ResizeGeometry.BilinearCentre(y, g.CropHeight, g.OH), cx = ResizeGeometry.BilinearCentre(x, g.CropWidth, g.OW);
                int top = g.CropTop + ResizeGeometry.BilinearLower(cy), bottom = g.CropTop + ResizeGeometry.BilinearUpper(cy, g.CropHeight);
                int left = g.CropLeft + ResizeGeometry.BilinearLower(cx), right = g.CropLeft + ResizeGeometry.BilinearUpper(cx, g.CropWidth);
                float yLerp = ResizeGeometry.BilinearLerp(cy), xLerp = ResizeGeometry.BilinearLerp(cx);
                float topLeft = input[((b * g.H + top) * g.W + left) * g.C + c], topRight = input[((b * g.H + top) * g.W + right) * g.C + c];
                float bottomLeft = input[((b * g.H + bottom) * g.W + left) * g.C + c], bottomRight = input[((b * g.H + bottom) * g.W + right) * g.C + c];
                // TensorFlow's compute_lerp: along x on both rows, then along y.
                float upper = topLeft + (topRight - topLeft) * xLerp;
                float lower = bottomLeft + (bottomRight - bottomLeft) * xLerp;
                value = upper + (lower - upper) * yLerp;
            }
            output[((b * g.OH + y) * g.OW + x) * g.C + c] = value;
        }
    }
}
