using System.Buffers.Binary;
using System.IO.Compression;
using ConvEngine.Serialization;

namespace ConvEngine.Data.Idx;

/// <summary>An IDX file that is not what it should be; the message names the file.</summary>
public sealed class IdxFormatException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>An unsigned-byte IDX array: its dimensions (outermost first) and its values, row-major.</summary>
public sealed record IdxArray(string Path, int[] Dimensions, byte[] Data)
{
    /// <summary>The number of items: the outermost dimension.</summary>
    public int Count => Dimensions[0];
}

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a type code, the number of
/// dimensions), one big-endian int32 per dimension, then the values. Only unsigned bytes (type 0x08) are read.
/// Files may be gzipped; that is detected from the gzip magic bytes 1F 8B, not from the name.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic of an image file: unsigned bytes, three dimensions (count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;
    /// <summary>Magic of a label file: unsigned bytes, one dimension (count).</summary>
    public const int LabelsMagic = 0x00000801;

    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads any unsigned-byte IDX file.</summary>
    public static IdxArray Read(string path) => Read(path, expectedMagic: null);

    /// <summary>Reads an image file (magic 0x00000803): (count, rows, columns).</summary>
    public static IdxArray ReadImages(string path) => Read(path, ImagesMagic);

    /// <summary>Reads a label file (magic 0x00000801).</summary>
    public static byte[] ReadLabels(string path) => Read(path, LabelsMagic).Data;

    /// <summary>Reads an image file and its label file and checks that they hold the same number of items.</summary>
    public static (IdxArray Images, byte[] Labels) ReadLabeledImages(string imagesPath, string labelsPath)
    {
        var images = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != images.Count)
            throw new IdxFormatException(
                $"IDX dimension mismatch: '{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Length} labels.");
        return (images, labels);
    }

    private static IdxArray Read(string path, int? expectedMagic)
    {
        try
        {
            using var file = InputFile.OpenRead(path, "IDX file");
            bool gzip = IsGzip(file);
            using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            // Deflate expands at most about 1032:1, so neither form can hold more data than this.
            return ReadFrom(stream, path, expectedMagic, gzip ? file.Length * 1032 : file.Length);
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException($"IDX file '{path}' is not a valid gzip stream: {e.Message}", e);
        }
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    private static IdxArray ReadFrom(Stream stream, string path, int? expectedMagic, long maxBytes)
    {
        Span<byte> header = stackalloc byte[4];
        if (stream.ReadAtLeast(header, 4, throwOnEndOfStream: false) < 4)
            throw new IdxFormatException($"IDX file '{path}' is truncated: it ends inside the 4-byte magic number.");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (expectedMagic is { } expected && magic != expected)
            throw new IdxFormatException(
                $"IDX file '{path}' has magic 0x{magic:X8}, expected 0x{expected:X8} ({(expected == ImagesMagic ? "unsigned-byte images, 3 dimensions" : "unsigned-byte labels, 1 dimension")}).");
        if (header[0] != 0 || header[1] != 0 || header[3] == 0)
            throw new IdxFormatException($"IDX file '{path}' has magic 0x{magic:X8}, which is not an IDX header (00 00 type dims).");
        if (header[2] != UnsignedByteType)
            throw new IdxFormatException($"IDX file '{path}' holds type 0x{header[2]:X2}; only unsigned bytes (0x08) are supported.");

        int rank = header[3];
        var dimensionBytes = new byte[4 * rank];
        if (stream.ReadAtLeast(dimensionBytes, dimensionBytes.Length, throwOnEndOfStream: false) < dimensionBytes.Length)
            throw new IdxFormatException($"IDX file '{path}' is truncated: it ends inside its {rank} dimension sizes.");
        var dimensions = new int[rank];
        long total = 1;
        for (int d = 0; d < rank; d++)
        {
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes.AsSpan(4 * d));
            if (dimensions[d] < 0)
                throw new IdxFormatException($"IDX file '{path}' has a negative dimension: ({string.Join(", ", dimensions[..(d + 1)])}).");
            total *= dimensions[d];
            if (total > Array.MaxLength)
                throw new IdxFormatException($"IDX file '{path}' declares dimensions ({string.Join(", ", dimensions[..(d + 1)])}…), more values than an array holds.");
        }

        if (total > maxBytes)
            throw new IdxFormatException(
                $"IDX file '{path}' is truncated: its header declares ({string.Join(", ", dimensions)}) = {total} bytes of data, more than a file of its length can hold.");
        Kernels.MemoryBudget.Check(total, () => $"IDX file '{path}' ({string.Join(", ", dimensions)})");
        var data = new byte[total];
        int read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
            throw new IdxFormatException(
                $"IDX file '{path}' is truncated: its header declares ({string.Join(", ", dimensions)}) = {total} bytes of data but only {read} follow.");
        if (stream.ReadByte() >= 0)
            throw new IdxFormatException(
                $"IDX file '{path}' has data after the {total} bytes its header ({string.Join(", ", dimensions)}) declares; it is not the file it claims to be.");
        return new IdxArray(path, dimensions, data);
    }
}
