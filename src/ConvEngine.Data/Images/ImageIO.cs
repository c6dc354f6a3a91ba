using ConvEngine.Data.Images.Structure;
using ConvEngine.Serialization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvEngine.Data.Images;

/// <summary>How many channels an image is read with (Keras' <c>color_mode</c>).</summary>
public enum ColorMode
{
    /// <summary>One channel: 0.299 R + 0.587 G + 0.114 B, rounded (ITU-R BT.601 luma, as PIL and Keras convert).</summary>
    Grayscale,
    /// <summary>Three channels, red, green, blue; a grey image is repeated into all three.</summary>
    Rgb,
}

/// <summary>An image as floats in [0, 255], (H, W, C) channels-last.</summary>
public sealed record ImageData(int Height, int Width, int Channels, float[] Pixels);

/// <summary>A file that is not a readable image, or too large to decode; the message names the file.</summary>
public sealed class ImageLoadException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Image decoding and encoding through ImageSharp, with errors that name the file. Only PNG, JPEG, BMP and GIF are
/// read, recognised by their content; each file's structure is checked first (<see cref="ImageStructure"/>), so a
/// truncated or malformed file is refused instead of decoding as a blank or partial picture.
/// </summary>
public static class ImageIO
{
    /// <summary>Images with more pixels than this are refused before decoding (a decompression bomb guard).</summary>
    public const long DefaultMaxPixels = 64L * 1024 * 1024;

    /// <summary>Image files longer than this are refused before they are read.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>File extensions that are listed as images (lower case, with the dot); the content decides the format.</summary>
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];

    /// <summary>Only the four formats the engine reads, each with metadata ignored and only the first frame decoded.</summary>
    private static readonly Configuration Decoding = new(new PngConfigurationModule(), new JpegConfigurationModule(),
        new BmpConfigurationModule(), new GifConfigurationModule());

    private static readonly IImageDecoder PngDecoder = new PngDecoder { IgnoreMetadata = true };
    private static readonly IImageDecoder JpegDecoder = new JpegDecoder { IgnoreMetadata = true };
    private static readonly IImageDecoder BmpDecoder = new BmpDecoder();
    private static readonly IImageDecoder GifDecoder = new GifDecoder { IgnoreMetadata = true, DecodingMode = FrameDecodingMode.First, MaxFrames = 1 };

    /// <summary>
    /// Decodes <paramref name="path"/>. Greyscale uses ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B,
    /// which is what libjpeg does for tf.io.decode_jpeg(channels=1), as the course loads its images.
    /// A multi-frame GIF gives its first frame.
    /// </summary>
    public static ImageData Load(string path, ColorMode mode, long maxPixels = DefaultMaxPixels)
    {
        byte[] bytes;
        try
        {
            bytes = InputFile.ReadAllBytes(path, "Image file", MaxFileBytes);
        }
        catch (FileNotFoundException e)
        {
            throw new ImageLoadException(e.Message, e);
        }
        var image = ImageStructure.Check(bytes, path);
        long pixels = (long)image.Width * image.Height;
        if (pixels > maxPixels)
            throw new ImageLoadException($"Image '{path}' is {image.Width}x{image.Height} = {pixels} pixels, over the limit of {maxPixels}; raise the pixel limit if it is wanted.");
        Image<Rgb24> decoded;
        try
        {
            decoded = Image.Load<Rgb24>(Decoding, image.Decodable, image.Format switch
            {
                ImageFormatKind.Png => PngDecoder,
                ImageFormatKind.Jpeg => JpegDecoder,
                ImageFormatKind.Bmp => BmpDecoder,
                _ => GifDecoder,
            });
        }
        catch (Exception e) when (e is not (OutOfMemoryException or ThreadAbortException or OperationCanceledException))
        {
            // The structure was checked above, so what the decoder still trips over (its own NullReference or
            // IndexOutOfRange included) is a defect of this file.
            throw new ImageLoadException($"Cannot decode {image.Format.ToString().ToUpperInvariant()} image '{path}': {e.Message.ReplaceLineEndings(" ")}", e);
        }
        using (decoded)
        {
            if (decoded.Width != image.Width || decoded.Height != image.Height)
                throw new ImageLoadException($"Image '{path}' decoded to {decoded.Width}x{decoded.Height}, not the {image.Width}x{image.Height} its header gives.");
            return ToFloats(decoded, mode);
        }
    }

    private static ImageData ToFloats(Image<Rgb24> image, ColorMode mode)
    {
        int h = image.Height, w = image.Width, c = mode == ColorMode.Rgb ? 3 : 1;
        var data = new float[(long)h * w * c];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < w; x++)
                {
                    var p = row[x];
                    long o = ((long)y * w + x) * c;
                    if (c == 3) { data[o] = p.R; data[o + 1] = p.G; data[o + 2] = p.B; }
                    else data[o] = MathF.Round(0.299f * p.R + 0.587f * p.G + 0.114f * p.B);
                }
            }
        });
        return new ImageData(h, w, c, data);
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
