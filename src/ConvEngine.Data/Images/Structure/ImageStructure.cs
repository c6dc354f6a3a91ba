namespace ConvEngine.Data.Images.Structure;

/// <summary>The image formats the engine decodes (ImageSharp's other decoders are not used).</summary>
internal enum ImageFormatKind { Png, Jpeg, Bmp, Gif }

/// <summary>
/// What a structural check found: the format, the size of the (first) frame, and the bytes to hand to the decoder
/// (the file itself, or a normalised copy with only what decoding needs).
/// </summary>
internal sealed record CheckedImage(ImageFormatKind Format, int Width, int Height, byte[] Decodable);

/// <summary>
/// Checks an image file's structure before ImageSharp decodes it. ImageSharp 2.1 decodes truncated or empty pixel
/// data as a blank image without a word, and some malformed headers make it throw NullReference or divide by zero;
/// so the pixel data is walked here (inflated, entropy-decoded or LZW-decoded just far enough to count it) and a file
/// whose pixels are not all there is refused with a message naming it. The format comes from the content, not the name.
/// </summary>
internal static class ImageStructure
{
    public static CheckedImage Check(byte[] data, string path)
    {
        var reader = new ImageBytes(data, path);
        if (PngStructure.IsPng(data)) return PngStructure.Check(reader);
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return JpegStructure.Check(reader);
        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M') return BmpStructure.Check(reader);
        if (data.Length >= 6 && data[0] == (byte)'G' && data[1] == (byte)'I' && data[2] == (byte)'F') return GifStructure.Check(reader);
        throw new ImageLoadException($"'{path}' is not an image in a format the engine reads (png, jpeg, bmp, gif): its first bytes are {Hex(data)}.");
    }

    private static string Hex(byte[] data) => data.Length == 0 ? "none (the file is empty)" : Convert.ToHexString(data, 0, Math.Min(8, data.Length));
}

/// <summary>Bounds-checked reads over an image file's bytes; every failure is an <see cref="ImageLoadException"/> naming the file.</summary>
internal sealed class ImageBytes(byte[] data, string path)
{
    public byte[] Data { get; } = data;
    public string Path { get; } = path;
    public int Length => Data.Length;

    public ImageLoadException Error(string format, string problem) => new($"{format} image '{Path}' is corrupt or truncated: {problem}.");

    public void Require(long offset, long count, string format, string what)
    {
        if (offset < 0 || count < 0 || offset + count > Data.Length)
            throw Error(format, $"{what} needs bytes [{offset}, {offset + count}) but the file is {Data.Length} bytes long");
    }

    public byte U8(long offset, string format, string what) { Require(offset, 1, format, what); return Data[offset]; }

    public ushort U16BE(long offset, string format, string what) { Require(offset, 2, format, what); return (ushort)(Data[offset] << 8 | Data[offset + 1]); }

    public ushort U16LE(long offset, string format, string what) { Require(offset, 2, format, what); return (ushort)(Data[offset] | Data[offset + 1] << 8); }

    public uint U32BE(long offset, string format, string what)
    {
        Require(offset, 4, format, what);
        return (uint)(Data[offset] << 24 | Data[offset + 1] << 16 | Data[offset + 2] << 8 | Data[offset + 3]);
    }

    public uint U32LE(long offset, string format, string what)
    {
        Require(offset, 4, format, what);
        return (uint)(Data[offset] | Data[offset + 1] << 8 | Data[offset + 2] << 16 | Data[offset + 3] << 24);
    }
}
