using ConvEngine.Data.Images;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Cli.Commands;

/// <summary>How the feature-extraction demo filters and condenses.</summary>
/// <param name="Stride">Convolution stride along both axes.</param>
/// <param name="Padding">Convolution padding (the course uses same).</param>
/// <param name="Pool">Max-pool window and stride along both axes (the course uses 2).</param>
/// <param name="Repeat">How many times the condense step is applied.</param>
public sealed record FilterOptions(int Stride = 1, Padding? Padding = null, int Pool = 2, int Repeat = 1)
{
    public Padding ConvPadding => Padding ?? Kernels.Geometry.Padding.Same;
}

/// <summary>One stage's result copied to the host: shape (1, H, W, 1) and its values.</summary>
public sealed record FeatureMap(string Name, TensorShape Shape, float[] Values)
{
    public int Height => Shape[1];
    public int Width => Shape[2];
}

/// <summary>Every stage of the demo, in order.</summary>
public sealed record FilterStages(FeatureMap Image, FeatureMap Filtered, FeatureMap Detected, IReadOnlyList<FeatureMap> Condensed)
{
    public IEnumerable<FeatureMap> All => [Image, Filtered, Detected, .. Condensed];
}

/// <summary>
/// The course's feature-extraction demo (learntools visiontools; keras-semantics.md A):
/// filter = conv2d(image, kernel) with one filter and no bias; detect = ReLU; condense =
/// max pool (pool × pool, strides = pool, padding same), optionally repeated.
/// </summary>
public static class FilterPipeline
{
    /// <summary>
    /// Runs the stages on <paramref name="backend"/>. <paramref name="greyscale"/> is one channel
    /// in [0, 255] as ImageIO loads it; it is scaled to [0, 1] first, as tf.image.convert_image_dtype does for uint8.
    /// </summary>
    public static FilterStages Run(IBackend backend, ImageData greyscale, FilterKernel kernel, FilterOptions options)
    {
        if (greyscale.Channels != 1)
            throw new ArgumentException($"The filter demo works on one greyscale channel; got an image with {greyscale.Channels} channels.");
        if (options.Repeat < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"The condense step must run at least once; got repeat {options.Repeat}.");

        int h = greyscale.Height, w = greyscale.Width;
        var unit = new float[greyscale.Pixels.Length];
        for (int i = 0; i < unit.Length; i++) unit[i] = greyscale.Pixels[i] / 255f;

        using var image = Tensor.FromArray(backend, unit, 1, h, w, 1);
        using var filter = Tensor.FromArray(backend, kernel.Values, kernel.Size, kernel.Size, 1, 1);
        var convOptions = new Conv2DOptions { Padding = options.ConvPadding }.WithStrides(options.Stride);
        using var filtered = Ops.Conv2D(image, filter, bias: null, convOptions);
        using var detected = Ops.Relu(filtered);

        var poolOptions = Pool2DOptions.Square(options.Pool, options.Pool, Padding.Same);
        var condensed = new List<FeatureMap>(options.Repeat);
        Tensor current = detected;
        try
        {
            for (int r = 1; r <= options.Repeat; r++)
            {
                var next = Ops.MaxPool2D(current, poolOptions);
                if (!ReferenceEquals(current, detected)) current.Dispose();
                current = next;
                condensed.Add(ToHost(r == 1 ? "condensed" : $"condensed_{r}", current));
            }
        }
        finally
        {
            if (!ReferenceEquals(current, detected)) current.Dispose();
        }

        return new FilterStages(ToHost("image", image), ToHost("filtered", filtered), ToHost("detected", detected), condensed);
    }

    private static FeatureMap ToHost(string name, Tensor t) => new(name, t.Shape, t.ToArray());
}
