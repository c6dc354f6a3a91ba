using ConvEngine.Data.Images;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

// keras-semantics.md A: "tf.image.resize uses half-pixel centres" (resize_images_v2 calls resize_nearest_neighbor and
// resize_bilinear with half_pixel_centers=True). Nearest: src = floor((dst + 0.5)·in/out) clamped to [0, in−1]
// (resize_nearest_neighbor_op.cc, HalfPixelScalerForNN). Bilinear: c = (dst + 0.5)·in/out − 0.5, neighbours floor(c) and
// ceil(c) clamped, weight c − floor(c) (resize_bilinear_op.cc, compute_interpolation_weights).
public class ResizeTests
{
    private static readonly float[] TwoByTwo = [10, 20,
                                                30, 40];

    [Test]
    public void Nearest_2x2To4x4_RepeatsEachPixelTwice()
    {
        // scale = 2/4 = 0.5; dst 0: floor(0.5·0.5 = 0.25) = 0; dst 1: floor(1.5·0.5 = 0.75) = 0;
        // dst 2: floor(2.5·0.5 = 1.25) = 1; dst 3: floor(3.5·0.5 = 1.75) = 1 → rows and columns read [0, 0, 1, 1].
        float[] expected = [10, 10, 20, 20,
                            10, 10, 20, 20,
                            30, 30, 40, 40,
                            30, 30, 40, 40];
        Assert.That(Resized(TwoByTwo, 2, 2, 1, 4, 4, Interpolation.Nearest), Is.EqualTo(expected));
    }

    [Test]
    public void Bilinear_2x2To4x4_InterpolatesBetweenPixelCentres()
    {
        // scale 0.5, c = (dst + 0.5)·0.5 − 0.5:
        //   dst 0: c = −0.25 → neighbours (0, 0) after clamping → the edge pixel itself
        //   dst 1: c = 0.25 → (0, 1), weight 0.25;  dst 2: c = 0.75 → (0, 1), weight 0.75
        //   dst 3: c = 1.25 → (1, 1) after clamping → the edge pixel
        // Row 10, 20 → 10, 10 + 10·0.25 = 12.5, 10 + 10·0.75 = 17.5, 20; row 30, 40 → 30, 32.5, 37.5, 40.
        // Down the columns the two rows differ by 20: output rows add 0, 20·0.25 = 5, 20·0.75 = 15, 20 to the top row.
        float[] expected = [10, 12.5f, 17.5f, 20,
                            15, 17.5f, 22.5f, 25,
                            25, 27.5f, 32.5f, 35,
                            30, 32.5f, 37.5f, 40];
        Assert.That(Resized(TwoByTwo, 2, 2, 1, 4, 4, Interpolation.Bilinear), Is.EqualTo(expected));
    }

    [Test]
    public void Nearest_Downsample4To2_TakesTheSecondOfEachPair()
    {
        // scale 2: dst 0 → floor(0.5·2) = 1, dst 1 → floor(1.5·2) = 3 (not 0 and 2, as align-corners or legacy TF would).
        float[] row = [1, 2, 3, 4];
        Assert.That(Resized(row, 1, 4, 1, 1, 2, Interpolation.Nearest), Is.EqualTo(new float[] { 2, 4 }));
    }

    [Test]
    public void Bilinear_Downsample4To2_AveragesEachPair()
    {
        // c = (dst + 0.5)·2 − 0.5 = 0.5 and 2.5: halfway between pixels 0 and 1, then 2 and 3.
        float[] row = [1, 2, 3, 5];
        Assert.That(Resized(row, 1, 4, 1, 1, 2, Interpolation.Bilinear), Is.EqualTo(new float[] { 1.5f, 4 }));
    }

    [Test]
    public void Nearest_3To2_ReadsFirstAndLast()
    {
        // scale 1.5: floor(0.5·1.5 = 0.75) = 0, floor(1.5·1.5 = 2.25) = 2.
        float[] row = [7, 8, 9];
        Assert.That(Resized(row, 1, 3, 1, 1, 2, Interpolation.Nearest), Is.EqualTo(new float[] { 7, 9 }));
    }

    [Test]
    public void SameSize_IsIdentity([Values] Interpolation method)
    {
        var image = new ImageData(2, 2, 1, TwoByTwo);
        Assert.That(Resize.Apply(image, 2, 2, method).Pixels, Is.EqualTo(TwoByTwo));
    }

    // An independent double-precision reference: the output is Σ weight·pixel over the four neighbours, with the
    // weights written out as products, on a non-square multi-channel image up- and down-sampled.
    [TestCase(5, 7, 3, 9, 4)]
    [TestCase(6, 4, 1, 3, 11)]
    [TestCase(8, 8, 3, 8, 5)]
    public void Bilinear_MatchesDoubleReference(int inH, int inW, int channels, int outH, int outW)
    {
        var input = new float[inH * inW * channels];
        for (int i = 0; i < input.Length; i++)
            input[i] = (i * 37 % 256);
        var actual = Resized(input, inH, inW, channels, outH, outW, Interpolation.Bilinear);
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        for (int c = 0; c < channels; c++)
        {
            var (y0, y1, wy) = Neighbours(y, inH, outH);
            var (x0, x1, wx) = Neighbours(x, inW, outW);
            double Pixel(int py, int px) => input[(py * inW + px) * channels + c];
            double expected = (1 - wy) * (1 - wx) * Pixel(y0, x0) + (1 - wy) * wx * Pixel(y0, x1)
                            + wy * (1 - wx) * Pixel(y1, x0) + wy * wx * Pixel(y1, x1);
            Assert.That(actual[(y * outW + x) * channels + c], Is.EqualTo(expected).Within(1e-3), $"at ({y}, {x}, {c})");
        }
    }

    [TestCase(5, 7, 3, 9, 4)]
    [TestCase(6, 4, 1, 3, 11)]
    public void Nearest_MatchesDoubleReference(int inH, int inW, int channels, int outH, int outW)
    {
        var input = new float[inH * inW * channels];
        for (int i = 0; i < input.Length; i++)
            input[i] = i;
        var actual = Resized(input, inH, inW, channels, outH, outW, Interpolation.Nearest);
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        for (int c = 0; c < channels; c++)
        {
            int sy = Math.Min((int)Math.Floor((y + 0.5) * inH / outH), inH - 1);
            int sx = Math.Min((int)Math.Floor((x + 0.5) * inW / outW), inW - 1);
            Assert.That(actual[(y * outW + x) * channels + c], Is.EqualTo(input[(sy * inW + sx) * channels + c]), $"at ({y}, {x}, {c})");
        }
    }

    [Test]
    public void WrongBufferSize_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Resize.Into(new float[3], 2, 2, 1, new float[16], 4, 4, Interpolation.Nearest));
        Assert.That(ex!.Message, Does.Contain("2x2x1"));
    }

    private static (int Lower, int Upper, double Weight) Neighbours(int dst, int inSize, int outSize)
    {
        double centre = (dst + 0.5) * inSize / outSize - 0.5;
        int lower = (int)Math.Floor(centre);
        double weight = centre - lower;
        return (Math.Clamp(lower, 0, inSize - 1), Math.Clamp(lower + 1, 0, inSize - 1), weight);
    }

    private static float[] Resized(float[] input, int inH, int inW, int channels, int outH, int outW, Interpolation method)
    {
        var output = new float[outH * outW * channels];
        Resize.Into(input, inH, inW, channels, output, outH, outW, method);
        return output;
    }
}
