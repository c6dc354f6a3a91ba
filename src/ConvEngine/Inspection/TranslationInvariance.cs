using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Inspection;

/// <summary>How far apart an image and its shifted copy are after <see cref="Level"/> poolings (0: the images themselves).</summary>
/// <param name="Level">How many times both were pooled.</param>
/// <param name="Height">The maps' height at this level.</param>
/// <param name="Width">The maps' width.</param>
/// <param name="Original">The original image's map, (H, W) row-major.</param>
/// <param name="Shifted">The shifted image's map.</param>
/// <param name="MaxAbsDifference">The largest |original − shifted| over the cells.</param>
/// <param name="MeanAbsDifference">The mean |original − shifted|.</param>
/// <param name="DifferingCells">How many cells differ at all.</param>
public sealed record InvarianceLevel(int Level, int Height, int Width, float[] Original, float[] Shifted,
    double MaxAbsDifference, double MeanAbsDifference, int DifferingCells)
{
    /// <summary>The fraction of cells that differ: 0 when pooling has made the two indistinguishable.</summary>
    public double FractionDiffering => (double)DifferingCells / (Height * Width);
}

/// <summary>
/// The course's translation-invariance demonstration: pool an image and a shifted copy of it again and again
/// (max pooling, window and stride <c>pool</c>, padding same, as the course's tf.nn.pool) and measure how the
/// difference between the two disappears — the positional information pooling throws away.
/// </summary>
public static class TranslationInvariance
{
    /// <summary>The default image's side.</summary>
    public const int TwoDotsSize = 32;

    /// <summary>Where <see cref="TwoDots"/> puts its dots, (row, column).</summary>
    public static readonly IReadOnlyList<(int Row, int Column)> TwoDotsPositions = [(11, 11), (20, 20)];

    /// <summary>
    /// A black 32×32 greyscale image with two bright one-pixel dots (value 1) at <see cref="TwoDotsPositions"/>. Shifted by
    /// one pixel right and down, the first dot crosses a 2×2 pooling cell boundary at levels 1 and 2 and the second
    /// at none, so the difference shrinks level by level and is gone after three 2×2 poolings.
    /// </summary>
    public static float[] TwoDots()
    {
        var image = new float[TwoDotsSize * TwoDotsSize];
        foreach (var (row, column) in TwoDotsPositions) image[row * TwoDotsSize + column] = 1f;
        return image;
    }

    /// <summary>
    /// The image moved <paramref name="dx"/> pixels right and <paramref name="dy"/> down (negative: left, up), as
    /// Keras's RandomTranslation moves it; what comes in from outside is 0 (black).
    /// </summary>
    public static float[] Shift(ReadOnlySpan<float> image, int height, int width, int dx, int dy)
    {
        if (image.Length != height * width)
            throw new ArgumentException($"Shift: {image.Length} values are not a {height}x{width} image.");
        var shifted = new float[image.Length];
        for (int y = 0; y < height; y++)
        {
            int from = y - dy;
            if (from < 0 || from >= height) continue;
            for (int x = 0; x < width; x++)
            {
                int fromX = x - dx;
                if (fromX >= 0 && fromX < width) shifted[y * width + x] = image[from * width + fromX];
            }
        }
        return shifted;
    }

    /// <summary>
    /// Pools <paramref name="image"/> ((H, W), one channel) and its copy shifted by (<paramref name="dx"/>, <paramref name="dy"/>)
    /// <paramref name="repeat"/> times with max pooling on <paramref name="backend"/>, and compares the two at every level (level 0 first).
    /// </summary>
    /// <param name="poolPadding">same (the course's, the default) or valid.</param>
    /// <param name="width">The image width.</param>
    /// <param name="dx">Horizontal shift in pixels.</param>
    /// <param name="dy">Vertical shift in pixels.</param>
    /// <param name="backend">The backend the layers run on.</param>
    /// <param name="image">The image, (height, width) row-major, one channel.</param>
    /// <param name="height">The image height.</param>
    /// <param name="pool">The pooling window and stride.</param>
    /// <param name="repeat">How many times the pooling is applied.</param>
    public static IReadOnlyList<InvarianceLevel> Measure(IBackend backend, float[] image, int height, int width, int dx, int dy,
        int pool = 2, int repeat = 3, Padding? poolPadding = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(image);
        if (pool < 1) throw new ArgumentOutOfRangeException(nameof(pool), $"The pool must be at least 1; got {pool}.");
        if (repeat < 0) throw new ArgumentOutOfRangeException(nameof(repeat), $"Repeat must be 0 or more; got {repeat}.");
        var options = Pool2DOptions.Square(pool, pool, poolPadding ?? Padding.Same);
        var shifted = Shift(image, height, width, dx, dy);

        var levels = new List<InvarianceLevel> { Compare(0, height, width, image, shifted) };
        var a = Tensor.FromArray(backend, image, 1, height, width, 1);
        var b = Tensor.FromArray(backend, shifted, 1, height, width, 1);
        try
        {
            for (int level = 1; level <= repeat; level++)
            {
                var nextA = Ops.MaxPool2D(a, options);
                a.Dispose();
                a = nextA;
                var nextB = Ops.MaxPool2D(b, options);
                b.Dispose();
                b = nextB;
                levels.Add(Compare(level, a.Shape[1], a.Shape[2], a.ToArray(), b.ToArray()));
            }
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
        return levels;
    }

    private static InvarianceLevel Compare(int level, int height, int width, float[] original, float[] shifted)
    {
        double max = 0, sum = 0;
        int differing = 0;
        for (int i = 0; i < original.Length; i++)
        {
            double d = Math.Abs((double)original[i] - shifted[i]);
            if (d > 0) differing++;
            max = Math.Max(max, d);
            sum += d;
        }
        return new InvarianceLevel(level, height, width, original, shifted, max, sum / original.Length, differing);
    }
}
