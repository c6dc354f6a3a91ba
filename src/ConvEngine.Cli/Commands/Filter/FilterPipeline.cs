using ConvEngine.Data.Images;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Cli.Commands;

/// <summary>How the feature-extraction demo filters and condenses.</summary>
/// <param name="Stride">Convolution stride along both axes.</param>
/// <param name="Padding">Convolution padding (the course uses same).</param>
/// <param name="Pool">Max-pool window and stride along both axes (the course uses 2).</param>
/// <param name="Repeat">How many times the condense step is applied.</param>
/// <param name="PoolPadding">The max pool's padding (the course uses same).</param>
internal sealed record FilterOptions(int Stride = 1, Padding? Padding = null, int Pool = 2, int Repeat = 1, Padding? PoolPadding = null)
{
    public Padding ConvPadding => Padding ?? Kernels.Geometry.Padding.Same;
    public Padding CondensePadding => PoolPadding ?? Kernels.Geometry.Padding.Same;
}

/// <summary>One stage's result copied to the host: shape (1, H, W, C) and its values.</summary>
internal sealed record FilterStage(string Name, TensorShape Shape, float[] Values)
{
    public int Height => Shape[1];
    public int Width => Shape[2];
    public int Channels => Shape[3];
}

/// <summary>Every stage of the demo, in order.</summary>
internal sealed record FilterStages(FilterStage Image, FilterStage Filtered, FilterStage Detected, IReadOnlyList<FilterStage> Condensed)
{
    public IEnumerable<FilterStage> All => [Image, Filtered, Detected, .. Condensed];
}

/// <summary>
/// The course's feature-extraction demo (learntools visiontools; keras-semantics.md A):
/// filter = conv2d(image, kernel) with one filter and no bias; detect = ReLU; condense =
/// max pool (pool × pool, strides = pool, padding same unless told otherwise), optionally repeated.
/// A colour image is filtered per channel: the kernel runs on each channel on its own (a depthwise
/// convolution, groups = channels), so the output keeps the image's channels.
/// </summary>
internal static class FilterPipeline
{
    /// <summary>
    /// Runs the stages on <paramref name="backend"/>. <paramref name="image"/> is one (greyscale) or more channels
    /// in [0, 255] as ImageIO loads them; it is scaled to [0, 1] first, as tf.image.convert_image_dtype does for uint8.
    /// </summary>
    public static FilterStages Run(IBackend backend, ImageData image, FilterKernel kernel, FilterOptions options)
    {
        if (options.Repeat < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"The condense step must run at least once; got repeat {options.Repeat}.");

        int h = image.Height, w = image.Width, c = image.Channels;
        var unit = new float[image.Pixels.Length];
        for (int i = 0; i < unit.Length; i++) unit[i] = image.Pixels[i] / 255f;

        // (K, K, 1, C) with groups C: filter k of the depthwise kernel reads channel k only.
        var weights = new float[kernel.Values.Length * c];
        for (int i = 0; i < kernel.Values.Length; i++)
            for (int k = 0; k < c; k++) weights[i * c + k] = kernel.Values[i];

        using var input = Tensor.FromArray(backend, unit, 1, h, w, c);
        using var filter = Tensor.FromArray(backend, weights, kernel.Size, kernel.Size, 1, c);
        var convOptions = new Conv2DOptions { Padding = options.ConvPadding, Groups = c }.WithStrides(options.Stride);
        using var filtered = Ops.Conv2D(input, filter, bias: null, convOptions);
        using var detected = Ops.Relu(filtered);

        var poolOptions = Pool2DOptions.Square(options.Pool, options.Pool, options.CondensePadding);
        var condensed = new List<FilterStage>(options.Repeat);
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

        return new FilterStages(ToHost("image", input), ToHost("filtered", filtered), ToHost("detected", detected), condensed);
    }

    private static FilterStage ToHost(string name, Tensor t) => new(name, t.Shape, t.ToArray());
}
