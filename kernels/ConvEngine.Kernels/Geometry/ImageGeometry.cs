namespace ConvEngine.Kernels.Geometry;

/// <summary>
/// How a projective transform fills output pixels whose source lies outside the input (TensorFlow's
/// ImageProjectiveTransformV3 fill_mode): reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d),
/// constant (k k | a b c d | k k, k = fill value) and nearest (a a | a b c d | d d).
/// </summary>
public enum FillMode
{
    /// <summary>Mirrored about the edge of the last pixel (d c b a | a b c d | d c b a).</summary>
    Reflect,
    /// <summary>The image repeated (a b c d | a b c d | a b c d).</summary>
    Wrap,
    /// <summary>A constant value (k k k k | a b c d | k k k k).</summary>
    Constant,
    /// <summary>The nearest edge pixel repeated (a a a a | a b c d | d d d d).</summary>
    Nearest,
}

/// <summary>How a source point between pixels is read: bilinear (four neighbours) or nearest (rounded half away from zero).</summary>
public enum InterpolationMode
{
    /// <summary>Linear in each direction between the four nearest pixels.</summary>
    Bilinear,
    /// <summary>The nearest pixel.</summary>
    Nearest,
}

/// <summary>
/// A batch of projective transforms (N, H, W, C) → (N, OH, OW, C). Each image has its own row of 8 floats
/// [a0 a1 a2 b0 b1 b2 c0 c1] that maps an output pixel (x, y) to the input point
/// ((a0 x + a1 y + a2)/k, (b0 x + b1 y + b2)/k), k = c0 x + c1 y + 1, as TensorFlow's kernel does.
/// </summary>
public readonly record struct ImageTransformGeometry(int N, int H, int W, int C, int OH, int OW,
    FillMode Fill, InterpolationMode Interpolation, float FillValue)
{
    /// <summary>(N, H, W, C).</summary>
    public TensorShape InputShape => new(N, H, W, C);
    /// <summary>(N, OH, OW, C).</summary>
    public TensorShape OutputShape => new(N, OH, OW, C);
    /// <summary>Floats of the transforms buffer: 8 per image.</summary>
    public long TransformsLength => 8L * N;

    /// <summary>Resolves and validates a transform of <paramref name="input"/> (N, H, W, C) to <paramref name="outHeight"/>×<paramref name="outWidth"/>; errors start with <paramref name="op"/>.</summary>
    public static ImageTransformGeometry Create(string op, TensorShape input, int outHeight, int outWidth,
        FillMode fill, InterpolationMode interpolation, float fillValue)
    {
        ImageShapes.RequireImages(op, input);
        if (outHeight < 1 || outWidth < 1)
            throw new ShapeException($"{op}: the output size must be positive, got {outHeight}x{outWidth}; input {input}.");
        return new ImageTransformGeometry(input[0], input[1], input[2], input[3], outHeight, outWidth, fill, interpolation, fillValue);
    }

    /// <summary>
    /// Reflect, wrap and nearest first bound coordinates to ±2²² pixels, so their integer arithmetic stays exact in
    /// float32 (TensorFlow's int64 arithmetic gives the same there; beyond it a transform is degenerate anyway).
    /// </summary>
    public const float CoordinateBound = 4194304f;

    /// <summary>
    /// TensorFlow's MapCoordinate (image_ops.h, after scipy's ndimage): brings a source coordinate outside
    /// [0, len − 1] back inside by the fill mode, then clamps it to [0, len − 1] (constant leaves it, so the
    /// caller sees it is outside). Wrap divides by len − 1, exactly as TensorFlow does.
    /// </summary>
    public static float MapCoordinate(float coordinate, int length, FillMode mode)
    {
        if (mode == FillMode.Constant) return coordinate;
        float c = coordinate < -CoordinateBound ? -CoordinateBound : coordinate > CoordinateBound ? CoordinateBound : coordinate;
        switch (mode)
        {
            case FillMode.Reflect:
                if (c < 0)
                {
                    if (length <= 1) c = 0;
                    else
                    {
                        int period = 2 * length;
                        c = period * (int)(-c / period) + c;
                        c = c < -length ? c + period : -c - 1;
                    }
                }
                else if (c > length - 1)
                {
                    if (length <= 1) c = 0;
                    else
                    {
                        int period = 2 * length;
                        c -= period * (int)(c / period);
                        if (c >= length) c = period - c - 1;
                    }
                }
                break;
            case FillMode.Wrap:
                if (c < 0)
                {
                    if (length <= 1) c = 0;
                    else c += length * ((int)(-c / (length - 1)) + 1);
                }
                else if (c > length - 1)
                {
                    if (length <= 1) c = 0;
                    else c -= length * (int)(c / (length - 1));
                }
                break;
        }
        // Clamp, as TensorFlow does after every mode but constant: 3.5 in a length 4 would otherwise round to 4.
        return c < 0 ? 0 : c > length - 1 ? length - 1 : c;
    }

    /// <summary>std::round for the non-negative coordinates the sampler rounds: halves go up. Exact in float32.</summary>
    public static int RoundHalfUp(float nonNegative)
    {
        float floor = MathF.Floor(nonNegative);
        return (int)(nonNegative - floor >= 0.5f ? floor + 1 : floor);
    }
}

