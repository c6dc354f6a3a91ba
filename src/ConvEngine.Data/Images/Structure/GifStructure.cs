using ConvEngine.Serialization;

namespace ConvEngine.Data.Images.Structure;

/// <summary>
/// GIF87a/89a: the logical screen, colour tables and blocks up to the first image are walked, and that image's LZW
/// data is decoded just far enough to count its pixels, which must cover the frame. Only the first frame is decoded
/// (the decoder is told so), and it must lie inside the logical screen, whose size the pixel limit checks.
/// </summary>
internal static class GifStructure
{
    private const string Format = "GIF";

    public static CheckedImage Check(ImageBytes file)
    {
        string version = System.Text.Encoding.ASCII.GetString(file.Data, 0, 6);
        if (version is not ("GIF87a" or "GIF89a")) throw file.Error(Format, $"its signature is {QuotedName.Of(version)}, not GIF87a or GIF89a");
        int screenWidth = file.U16LE(6, Format, "the logical screen width"), screenHeight = file.U16LE(8, Format, "the logical screen height");
        byte flags = file.U8(10, Format, "the logical screen flags");
        if (screenWidth == 0 || screenHeight == 0) throw file.Error(Format, $"its logical screen is {screenWidth}x{screenHeight}");
        long p = 13;
        if ((flags & 0x80) != 0) p += 3L << ((flags & 7) + 1);
        while (true)
        {
            byte introducer = file.U8(p, Format, "a block introducer");
            if (introducer == 0x3B) throw file.Error(Format, "it ends (trailer) before any image");
            if (introducer == 0x21)
            {
                p = SkipSubBlocks(file, p + 2);
                continue;
            }
            if (introducer != 0x2C) throw file.Error(Format, $"byte {p} is 0x{introducer:X2}, neither an extension, an image nor the trailer");
            int left = file.U16LE(p + 1, Format, "the image position"), top = file.U16LE(p + 3, Format, "the image position");
            int width = file.U16LE(p + 5, Format, "the image size"), height = file.U16LE(p + 7, Format, "the image size");
            byte imageFlags = file.U8(p + 9, Format, "the image flags");
            if (width == 0 || height == 0) throw file.Error(Format, $"its first image is {width}x{height}");
            if (left + width > screenWidth || top + height > screenHeight)
                throw file.Error(Format, $"its first image ({width}x{height} at {left},{top}) lies outside the {screenWidth}x{screenHeight} logical screen");
            if ((flags & 0x80) == 0 && (imageFlags & 0x80) == 0) throw file.Error(Format, "its first image has no colour table (neither global nor local)");
            p += 10;
            if ((imageFlags & 0x80) != 0) p += 3L << ((imageFlags & 7) + 1);
            int minCodeSize = file.U8(p, Format, "the LZW minimum code size");
            if (minCodeSize is < 2 or > 8) throw file.Error(Format, $"its LZW minimum code size is {minCodeSize}, not 2 to 8");
            long end = SkipSubBlocks(file, p + 1);
            long pixels = CountLzwPixels(file, p + 1, end, minCodeSize, (long)width * height);
            if (pixels < (long)width * height)
                throw file.Error(Format, $"its first image's LZW data gives {pixels} of its {width}x{height} = {(long)width * height} pixels: the image data is truncated");
            return new CheckedImage(ImageFormatKind.Gif, screenWidth, screenHeight, file.Data);
        }
    }

    /// <summary>Skips a chain of sub-blocks (a length byte, that many bytes) up to its zero terminator; returns the position after it.</summary>
    private static long SkipSubBlocks(ImageBytes file, long p)
    {
        while (true)
        {
            byte length = file.U8(p, Format, "a data sub-block");
            p++;
            if (length == 0) return p;
            file.Require(p, length, Format, "a data sub-block");
            p += length;
        }
    }

    /// <summary>Decodes the LZW codes of the sub-blocks in [start, end) and counts the pixels they expand to, up to <paramref name="needed"/>.</summary>
    private static long CountLzwPixels(ImageBytes file, long start, long end, int minCodeSize, long needed)
    {
        int clear = 1 << minCodeSize, stop = clear + 1;
        var lengths = new int[4096];
        for (int i = 0; i < clear; i++) lengths[i] = 1;
        int codeSize = minCodeSize + 1, next = clear + 2, previous = -1;
        long pixels = 0;
        var bits = new SubBlockBits(file.Data, start, end);
        while (pixels < needed && bits.TryRead(codeSize, out int code))
        {
            if (code == clear)
            {
                codeSize = minCodeSize + 1;
                next = clear + 2;
                previous = -1;
                continue;
            }
            if (code == stop) break;
            int length;
            if (previous < 0)
            {
                if (code >= clear) throw file.Error(Format, $"its LZW data starts with code {code}, which is not a colour index");
                length = 1;
            }
            else if (code < next) length = lengths[code];
            else if (code == next) length = lengths[previous] + 1;
            else throw file.Error(Format, $"its LZW data holds code {code} before the code table reaches it ({next})");
            if (previous >= 0 && next < 4096)
            {
                lengths[next] = lengths[previous] + 1;
                next++;
                if (next == 1 << codeSize && codeSize < 12) codeSize++;
            }
            previous = code;
            pixels += length;
        }
        return pixels;
    }

    /// <summary>Bits, least significant first, across the data bytes of a sub-block chain.</summary>
    private sealed class SubBlockBits(byte[] data, long start, long end)
    {
        private long _position = start;
        private int _blockLeft;
        private uint _buffer;
        private int _count;

        public bool TryRead(int width, out int value)
        {
            while (_count < width)
            {
                if (_blockLeft == 0)
                {
                    if (_position >= end || data[_position] == 0) { value = 0; return false; }
                    _blockLeft = data[_position++];
                }
                _buffer |= (uint)data[_position++] << _count;
                _count += 8;
                _blockLeft--;
            }
            value = (int)(_buffer & ((1u << width) - 1));
            _buffer >>= width;
            _count -= width;
            return true;
        }
    }
}
