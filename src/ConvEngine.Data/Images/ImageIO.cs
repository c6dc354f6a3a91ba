using ConvEngine.Serialization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvEngine.Data.Images;

public enum ColorMode { Grayscale, Rgb }

/// <summary>An image as floats in [0, 255], (H, W, C) channels-last.</summary>
public sealed record ImageData(int Height, int Width, int Channels, float[] Pixels);

/// <summary>A file that is not a readable image, or too large to decode; the message names the file.</summary>
public sealed class ImageLoadException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>Image decoding and encoding through ImageSharp, with errors that name the file.</summary>
public static class ImageIO
{
    /// <summary>Images with more pixels than this are refused before decoding (a decompression bomb guard).</summary>
    public const long DefaultMaxPixels = 64L * 1024 * 1024;

    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];

    /// <summary>
    /// Decodes <paramref name="path"/>. Greyscale uses ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B,
    /// which is what libjpeg does for tf.io.decode_jpeg(channels=1), as the course loads its images.
    /// </summary>
    public static ImageData Load(string path, ColorMode mode, long maxPixels = DefaultMaxPixels)
    {
        if (!File.Exists(path))
            throw new ImageLoadException($"Image file '{path}' does not exist.");
        try
        {
            var info = Image.Identify(path)
                ?? throw new ImageLoadException($"'{path}' is not an image in a format ImageSharp reads (png, jpeg, bmp, gif).");
            long pixels = (long)info.Width * info.Height;
            if (pixels > maxPixels)
                throw new ImageLoadException($"Image '{path}' is {info.Width}x{info.Height} = {pixels} pixels, over the limit of {maxPixels}; raise the pixel limit if it is wanted.");
            using var image = Image.Load<Rgb24>(path);
            int h = image.Height, w = image.Width, c = mode == ColorMode.Rgb ? 3 : 1;
            var data = new float[h * w * c];
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < h; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (int x = 0; x < w; x++)
                    {
                        var p = row[x];
                        int o = (y * w + x) * c;
                        if (c == 3) { data[o] = p.R; data[o + 1] = p.G; data[o + 2] = p.B; }
                        else data[o] = MathF.Round(0.299f * p.R + 0.587f * p.G + 0.114f * p.B);
                    }
                }
            });
            return new ImageData(h, w, c, data);
        }
        catch (ImageLoadException) { throw; }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException or IOException)
        {
            throw new ImageLoadException($"Cannot decode image '{path}': {e.Message}", e);
        }
    }

    /// <summary>Writes (H, W, C ∈ {1, 3}) floats in [0, 255] as a PNG, clamping and rounding; atomic.</summary>
    public static void SavePng(string path, ReadOnlySpan<float> pixels, int height, int width, int channels)
    {
        if (channels is not (1 or 3) || pixels.Length != height * width * channels)
            throw new ArgumentException($"SavePng '{path}': {pixels.Length} values do not form a {height}x{width}x{channels} image with 1 or 3 channels.");
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int o = (y * width + x) * channels;
            byte r = ToByte(pixels[o]);
            image[x, y] = channels == 3 ? new Rgb24(r, ToByte(pixels[o + 1]), ToByte(pixels[o + 2])) : new Rgb24(r, r, r);
        }
        AtomicFile.Write(path, s => image.SaveAsPng(s));
    }

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v), 0f, 255f);
}
