using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Data.Images;

/// <summary>Resampling method, named as tf.image.resize names them.</summary>
public enum Interpolation
{
    /// <summary>The nearest source pixel (tf.image's half-pixel rounding).</summary>
    Nearest,
    /// <summary>Linear in each direction between the four nearest source pixels, half-pixel centres.</summary>
    Bilinear,
}

/// <summary>
/// Image resizing as tf.image.resize (TF 2) does it: half-pixel centres, no antialiasing, float32 arithmetic.
/// Pixels are (H, W, C) channels-last floats.
/// </summary>
public static class Resize
{
    /// <summary>Resizes <paramref name="image"/> to (height, width); returns the same instance when the size already matches (Keras skips the resize then).</summary>
    public static ImageData Apply(ImageData image, int height, int width, Interpolation method)
    {
        if (image.Height == height && image.Width == width)
            return image;
        var output = new float[height * width * image.Channels];
        Into(image.Pixels, image.Height, image.Width, image.Channels, output, height, width, method);
        return new ImageData(height, width, image.Channels, output);
    }

    /// <summary>Resizes (inHeight, inWidth, channels) <paramref name="input"/> into (outHeight, outWidth, channels) <paramref name="output"/>.</summary>
    public static void Into(ReadOnlySpan<float> input, int inHeight, int inWidth, int channels,
                            Span<float> output, int outHeight, int outWidth, Interpolation method)
    {
        if (inHeight <= 0 || inWidth <= 0 || outHeight <= 0 || outWidth <= 0 || channels <= 0)
            throw new ArgumentException($"Resize: sizes must be positive, got input {inHeight}x{inWidth}x{channels} and output {outHeight}x{outWidth}.");
        if (input.Length != inHeight * inWidth * channels)
            throw new ArgumentException($"Resize: input has {input.Length} values, not {inHeight}x{inWidth}x{channels}.");
        if (output.Length != outHeight * outWidth * channels)
            throw new ArgumentException($"Resize: output has {output.Length} values, not {outHeight}x{outWidth}x{channels}.");
        if (method == Interpolation.Nearest)
            Nearest(input, inHeight, inWidth, channels, output, outHeight, outWidth);
        else
            Bilinear(input, inHeight, inWidth, channels, output, outHeight, outWidth);
    }

    /// <summary>
    /// TF's resize_nearest_neighbor with half_pixel_centers=True: source index = floor((dst + 0.5)·scale),
    /// clamped to [0, in − 1], scale = in / out in float32.
    /// </summary>
    public static int NearestSourceIndex(int dst, int inSize, int outSize) => ResizeGeometry.NearestSource(dst, inSize, outSize);

    /// <summary>
    /// TF's bilinear weights with half-pixel centres: centre = (dst + 0.5)·scale − 0.5; the neighbours floor and
    /// ceil of it, clamped to [0, in − 1]; the weight of the upper one is centre − floor(centre).
    /// </summary>
    public static (int Lower, int Upper, float Lerp) BilinearSource(int dst, int inSize, int outSize)
    {
        // One definition of the arithmetic for the cpu family: the augmentation kernels read the same geometry.
        float centre = ResizeGeometry.BilinearCentre(dst, inSize, outSize);
        return (ResizeGeometry.BilinearLower(centre), ResizeGeometry.BilinearUpper(centre, inSize), ResizeGeometry.BilinearLerp(centre));
    }

    private static void Nearest(ReadOnlySpan<float> input, int inHeight, int inWidth, int channels,
                                Span<float> output, int outHeight, int outWidth)
    {
        Span<int> columns = outWidth <= 1024 ? stackalloc int[outWidth] : new int[outWidth];
        for (int x = 0; x < outWidth; x++)
            columns[x] = NearestSourceIndex(x, inWidth, outWidth) * channels;
        for (int y = 0; y < outHeight; y++)
        {
            var sourceRow = input.Slice(NearestSourceIndex(y, inHeight, outHeight) * inWidth * channels, inWidth * channels);
            var outputRow = output.Slice(y * outWidth * channels, outWidth * channels);
            for (int x = 0; x < outWidth; x++)
                sourceRow.Slice(columns[x], channels).CopyTo(outputRow.Slice(x * channels, channels));
        }
    }

    private static void Bilinear(ReadOnlySpan<float> input, int inHeight, int inWidth, int channels,
                                 Span<float> output, int outHeight, int outWidth)
    {
        var columns = new (int Lower, int Upper, float Lerp)[outWidth];
        for (int x = 0; x < outWidth; x++)
            columns[x] = BilinearSource(x, inWidth, outWidth);
        int inRow = inWidth * channels;
        for (int y = 0; y < outHeight; y++)
        {
            var (top, bottom, yLerp) = BilinearSource(y, inHeight, outHeight);
            var topRow = input.Slice(top * inRow, inRow);
            var bottomRow = input.Slice(bottom * inRow, inRow);
            var outputRow = output.Slice(y * outWidth * channels, outWidth * channels);
            for (int x = 0; x < outWidth; x++)
            {
                var (left, right, xLerp) = columns[x];
                for (int c = 0; c < channels; c++)
                {
                    // TF's compute_lerp in the same float32 order: lerp along x on both rows, then along y.
                    float topLeft = topRow[left * channels + c], topRight = topRow[right * channels + c];
                    float bottomLeft = bottomRow[left * channels + c], bottomRight = bottomRow[right * channels + c];
                    float upper = topLeft + (topRight - topLeft) * xLerp;
                    float lower = bottomLeft + (bottomRight - bottomLeft) * xLerp;
                    outputRow[x * channels + c] = upper + (lower - upper) * yLerp;
                }
            }
        }
    }
}
