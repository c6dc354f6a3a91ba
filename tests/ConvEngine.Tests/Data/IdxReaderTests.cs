using System.IO.Compression;
using ConvEngine.Data.Idx;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

// The IDX format (LeCun's MNIST page): bytes 0–1 zero, byte 2 the type (0x08 unsigned byte), byte 3 the number of
// dimensions, then each dimension as a big-endian int32, then the values row-major. Images 0x00000803, labels 0x00000801.
public class IdxReaderTests
{
    private TempImageTree tree = null!;

    [SetUp] public void CreateTree() => tree = new TempImageTree();
    [TearDown] public void DeleteTree() => tree.Dispose();

    // Written byte by byte here, independently of the reader.
    private static byte[] IdxBytes(byte typeCode, int[] dims, byte[] values)
    {
        var bytes = new List<byte> { 0, 0, typeCode, (byte)dims.Length };
        foreach (int d in dims)
            bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(values);
        return [.. bytes];
    }

    private static byte[] Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(raw);
        return buffer.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = tree.PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static readonly byte[] ThreeImages2x4 = [.. Enumerable.Range(0, 24).Select(i => (byte)(i * 10))];

    [TestCase(false)]
    [TestCase(true)]
    public void Images_RoundTrip_RawOrGzipped(bool gzipped)
    {
        var raw = IdxBytes(0x08, [3, 2, 4], ThreeImages2x4);
        // Named without .gz on purpose: gzip is recognised by its magic bytes 1F 8B.
        string path = Write("images-idx3-ubyte", gzipped ? Gzip(raw) : raw);
        var images = IdxReader.ReadImages(path);
        Assert.That(images.Dimensions, Is.EqualTo(new[] { 3, 2, 4 }));
        Assert.That(images.Count, Is.EqualTo(3));
        Assert.That(images.Data, Is.EqualTo(ThreeImages2x4));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Labels_RoundTrip_AndPairWithImages(bool gzipped)
    {
        var labelBytes = IdxBytes(0x08, [3], [9, 0, 7]);
        string labels = Write("labels.gz", gzipped ? Gzip(labelBytes) : labelBytes);
        string images = Write("images", IdxBytes(0x08, [3, 2, 4], ThreeImages2x4));
        Assert.That(IdxReader.ReadLabels(labels), Is.EqualTo(new byte[] { 9, 0, 7 }));
        var (read, readLabels) = IdxReader.ReadLabeledImages(images, labels);
        Assert.That(read.Data, Is.EqualTo(ThreeImages2x4));
        Assert.That(readLabels, Is.EqualTo(new byte[] { 9, 0, 7 }));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TruncatedData_Throws_NamingTheFile(bool gzipped)
    {
        var raw = IdxBytes(0x08, [3, 2, 4], ThreeImages2x4)[..^5];
        string path = Write("short-images", gzipped ? Gzip(raw) : raw);
        var ex = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("truncated").And.Contain("24 bytes").And.Contain("only 19"));
    }

    [Test]
    public void TruncatedGzipStream_Throws_NamingTheFile()
    {
        var zipped = Gzip(IdxBytes(0x08, [3, 2, 4], ThreeImages2x4));
        string path = Write("cut.gz", zipped[..(zipped.Length / 2)]);
        var ex = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain(path));
    }

    [Test]
    public void TruncatedHeader_Throws_NamingTheFile()
    {
        string path = Write("header-only", IdxBytes(0x08, [3, 2, 4], [])[..10]);
        var ex = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("dimension sizes"));
    }

    [Test]
    public void LabelFileReadAsImages_Throws_WithBothMagics()
    {
        string path = Write("labels", IdxBytes(0x08, [3], [1, 2, 3]));
        var ex = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(path));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("0x00000801").And.Contain("0x00000803"));
    }

    [Test]
    public void NotIdxOrNotBytes_Throws()
    {
        string text = Write("readme", "hello world, not idx"u8.ToArray());
        Assert.That(Assert.Throws<IdxFormatException>(() => IdxReader.Read(text))!.Message, Does.Contain(text));
        string floats = Write("floats", IdxBytes(0x0D, [1], [0, 0, 0, 0]));
        Assert.That(Assert.Throws<IdxFormatException>(() => IdxReader.Read(floats))!.Message, Does.Contain("0x0D"));
    }

    [Test]
    public void TrailingBytes_Throw()
    {
        string path = Write("long", IdxBytes(0x08, [2], [1, 2, 3]));
        Assert.That(Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabels(path))!.Message, Does.Contain(path).And.Contain("after"));
    }

    [Test]
    public void ImageAndLabelCounts_Differ_Throws_NamingBothFiles()
    {
        string images = Write("images", IdxBytes(0x08, [3, 2, 4], ThreeImages2x4));
        string labels = Write("labels", IdxBytes(0x08, [2], [1, 2]));
        var ex = Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabeledImages(images, labels));
        Assert.That(ex!.Message, Does.Contain(images).And.Contain(labels).And.Contain("3 images").And.Contain("2 labels"));
    }

    [Test]
    public void MissingFile_Throws_NamingIt()
    {
        string path = tree.PathOf("absent");
        Assert.That(Assert.Throws<FileNotFoundException>(() => IdxReader.Read(path))!.Message, Does.Contain(path));
    }
}
