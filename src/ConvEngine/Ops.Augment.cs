using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine;

/// <summary>
/// Image ops of the augmentation layers on (N, H, W, C) batches, as TensorFlow defines them: the projective sampler
/// (tf.image.transform / ImageProjectiveTransformV3), flips, contrast and brightness, and tf.image.resize with
/// half-pixel centres (with crops and Keras's smart_resize). Parameters are host values; the images stay on their backend.
/// </summary>
public static partial class Ops
{
    /// <summary>
    /// Applies projective transforms: <paramref name="transforms"/> holds one row [a0 a1 a2 b0 b1 b2 c0 c1] for every
    /// image (8·N floats) or one for all (8); output pixel (x, y) reads the input at ((a0 x + a1 y + a2)/k, (b0 x + b1 y + b2)/k),
    /// k = c0 x + c1 y + 1. The output has the input's size unless <paramref name="outputSize"/> says otherwise.
    /// </summary>
    public static Tensor ImageTransform(Tensor images, ReadOnlySpan<float> transforms, FillMode fillMode = FillMode.Reflect,
        InterpolationMode interpolation = InterpolationMode.Bilinear, float fillValue = 0f, (int Height, int Width)? outputSize = null)
    {
        const string op = "ImageTransform";
        ImageShapes.RequireImages(op, images.Shape);
        var (height, width) = outputSize ?? (images.Shape[1], images.Shape[2]);
        var g = ImageTransformGeometry.Create(op, images.Shape, height, width, fillMode, interpolation, fillValue);
        if (transforms.Length != 8 && transforms.Length != g.TransformsLength)
            throw new ShapeException($"{op}: transforms must hold 8 floats (one row for all images) or 8 per image ({g.TransformsLength}); got {transforms.Length} for input {images.Shape}.");
        var rows = new float[g.TransformsLength];
        for (int b = 0; b < g.N; b++) transforms.Slice(transforms.Length == 8 ? 0 : 8 * b, 8).CopyTo(rows.AsSpan(8 * b, 8));
        using var t = Tensor.FromArray(images.Backend, rows, rows.Length);
        var output = Tensor.Zeros(images.Backend, g.OutputShape);
        images.Backend.ImageTransform(images.Buffer, t.Buffer, output.Buffer, g);
        return output;
    }

    /// <summary>Flips image b left-right where <paramref name="horizontal"/>[b] and top-bottom where <paramref name="vertical"/>[b].</summary>
    public static Tensor Flip(Tensor images, ReadOnlySpan<bool> horizontal, ReadOnlySpan<bool> vertical)
    {
        const string op = "Flip";
        ImageShapes.RequireImages(op, images.Shape);
        int n = images.Shape[0];
        if (horizontal.Length != n || vertical.Length != n)
            throw new ShapeException($"{op}: one horizontal and one vertical flag per image ({n}); got {horizontal.Length} and {vertical.Length} for input {images.Shape}.");
        var flags = new float[2 * n];
        for (int b = 0; b < n; b++)
        {
            flags[2 * b] = horizontal[b] ? 1 : 0;
            flags[2 * b + 1] = vertical[b] ? 1 : 0;
        }
        using var f = Tensor.FromArray(images.Backend, flags, flags.Length);
        var output = Tensor.Zeros(images.Backend, images.Shape);
        images.Backend.Flip(images.Buffer, f.Buffer, output.Buffer, n, images.Shape[1], images.Shape[2], images.Shape[3]);
        return output;
    }

    /// <summary>
    /// tf.image.adjust_contrast then a clip: (x − mean)·f + mean, the mean per image and channel, clipped to
    /// [<paramref name="low"/>, <paramref name="high"/>]; <paramref name="factors"/> holds one factor for the batch or one per image.
    /// </summary>
    public static Tensor AdjustContrast(Tensor images, ReadOnlySpan<float> factors, float low = float.NegativeInfinity, float high = float.PositiveInfinity)
    {
        const string op = "AdjustContrast";
        ImageShapes.RequireImages(op, images.Shape);
        int n = images.Shape[0], c = images.Shape[3];
        if (factors.Length != 1 && factors.Length != n)
            throw new ShapeException($"{op}: one factor for the batch or one per image ({n}); got {factors.Length} for input {images.Shape}.");
        var g = new ContrastGeometry(n, images.Shape[1] * images.Shape[2], c, factors.Length == 1 ? 0 : 1, low, high);
        using var f = Tensor.FromArray(images.Backend, factors, factors.Length);
        using var means = Tensor.Zeros(images.Backend, n, c);
        var output = Tensor.Zeros(images.Backend, images.Shape);
        images.Backend.AdjustContrast(images.Buffer, f.Buffer, means.Buffer, output.Buffer, g);
        return output;
    }

    /// <summary>Adds <paramref name="deltas"/>[b] to every value of image b, then clips to [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public static Tensor AdjustBrightness(Tensor images, ReadOnlySpan<float> deltas, float low = float.NegativeInfinity, float high = float.PositiveInfinity)
    {
        const string op = "AdjustBrightness";
        ImageShapes.RequireImages(op, images.Shape);
        int n = images.Shape[0];
        if (deltas.Length != n)
            throw new ShapeException($"{op}: one delta per image ({n}); got {deltas.Length} for input {images.Shape}.");
        using var d = Tensor.FromArray(images.Backend, deltas, n);
        var output = Tensor.Zeros(images.Backend, images.Shape);
        images.Backend.AdjustBrightness(images.Buffer, d.Buffer, output.Buffer, n, images.Shape.SampleLength, low, high);
        return output;
    }

    /// <summary>tf.image.resize (antialias off): half-pixel centres, bilinear or nearest.</summary>
    public static Tensor Resize(Tensor images, int height, int width, InterpolationMode interpolation = InterpolationMode.Bilinear) =>
        Resize(images, ResizeGeometry.Create("Resize", images.Shape, height, width, interpolation));

    /// <summary>tf.image.crop_to_bounding_box: the window at (top, left) of height × width, of every image.</summary>
    public static Tensor Crop(Tensor images, int top, int left, int height, int width) =>
        Resize(images, ResizeGeometry.Crop("Crop", images.Shape, top, left, height, width));

    /// <summary>Keras's smart_resize: the largest centred window of the target's aspect ratio, resized to height × width.</summary>
    public static Tensor SmartResize(Tensor images, int height, int width, InterpolationMode interpolation = InterpolationMode.Bilinear) =>
        Resize(images, ResizeGeometry.SmartResize("SmartResize", images.Shape, height, width, interpolation));

    private static Tensor Resize(Tensor images, in ResizeGeometry g)
    {
        var output = Tensor.Zeros(images.Backend, g.OutputShape);
        images.Backend.Resize(images.Buffer, output.Buffer, g);
        return output;
    }
}
