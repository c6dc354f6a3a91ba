using NUnit.Framework;

namespace ConvEngine.Tests.Augment;

/// <summary>
/// Keras's and TensorFlow's augmentation formulas in double precision, written here from their definitions
/// (shared/reference/keras-semantics.md B; TensorFlow's image_ops.h, resize ops and adjust_contrast) with their own
/// arithmetic: nothing here calls the engine's geometry. The sampler works on source points in double; where a point
/// sits on a discontinuity (a nearest-neighbour half, the edge of a constant fill, a wrap seam) float32 and double may
/// land on different sides, so such outputs are marked ambiguous rather than compared.
/// </summary>
public static class AugmentReference
{
    /// <summary>One expected value; <see cref="Ambiguous"/> when a 1e−3 nudge of its source point jumps it.</summary>
    public readonly record struct Expected(double Value, bool Ambiguous);

    /// <summary>Fill modes as Keras names them.</summary>
    public enum Fill { Reflect, Wrap, Constant, Nearest }

    /// <summary>Output (b, y, x, c) of a projective transform whose source point is <paramref name="source"/>(b, x, y).</summary>
    public static Expected[] Transform(float[] input, int n, int h, int w, int c, int outH, int outW,
        Func<int, double, double, (double X, double Y)> source, Fill fill, bool nearest, double fillValue)
    {
        var result = new Expected[n * outH * outW * c];
        const double nudge = 1e-3;
        for (int b = 0; b < n; b++)
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        {
            var (sx, sy) = source(b, x, y);
            for (int ch = 0; ch < c; ch++)
            {
                double value = Sample(input, b, h, w, c, ch, sx, sy, fill, nearest, fillValue);
                bool ambiguous = false;
                foreach (var (dx, dy) in new[] { (nudge, 0.0), (-nudge, 0.0), (0.0, nudge), (0.0, -nudge) })
                    ambiguous |= Math.Abs(Sample(input, b, h, w, c, ch, sx + dx, sy + dy, fill, nearest, fillValue) - value) > JumpThreshold(value);
                result[((b * outH + y) * outW + x) * c + ch] = new Expected(value, ambiguous);
            }
        }
        return result;
    }

    /// <summary>Bilinear values move at most ~nudge·(largest pixel difference) under a nudge; a jump is far more.</summary>
    private static double JumpThreshold(double value) => 0.01 * Math.Max(1, Math.Abs(value));

    /// <summary>The sampler at one source point: map by the fill mode, fill outside, then nearest or bilinear.</summary>
    public static double Sample(float[] input, int b, int h, int w, int c, int ch, double sx, double sy, Fill fill, bool nearest, double fillValue)
    {
        double x = Map(sx, w, fill), y = Map(sy, h, fill);
        if (!(x >= 0 && x <= w - 1 && y >= 0 && y <= h - 1)) return fillValue;
        double Read(long yi, long xi) => yi >= 0 && yi < h && xi >= 0 && xi < w ? input[((b * h + yi) * w + xi) * c + ch] : fillValue;
        if (nearest) return Read((long)Math.Round(y, MidpointRounding.AwayFromZero), (long)Math.Round(x, MidpointRounding.AwayFromZero));
        long x0 = (long)Math.Floor(x), y0 = (long)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        double top = (1 - fx) * Read(y0, x0) + fx * Read(y0, x0 + 1);
        double bottom = (1 - fx) * Read(y0 + 1, x0) + fx * Read(y0 + 1, x0 + 1);
        return (1 - fy) * top + fy * bottom;
    }

    /// <summary>
    /// reflect: about the outer edges of the end pixels, period 2·len (d c b a | a b c d | d c b a); nearest: clamp;
    /// constant: as is; wrap: as TensorFlow writes it (shifts by len, counting in steps of len − 1). All but constant clamp after.
    /// </summary>
    public static double Map(double coordinate, int length, Fill fill)
    {
        if (fill == Fill.Constant) return coordinate;
        double c = coordinate;
        if (length <= 1) return 0;
        if (fill == Fill.Reflect)
        {
            double period = 2.0 * length;
            double m = c - period * Math.Floor(c / period);
            c = m < length ? m : period - 1 - m;
        }
        else if (fill == Fill.Wrap)
        {
            if (c < 0) c += length * (Math.Truncate(-c / (length - 1)) + 1);
            else if (c > length - 1) c -= length * Math.Truncate(c / (length - 1));
        }
        return Math.Clamp(c, 0, length - 1);
    }

