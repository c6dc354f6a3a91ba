using System.Buffers.Binary;

namespace ConvEngine.Data.Images.Structure;

/// <summary>
/// Windows BMP: the file and DIB headers are checked (size, bit count, compression that fits it, a colour table for
/// palette images) and the pixel rows the header declares must lie inside the file; RLE data must reach its
/// end-of-bitmap code. A colour table shorter than the bit depth can index is padded with black for the decoder.
/// </summary>
internal static class BmpStructure
{
    private const string Format = "BMP";
    private const int FileHeaderSize = 14;

    public static CheckedImage Check(ImageBytes file)
    {
        uint offBits = file.U32LE(10, Format, "the file header's pixel data offset");
        uint headerSize = file.U32LE(FileHeaderSize, Format, "the DIB header's size");
        if (headerSize is not (12 or 16 or 40 or 52 or 56 or 64 or 108 or 124))
            throw file.Error(Format, $"its DIB header is {headerSize} bytes, not one of the BMP header sizes (12, 40, 52, 56, 64, 108, 124)");
        file.Require(FileHeaderSize, headerSize, Format, "the DIB header");
        bool os2 = headerSize is 12;
        long width = os2 ? file.U16LE(18, Format, "width") : (int)file.U32LE(18, Format, "width");
        long height = os2 ? file.U16LE(20, Format, "height") : (int)file.U32LE(22, Format, "height");
        int planes = file.U16LE(os2 ? 22 : 26, Format, "planes");
        int bitCount = file.U16LE(os2 ? 24 : 28, Format, "bit count");
        uint compression = headerSize >= 40 ? file.U32LE(30, Format, "compression") : 0;
        uint colorsUsed = headerSize >= 40 ? file.U32LE(46, Format, "colours used") : 0;

        if (width <= 0 || height == 0 || height == int.MinValue) throw file.Error(Format, $"its header gives a size of {width}x{height}");
        long rows = Math.Abs(height);
        if (planes != 1) throw file.Error(Format, $"its header gives {planes} colour planes, not 1");
        if (bitCount is not (1 or 2 or 4 or 8 or 16 or 24 or 32)) throw file.Error(Format, $"its header gives {bitCount} bits per pixel, not 1, 2, 4, 8, 16, 24 or 32");
        bool fits = compression switch
        {
            0 => true,                                   // BI_RGB
            1 => bitCount == 8 && height > 0,            // BI_RLE8 (bottom-up only)
            2 => bitCount == 4 && height > 0,            // BI_RLE4
            3 or 6 => bitCount is 16 or 32,              // BI_BITFIELDS, BI_ALPHABITFIELDS
            _ => false,
        };
        if (!fits) throw file.Error(Format, $"compression {compression} does not go with {bitCount} bits per pixel (or is not one the decoder reads)");

        // Bit masks follow a 40-byte header for BITFIELDS; larger headers hold them inside.
        long tableStart = FileHeaderSize + headerSize + (headerSize == 40 && compression == 3 ? 12 : headerSize == 40 && compression == 6 ? 16 : 0);
        if (offBits < tableStart || offBits > file.Length)
            throw file.Error(Format, $"its pixel data offset is {offBits}, outside [{tableStart}, {file.Length}] (header end to file end)");

        byte[] decodable = file.Data;
        if (bitCount <= 8)
        {
            int entrySize = os2 ? 3 : 4;
            long available = (offBits - tableStart) / entrySize;
            if (available == 0) throw file.Error(Format, $"it has {bitCount} bits per pixel but no colour table");
            long indexable = 1L << bitCount;
            if (colorsUsed > indexable) throw file.Error(Format, $"its header lists {colorsUsed} colours but {bitCount}-bit indices reach only {indexable}");
            if (available < indexable)
            {
                long tableEnd = tableStart + available * entrySize, padding = (indexable - available) * entrySize;
                decodable = PadColourTable(file.Data, offBits, tableEnd, padding, headerSize);
                offBits = (uint)(tableEnd + padding);
            }
        }

        if (compression is 1 or 2)
            CheckRle(file, offBits, decodable, compression == 2);
        else
        {
            long stride = (width * bitCount + 31) / 32 * 4;
            long needed = stride * rows;
            long held = decodable.Length - offBits;
            if (needed > held)
                throw file.Error(Format, $"a {width}x{rows} image at {bitCount} bits per pixel needs {needed} bytes of pixel rows but the file holds {held} after its headers: the pixel data is truncated");
        }
        if (width > int.MaxValue || rows > int.MaxValue) throw file.Error(Format, $"its size {width}x{rows} is too large");
        return new CheckedImage(ImageFormatKind.Bmp, (int)width, (int)rows, decodable);
    }

    /// <summary>A copy with <paramref name="padding"/> zero bytes of colour entries after the table, the offset moved and colours-used cleared (= all).</summary>
    private static byte[] PadColourTable(byte[] data, uint offBits, long tableEnd, long padding, uint headerSize)
    {
        // Any bytes between the table's last whole entry and the pixel data (a gap) are dropped.
        var copy = new byte[tableEnd + padding + (data.Length - offBits)];
        data.AsSpan(0, (int)tableEnd).CopyTo(copy);
        data.AsSpan((int)offBits).CopyTo(copy.AsSpan((int)(tableEnd + padding)));
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(10), (uint)(tableEnd + padding));
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(2), (uint)copy.Length);
        if (headerSize >= 40) BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(46), 0);
        return copy;
    }

    /// <summary>RLE8/RLE4: runs, escapes (end of line, end of bitmap, delta, literal runs padded to 16 bits) must end in end-of-bitmap inside the file.</summary>
    private static void CheckRle(ImageBytes file, long start, byte[] data, bool fourBit)
    {
        long p = start;
        while (true)
        {
            if (p + 2 > data.Length) throw file.Error(Format, "its RLE pixel data ends before the end-of-bitmap code: the pixel data is truncated");
            byte count = data[p], value = data[p + 1];
            p += 2;
            if (count > 0) continue;
            switch (value)
            {
                case 0: break;                    // end of line
                case 1: return;                   // end of bitmap
                case 2: p += 2; break;            // delta (dx, dy)
                default:
                    long bytes = fourBit ? (value + 1) / 2 : value;
                    p += (bytes + 1) / 2 * 2;
                    break;
            }
        }
    }
}
