using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels;

/// <summary>
/// Image kernels of the augmentation layers (Keras's RandomFlip, RandomRotation, RandomContrast, Resizing …) on
/// channels-last (N, H, W, C) batches. The random draws are made by the caller from a counter-based generator and
/// arrive as small per-image parameter buffers, so every backend applies the same draws; the images stay on the device.
/// </summary>
public partial interface IBackend
{
    /// <summary>
    /// TensorFlow's ImageProjectiveTransformV3: output pixel (x, y) of image b reads the input at the point its row of
    /// <paramref name="transforms"/> (8 floats per image) maps it to, with the geometry's fill mode and interpolation;
    /// bilinear reads neighbours outside the image as the fill value.
    /// </summary>
    void ImageTransform(DeviceBuffer input, DeviceBuffer transforms, DeviceBuffer output, in ImageTransformGeometry g);

    /// <summary>
    /// Flips image b left-right when flags[2b] ≠ 0 and top-bottom when flags[2b + 1] ≠ 0; copies it otherwise.
    /// (N, H, W, C) in and out.
    /// </summary>
    void Flip(DeviceBuffer input, DeviceBuffer flags, DeviceBuffer output, int n, int height, int width, int channels);

    /// <summary>
    /// out = clip((x − mean)·f + mean, low, high), the mean over each image's pixels per channel (written into
    /// <paramref name="means"/>, N·C floats), f = factors[b] per image or factors[0] for the batch.
    /// </summary>
    void AdjustContrast(DeviceBuffer input, DeviceBuffer factors, DeviceBuffer means, DeviceBuffer output, in ContrastGeometry g);

    /// <summary>out = clip(x + deltas[b], low, high) over each image's <paramref name="sampleLength"/> values.</summary>
    void AdjustBrightness(DeviceBuffer input, DeviceBuffer deltas, DeviceBuffer output, int n, long sampleLength, float low, float high);

    /// <summary>tf.image.resize (half-pixel centres, bilinear or nearest) of each image's window; a window of the output's size copies it (a crop).</summary>
    void Resize(DeviceBuffer input, DeviceBuffer output, in ResizeGeometry g);
}
