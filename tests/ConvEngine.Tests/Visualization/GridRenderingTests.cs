using ConvEngine.Visualization;
using NUnit.Framework;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvEngine.Tests.Visualization;

/// <summary>The grids' pixels: tiles enlarged by whole factors with nearest neighbour, colours as the scalings say.</summary>
public class GridRenderingTests
{
    private static (int X, int Y, int Width, int Height) Region(Image<Rgb24> image, Rgb24 colour)
    {
        int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                if (image[x, y].Equals(colour))
                {
                    minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
                    minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
                }
        return maxX < 0 ? (0, 0, 0, 0) : (minX, minY, maxX - minX + 1, maxY - minY + 1);
    }

    // A 2×2 tile (red, green / blue, black) enlarged to the 64-pixel minimum: factor 32, so each cell is a 32×32 square,
    // red top-left, green right of it, blue under it.
    [Test]
    public void SmallTile_IsEnlargedByAWholeFactor_CellsStaySquare()
    {
        byte[] rgba = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 255];
        using var image = Image.Load<Rgb24>(TileGrid.RenderPng("tile", [], [[new GridTile(rgba, 2, 2, "t")]]));
        var red = Region(image, new Rgb24(255, 0, 0));
        var green = Region(image, new Rgb24(0, 255, 0));
        var blue = Region(image, new Rgb24(0, 0, 255));
        Assert.That((red.Width, red.Height), Is.EqualTo((32, 32)));
        Assert.That((green.Width, green.Height), Is.EqualTo((32, 32)));
        Assert.That((green.X, green.Y), Is.EqualTo((red.X + 32, red.Y)));
        Assert.That((blue.X, blue.Y), Is.EqualTo((red.X, red.Y + 32)));
    }

    // Each channel min–max scaled on its own: its minimum cell gets the colour map's low end, its maximum the high end.
    [Test]
    public void FeatureMapGrid_ScalesEachChannelOnItsOwn()
    {
        // (2, 2, 2): channel 0 = 0, 1, 2, 3; channel 1 = 10 everywhere but one cell at −5.
        float[] values = [0, 10, 1, 10, 2, -5, 3, 10];
        using var image = Image.Load<Rgb24>(FeatureMapGrid.RenderPng("layer", [2, 2, 2], values));
        var ends = TileColors.Viridis([0f, 1f], 0, 1);
        var low = new Rgb24(ends[0], ends[1], ends[2]);
        var high = new Rgb24(ends[4], ends[5], ends[6]);
        int Count(Rgb24 colour)
        {
            int n = 0;
            for (int y = 0; y < image.Height; y++)
                for (int x = 0; x < image.Width; x++)
                    if (image[x, y].Equals(colour)) n++;
            return n;
        }
        // Cells enlarged 32× (2×2 tiles to 64 pixels): two minima (0 and −5), four maxima (3 and the three 10s).
        Assert.That(Count(low), Is.EqualTo(2 * 32 * 32));
        Assert.That(Count(high), Is.EqualTo(4 * 32 * 32));
        Assert.That(0.299 * low.R + 0.587 * low.G + 0.114 * low.B, Is.LessThan(0.299 * high.R + 0.587 * high.G + 0.114 * high.B), "low is dark, high bright");
    }

    // Symmetric grey: 0 is mid-grey, −max black, +max white, so a kernel's signs read at a glance.
    [Test]
    public void SymmetricGrey_PutsZeroAtMidGrey()
    {
        byte[] rgba = TileColors.SymmetricGrey([-2f, 0f, 2f, 1f], 2f);
        Assert.That(new[] { rgba[0], rgba[4], rgba[8], rgba[12] }, Is.EqualTo(new byte[] { 0, 128, 255, 191 }));
    }

    [Test]
    public void KernelGrid_RgbView_NeedsThreeInputChannels() =>
        Assert.That(Assert.Throws<ArgumentException>(() => KernelGrid.Resolve(KernelView.Rgb, 4))!.Message, Does.Contain("reads 4"));
}