/// <summary>
/// Resizing as tf.image.resize does it (half-pixel centres, no antialiasing), of a crop window of each image:
/// (N, H, W, C) → (N, OH, OW, C), reading rows [CropTop, CropTop + CropHeight) and columns [CropLeft, CropLeft + CropWidth).
/// The whole image is the window (0, 0, H, W); a window of the output's size is a crop (scale 1 reads pixels exactly).
/// Keras's smart_resize is a centred window of the target's aspect ratio.
/// </summary>
public readonly record struct ResizeGeometry(int N, int H, int W, int C, int OH, int OW,
    int CropTop, int CropLeft, int CropHeight, int CropWidth, InterpolationMode Interpolation)
{
    /// <summary>(N, H, W, C).</summary>
    public TensorShape InputShape => new(N, H, W, C);
    /// <summary>(N, OH, OW, C).</summary>
    public TensorShape OutputShape => new(N, OH, OW, C);
    /// <summary>The window has the output's size: every output pixel is one input pixel.</summary>
    public bool IsCrop => CropHeight == OH && CropWidth == OW;

    /// <summary>Resizes the whole image to <paramref name="outHeight"/> × <paramref name="outWidth"/>.</summary>
    public static ResizeGeometry Create(string op, TensorShape input, int outHeight, int outWidth, InterpolationMode interpolation)
    {
        ImageShapes.RequireImages(op, input);
        return Window(op, input, outHeight, outWidth, 0, 0, input[1], input[2], interpolation);
    }

    /// <summary>The window <paramref name="top"/>, <paramref name="left"/>, <paramref name="height"/> × <paramref name="width"/> as it is (a crop).</summary>
    public static ResizeGeometry Crop(string op, TensorShape input, int top, int left, int height, int width) =>
        Window(op, input, height, width, top, left, height, width, InterpolationMode.Nearest);

    /// <summary>Keras's smart_resize: the largest centred window of the target's aspect ratio, resized to it.</summary>
    public static ResizeGeometry SmartResize(string op, TensorShape input, int outHeight, int outWidth, InterpolationMode interpolation)
    {
        ImageShapes.RequireImages(op, input);
        if (outHeight < 1 || outWidth < 1)
            throw new ShapeException($"{op}: the target size must be positive, got {outHeight}x{outWidth}; input {input}.");
        int height = input[1], width = input[2];
        // image_utils.smart_resize: float32 products and divisions, truncated to int.
        int cropHeight = Math.Min(height, (int)((float)(width * outHeight) / outWidth));
        int cropWidth = Math.Min(width, (int)((float)(height * outWidth) / outHeight));
        cropHeight = Math.Max(cropHeight, 1);
        cropWidth = Math.Max(cropWidth, 1);
        int top = (int)((float)(height - cropHeight) / 2), left = (int)((float)(width - cropWidth) / 2);
        return Window(op, input, outHeight, outWidth, top, left, cropHeight, cropWidth, interpolation);
    }

    /// <summary>A general window, checked to lie inside the image.</summary>
    public static ResizeGeometry Window(string op, TensorShape input, int outHeight, int outWidth,
        int top, int left, int cropHeight, int cropWidth, InterpolationMode interpolation)
    {
        ImageShapes.RequireImages(op, input);
        if (outHeight < 1 || outWidth < 1)
            throw new ShapeException($"{op}: the output size must be positive, got {outHeight}x{outWidth}; input {input}.");
        if (cropHeight < 1 || cropWidth < 1 || top < 0 || left < 0 || top + cropHeight > input[1] || left + cropWidth > input[2])
            throw new ShapeException($"{op}: the window {cropHeight}x{cropWidth} at (top {top}, left {left}) does not lie inside the {input[1]}x{input[2]} images of input {input}.");
        return new ResizeGeometry(input[0], input[1], input[2], input[3], outHeight, outWidth, top, left, cropHeight, cropWidth, interpolation);
    }

    /// <summary>
    /// TensorFlow's resize_nearest_neighbor with half_pixel_centers: source = floor((dst + 0.5)·scale), clamped to
    /// [0, in − 1], scale = in/out in float32. Relative to the window.
    /// </summary>
    public static int NearestSource(int dst, int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        int source = (int)MathF.Floor((dst + 0.5f) * scale);
        return source < 0 ? 0 : source > inSize - 1 ? inSize - 1 : source;
    }

    /// <summary>TensorFlow's half-pixel source centre for bilinear resizing: (dst + 0.5)·scale − 0.5, scale = in/out in float32.</summary>
    public static float BilinearCentre(int dst, int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        return (dst + 0.5f) * scale - 0.5f;
    }

    /// <summary>The lower bilinear neighbour of <paramref name="centre"/>: floor, at least 0.</summary>
    public static int BilinearLower(float centre)
    {
        int lower = (int)MathF.Floor(centre);
        return lower < 0 ? 0 : lower;
    }

    /// <summary>The upper bilinear neighbour of <paramref name="centre"/>: ceil, at most in − 1.</summary>
    public static int BilinearUpper(float centre, int inSize)
    {
        int upper = (int)MathF.Ceiling(centre);
        return upper > inSize - 1 ? inSize - 1 : upper;
    }

    /// <summary>The weight of the upper neighbour: centre − floor(centre).</summary>
    public static float BilinearLerp(float centre) => centre - MathF.Floor(centre);
}

/// <summary>
/// RandomContrast over (N, pixels, C): out = clip((x − mean)·f + mean, Low, High), the mean per image and channel,
/// f one factor per image (<see cref="PerImage"/> = 1, Keras 3) or one for the whole batch (0, Keras 2).
/// </summary>
public readonly record struct ContrastGeometry(int N, int Pixels, int C, int PerImage, float Low, float High)
{
    /// <summary>Values in the batch: N·pixels·C.</summary>
    public long Length => (long)N * Pixels * C;
    /// <summary>Contrast factors given: one per image, or one for the whole batch.</summary>
    public int FactorCount => PerImage != 0 ? N : 1;
}

/// <summary>Shape checks shared by the image ops.</summary>
public static class ImageShapes
{
    /// <summary>Fails unless <paramref name="input"/> is a non-empty (N, H, W, C) batch.</summary>
    public static void RequireImages(string op, TensorShape input)
    {
        if (input.Rank != 4 || input[0] < 1 || input[1] < 1 || input[2] < 1 || input[3] < 1)
            throw new ShapeException($"{op}: input must be a batch of images (N, H, W, C) with every size positive; got {input}.");
    }
}