    /// <summary>A Keras transform row applied in double: source point of output (x, y).</summary>
    public static (double X, double Y) Project(double[] row, double x, double y)
    {
        double k = row[6] * x + row[7] * y + 1;
        return ((row[0] * x + row[1] * y + row[2]) / k, (row[3] * x + row[4] * y + row[5]) / k);
    }

    /// <summary>Rotation by θ about the image centre ((W − 1)/2, (H − 1)/2): the source of output p is centre + R(θ)(p − centre).</summary>
    public static (double X, double Y) RotatedSource(double theta, int h, int w, double x, double y)
    {
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        double dx = x - cx, dy = y - cy;
        return (cx + Math.Cos(theta) * dx - Math.Sin(theta) * dy, cy + Math.Sin(theta) * dx + Math.Cos(theta) * dy);
    }

    /// <summary>tf.image.resize with half-pixel centres of the window (top, left, cropH × cropW), in double.</summary>
    public static Expected[] Resize(float[] input, int n, int h, int w, int c, int outH, int outW, bool nearest,
        int top = 0, int left = 0, int? cropH = null, int? cropW = null)
    {
        int ch = cropH ?? h, cw = cropW ?? w;
        var result = new Expected[n * outH * outW * c];
        for (int b = 0; b < n; b++)
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        for (int k = 0; k < c; k++)
        {
            double At(int yi, int xi) => input[((b * h + top + yi) * w + left + xi) * c + k];
            double value;
            bool ambiguous = false;
            if (nearest)
            {
                double sy = (y + 0.5) * ch / outH, sx = (x + 0.5) * cw / outW;
                ambiguous = NearInteger(sy) || NearInteger(sx);
                value = At(Math.Min((int)Math.Floor(sy), ch - 1), Math.Min((int)Math.Floor(sx), cw - 1));
            }
            else
            {
                double cy = (y + 0.5) * ch / outH - 0.5, cx = (x + 0.5) * cw / outW - 0.5;
                int y0 = (int)Math.Floor(cy), x0 = (int)Math.Floor(cx);
                double fy = cy - y0, fx = cx - x0;
                int ya = Math.Max(y0, 0), yb = Math.Min(y0 + 1, ch - 1), xa = Math.Max(x0, 0), xb = Math.Min(x0 + 1, cw - 1);
                double upper = At(ya, xa) + (At(ya, xb) - At(ya, xa)) * fx;
                double lower = At(yb, xa) + (At(yb, xb) - At(yb, xa)) * fx;
                value = upper + (lower - upper) * fy;
            }
            result[((b * outH + y) * outW + x) * c + k] = new Expected(value, ambiguous);
        }
        return result;
    }

    private static bool NearInteger(double v) => Math.Abs(v - Math.Round(v)) < 1e-5;

    /// <summary>tf.image.adjust_contrast then clip: (x − mean)·f + mean, the mean per image and channel.</summary>
    public static double[] Contrast(float[] input, int n, int pixels, int c, Func<int, double> factor, double low, double high)
    {
        var result = new double[input.Length];
        for (int b = 0; b < n; b++)
        for (int k = 0; k < c; k++)
        {
            double mean = 0;
            for (int p = 0; p < pixels; p++) mean += input[(b * pixels + p) * c + k];
            mean /= pixels;
            for (int p = 0; p < pixels; p++)
            {
                int i = (b * pixels + p) * c + k;
                result[i] = Math.Clamp((input[i] - mean) * factor(b) + mean, low, high);
            }
        }
        return result;
    }

    /// <summary>Compares the unambiguous values; fails if more than <paramref name="maxAmbiguousFraction"/> are ambiguous.</summary>
    public static void AssertMatches(Expected[] expected, float[] actual, double tolerance, string what, double maxAmbiguousFraction = 0.05)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{what}: length");
        int ambiguous = 0, bad = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i].Ambiguous) { ambiguous++; continue; }
            if (!(Math.Abs(actual[i] - expected[i].Value) <= tolerance * Math.Max(1, Math.Abs(expected[i].Value))) && bad++ == 0) first = i;
        }
        if (bad > 0)
            Assert.Fail($"{what}: {bad} of {expected.Length} values differ; first at {first}: expected {expected[first].Value:G9}, got {actual[first]:G9}.");
        Assert.That(ambiguous, Is.LessThanOrEqualTo(maxAmbiguousFraction * expected.Length), $"{what}: too many values on a discontinuity to check");
    }
}
