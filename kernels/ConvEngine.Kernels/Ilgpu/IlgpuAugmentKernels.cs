using ConvEngine.Kernels.Geometry;
using ILGPU;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>
/// The augmentation kernels, one thread per output value (the channel means: one per image and channel). The
/// coordinate arithmetic is the geometry's (<see cref="ImageTransformGeometry.MapCoordinate"/>, <see cref="ResizeGeometry"/>),
/// shared with the cpu kernels.
/// </summary>
internal static class IlgpuAugmentKernels
{
    /// <summary>TensorFlow's ProjectiveGenerator: output value (b, y, x, c) from its image's row of 8 transform floats.</summary>
    public static void ImageTransform(Index1D index, ArrayView<float> input, ArrayView<float> transforms, ArrayView<float> output, ImageTransformGeometry g)
    {
        int c = index % g.C;
        int pixel = index / g.C;
        int outX = pixel % g.OW;
        int outY = pixel / g.OW % g.OH;
        int b = pixel / (g.OW * g.OH);
        int t = 8 * b;
        float fx = outX, fy = outY;
        float projection = transforms[t + 6] * fx + transforms[t + 7] * fy + 1f;
        if (projection == 0)
        {
            output[index] = g.FillValue;
            return;
        }
        float inX = (transforms[t] * fx + transforms[t + 1] * fy + transforms[t + 2]) / projection;
        float inY = (transforms[t + 3] * fx + transforms[t + 4] * fy + transforms[t + 5]) / projection;
        float x = ImageTransformGeometry.MapCoordinate(inX, g.W, g.Fill);
        float y = ImageTransformGeometry.MapCoordinate(inY, g.H, g.Fill);
        if (!(x >= 0 && x <= g.W - 1 && y >= 0 && y <= g.H - 1))
        {
            output[index] = g.FillValue;
            return;
        }
        int imageBase = b * g.H;
        if (g.Interpolation == InterpolationMode.Nearest)
        {
            output[index] = input[((imageBase + ImageTransformGeometry.RoundHalfUp(y)) * g.W + ImageTransformGeometry.RoundHalfUp(x)) * g.C + c];
            return;
        }
        float yFloor = MathF.Floor(y), xFloor = MathF.Floor(x);
        float yCeil = yFloor + 1, xCeil = xFloor + 1;
        int y0 = (int)yFloor, x0 = (int)xFloor;
        float v00 = input[((imageBase + y0) * g.W + x0) * g.C + c];
        float v01 = x0 + 1 < g.W ? input[((imageBase + y0) * g.W + x0 + 1) * g.C + c] : g.FillValue;
        float v10 = y0 + 1 < g.H ? input[((imageBase + y0 + 1) * g.W + x0) * g.C + c] : g.FillValue;
        float v11 = x0 + 1 < g.W && y0 + 1 < g.H ? input[((imageBase + y0 + 1) * g.W + x0 + 1) * g.C + c] : g.FillValue;
        float top = (xCeil - x) * v00 + (x - xFloor) * v01;
        float bottom = (xCeil - x) * v10 + (x - xFloor) * v11;
        output[index] = (yCeil - y) * top + (y - yFloor) * bottom;
    }

    /// <summary>Output value (b, y, x, c) copies the input at the flipped position of its image's flags.</summary>
    public static void Flip(Index1D index, ArrayView<float> input, ArrayView<float> flags, ArrayView<float> output, int height, int width, int channels)
    {
        int c = index % channels;
        int pixel = index / channels;
        int x = pixel % width;
        int y = pixel / width % height;
        int b = pixel / (width * height);
        int sx = flags[2 * b] != 0 ? width - 1 - x : x;
        int sy = flags[2 * b + 1] != 0 ? height - 1 - y : y;
        output[index] = input[((b * height + sy) * width + sx) * channels + c];
    }

    /// <summary>means[b·C + c] = the mean of image b's channel c, a compensated float sum (GPUs may lack fp64).</summary>
    public static void ChannelMeans(Index1D index, ArrayView<float> input, ArrayView<float> means, int pixels, int channels)
    {
        int c = index % channels;
        int b = index / channels;
        float sum = 0f, compensation = 0f;
        for (int p = 0; p < pixels; p++)
        {
            float term = input[(b * pixels + p) * channels + c] - compensation;
            float next = sum + term;
            compensation = next - sum - term;
            sum = next;
        }
        means[index] = sum / pixels;
    }

    /// <summary>out = clip((x − mean)·f + mean, low, high) with its image's (or the batch's) factor.</summary>
    public static void AdjustContrast(Index1D index, ArrayView<float> input, ArrayView<float> factors, ArrayView<float> means, ArrayView<float> output, ContrastGeometry g)
    {
        int c = index % g.C;
        int b = index / (g.C * g.Pixels);
        float mean = means[b * g.C + c];
        float value = (input[index] - mean) * factors[g.PerImage != 0 ? b : 0] + mean;
        output[index] = value < g.Low ? g.Low : value > g.High ? g.High : value;
    }

    /// <summary>out = clip(x + delta[b], low, high).</summary>
    public static void AdjustBrightness(Index1D index, ArrayView<float> input, ArrayView<float> deltas, ArrayView<float> output, int sampleLength, float low, float high)
    {
        float value = input[index] + deltas[index / sampleLength];
        output[index] = value < low ? low : value > high ? high : value;
    }

    /// <summary>tf.image.resize with half-pixel centres of the window; one thread per output value.</summary>
    public static void Resize(Index1D index, ArrayView<float> input, ArrayView<float> output, ResizeGeometry g)
    {
        int c = index % g.C;
        int pixel = index / g.C;
        int x = pixel % g.OW;
        int y = pixel / g.OW % g.OH;
        int b = pixel / (g.OW * g.OH);
        if (g.Interpolation == InterpolationMode.Nearest)
        {
            int sy = g.CropTop + ResizeGeometry.NearestSource(y, g.CropHeight, g.OH);
            int sx = g.CropLeft + ResizeGeometry.NearestSource(x, g.CropWidth, g.OW);
            output[index] = input[((b * g.H + sy) * g.W + sx) * g.C + c];
            return;
        }
        float cy = ResizeGeometry.BilinearCentre(y, g.CropHeight, g.OH), cx = ResizeGeometry.BilinearCentre(x, g.CropWidth, g.OW);
        int top = g.CropTop + ResizeGeometry.BilinearLower(cy), bottom = g.CropTop + ResizeGeometry.BilinearUpper(cy, g.CropHeight);
        int left = g.CropLeft + ResizeGeometry.BilinearLower(cx), right = g.CropLeft + ResizeGeometry.BilinearUpper(cx, g.CropWidth);
        float yLerp = ResizeGeometry.BilinearLerp(cy), xLerp = ResizeGeometry.BilinearLerp(cx);
        float topLeft = input[((b * g.H + top) * g.W + left) * g.C + c], topRight = input[((b * g.H + top) * g.W + right) * g.C + c];
        float bottomLeft = input[((b * g.H + bottom) * g.W + left) * g.C + c], bottomRight = input[((b * g.H + bottom) * g.W + right) * g.C + c];
        float upper = topLeft + (topRight - topLeft) * xLerp;
        float lower = bottomLeft + (bottomRight - bottomLeft) * xLerp;
        output[index] = upper + (lower - upper) * yLerp;
    }
}
