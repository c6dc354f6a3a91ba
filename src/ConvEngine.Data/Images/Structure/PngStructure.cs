using System.Buffers.Binary;
using System.IO.Compression;

namespace ConvEngine.Data.Images.Structure;

/// <summary>
/// PNG (ISO/IEC 15948): the chunk list is walked, the IDAT stream is inflated and counted against what IHDR's size,
/// bit depth, colour type and interlacing need, and a normalised copy is made for the decoder: IHDR, PLTE (padded to
/// every index the bit depth can hold, so an out-of-range index reads black), tRNS, one IDAT, IEND. Ancillary chunks
/// are dropped: the pixels do not depend on them, and a compressed text chunk can inflate to gigabytes.
/// </summary>
internal static class PngStructure
{
    private const string Format = "PNG";
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool IsPng(byte[] data) => data.AsSpan().StartsWith(Signature);

    public static CheckedImage Check(ImageBytes file)
    {
        long position = Signature.Length;
        byte[]? header = null, palette = null, transparency = null;
        var idat = new MemoryStream();
        bool idatEnded = false, sawEnd = false;
        while (position < file.Length && !sawEnd)
        {
            uint length = file.U32BE(position, Format, "a chunk's length");
            if (length > int.MaxValue) throw file.Error(Format, $"a chunk at byte {position} declares {length} bytes, more than PNG allows (2^31 - 1)");
            file.Require(position + 4, 4 + (long)length + 4, Format, $"the chunk at byte {position}");
            string type = System.Text.Encoding.ASCII.GetString(file.Data, (int)position + 4, 4);
            var body = file.Data.AsSpan((int)position + 8, (int)length);
            if (header is null && type != "IHDR") throw file.Error(Format, $"the first chunk is '{Printable(type)}', not IHDR");
            if (idat.Length > 0 && type != "IDAT") idatEnded = true;
            switch (type)
            {
                case "IHDR":
                    if (header is not null) throw file.Error(Format, "it has two IHDR chunks");
                    if (length != 13) throw file.Error(Format, $"IHDR is {length} bytes, not 13");
                    header = body.ToArray();
                    break;
                case "PLTE":
                    if (length == 0 || length % 3 != 0 || length > 256 * 3) throw file.Error(Format, $"PLTE is {length} bytes, not 3 per entry for 1 to 256 entries");
                    palette = body.ToArray();
                    break;
                case "tRNS": transparency = body.ToArray(); break;
                case "IDAT":
                    if (idatEnded) throw file.Error(Format, "its IDAT chunks are not consecutive");
                    idat.Write(body);
                    break;
                case "IEND": sawEnd = true; break;
                default:
                    // Bit 5 of the first letter clear: a critical chunk, which a decoder must understand.
                    if ((type[0] & 0x20) == 0) throw file.Error(Format, $"it has a critical chunk '{Printable(type)}' that PNG does not define");
                    break;
            }
            position += 12 + length;
        }
        if (header is null) throw file.Error(Format, "it has no IHDR chunk");

        int width = BinaryPrimitives.ReadInt32BigEndian(header), height = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        byte depth = header[8], colourType = header[9], compression = header[10], filter = header[11], interlace = header[12];
        if (width <= 0 || height <= 0) throw file.Error(Format, $"IHDR gives a size of {(uint)width}x{(uint)height}");
        int channels = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        bool depthFits = colourType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (channels == 0 || !depthFits) throw file.Error(Format, $"IHDR gives colour type {colourType} with bit depth {depth}, which PNG does not allow");
        if (compression != 0 || filter != 0 || interlace > 1)
            throw file.Error(Format, $"IHDR gives compression {compression}, filter {filter}, interlace {interlace} (PNG defines 0, 0 and 0 or 1)");
        if (colourType == 3 && palette is null) throw file.Error(Format, "it is palette-based but has no PLTE chunk");
        if (idat.Length == 0) throw file.Error(Format, "it has no pixel data (no IDAT chunk)");

        long expected = RawLength(width, height, channels * depth, interlace == 1);
        long inflated = CountInflated(idat, expected, file);
        if (inflated < expected)
            throw file.Error(Format, $"its pixel data inflates to {inflated} bytes but a {width}x{height} image needs {expected}: the image data is truncated");

        return new CheckedImage(ImageFormatKind.Png, width, height, Normalised(header, palette, colourType == 3 ? depth : 0, transparency, idat));
    }

    /// <summary>Bytes of filtered scanlines (one filter byte per row) for the whole image, over the 7 Adam7 passes when interlaced.</summary>
    private static long RawLength(long width, long height, int bitsPerPixel, bool interlaced)
    {
        static long Rows(long w, long h, int bpp) => w == 0 || h == 0 ? 0 : h * (1 + (w * bpp + 7) / 8);
        if (!interlaced) return Rows(width, height, bitsPerPixel);
        (int X, int Y, int DX, int DY)[] passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
        return passes.Sum(p => Rows(Math.Max(0, (width - p.X + p.DX - 1) / p.DX), Math.Max(0, (height - p.Y + p.DY - 1) / p.DY), bitsPerPixel));
    }

    /// <summary>Inflates the zlib stream, stopping once <paramref name="needed"/> bytes came out (what follows is never read by a decoder).</summary>
    private static long CountInflated(MemoryStream idat, long needed, ImageBytes file)
    {
        idat.Position = 0;
        var buffer = new byte[1 << 16];
        long total = 0;
        try
        {
            using var inflate = new ZLibStream(idat, CompressionMode.Decompress, leaveOpen: true);
            while (total < needed)
            {
                int read = inflate.Read(buffer, 0, (int)Math.Min(buffer.Length, needed - total));
                if (read == 0) break;
                total += read;
            }
        }
        catch (InvalidDataException e)
        {
            throw file.Error(Format, $"its pixel data is not a valid zlib stream after {total} inflated bytes ({e.Message})");
        }
        return total;
    }

    private static byte[] Normalised(byte[] header, byte[]? palette, int paletteDepth, byte[]? transparency, MemoryStream idat)
    {
        var output = new MemoryStream((int)idat.Length + 1024);
        output.Write(Signature);
        WriteChunk(output, "IHDR", header);
        if (palette is not null)
        {
            int entries = paletteDepth > 0 ? 1 << paletteDepth : palette.Length / 3;
            var padded = new byte[Math.Max(palette.Length, entries * 3)];
            palette.CopyTo(padded, 0);
            WriteChunk(output, "PLTE", padded);
        }
        if (transparency is not null) WriteChunk(output, "tRNS", transparency);
        WriteChunk(output, "IDAT", idat.GetBuffer().AsSpan(0, (int)idat.Length));
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(body);
        uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, typeBytes), body) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    private static string Printable(string type) => new(type.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320).</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            uint c = (uint)n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        public static uint Update(uint crc, ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }
    }
}
