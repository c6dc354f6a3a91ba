using System.Text;
using ConvEngine.Import.ModelFormats;
using NUnit.Framework;

namespace ConvEngine.Tests.Transfer;

/// <summary>
/// NumPy's .npy format (numpy/lib/format.py, "format version 1.0/2.0"): magic \x93NUMPY, version bytes, a little-endian
/// header length (2 bytes in 1.0, 4 in 2.0), an ASCII dict literal padded with spaces and '\n' to a multiple of 64,
/// then the C-order data. Files here are assembled byte by byte, as numpy writes them, independently of NpyFile.
/// </summary>
public class NpyFileTests
{
    private string _folder = null!;

    [SetUp] public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("convengine-npy-").FullName;
    [TearDown] public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    /// <summary>A .npy file as numpy.save writes it: the header dict padded so that preamble + header is 64-aligned.</summary>
    private static byte[] NumpyBytes(string dict, byte[] data, int major = 1)
    {
        int preamble = major == 1 ? 10 : 12;
        int padding = (64 - (preamble + dict.Length + 1) % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        if (major == 1) bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        else bytes.AddRange(BitConverter.GetBytes((uint)header.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    private string WriteFile(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // np.save("a.npy", np.arange(6, dtype="<f4").reshape(2, 3)): header "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".
    [Test]
    public void Read_ANumpyWrittenFloat32Matrix_GivesItsShapeAndRowMajorValues()
    {
        string path = WriteFile("a.npy", NumpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(0, 1, 2, 3, 4, 5)));
        var array = NpyFile.Read(path);
        Assert.That(array.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(array.Data, Is.EqualTo(new float[] { 0, 1, 2, 3, 4, 5 }));
    }

    // Version 2.0 has a 4-byte header length; a 1-tuple is written "(3,)"; the keys may come in any order.
    [Test]
    public void Read_Version2HeaderWithKeysInAnotherOrder_IsAccepted()
    {
        string path = WriteFile("v2.npy", NumpyBytes("{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}", Floats(1.5f, -2f, 3.25f), major: 2));
        var array = NpyFile.Read(path);
        Assert.That(array.Shape, Is.EqualTo(new[] { 3 }));
        Assert.That(array.Data, Is.EqualTo(new[] { 1.5f, -2f, 3.25f }));
    }

    [Test]
    public void Write_ThenRead_RoundTripsShapeAndValues_AndPadsTheHeaderTo64Bytes()
    {
        string path = Path.Combine(_folder, "round.npy");
        var values = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3).ToArray();
        NpyFile.Write(path, values, [2, 3, 4]);

        var bytes = File.ReadAllBytes(path);
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        Assert.That((10 + headerLength) % 64, Is.EqualTo(0), "numpy aligns the data to 64 bytes");
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.That(header.TrimEnd(), Is.EqualTo("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"));
        Assert.That(header, Does.EndWith("\n"));
        var read = NpyFile.Read(path);
        Assert.That(read.Shape, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(read.Data, Is.EqualTo(values));
    }

    [Test]
    public void Write_AOneDimensionalArray_WritesThePythonOneTuple()
    {
        var bytes = NpyFile.ToBytes(new float[] { 1, 2, 3 }, [3]);
        Assert.That(Encoding.ASCII.GetString(bytes), Does.Contain("'shape': (3,)"));
    }

    [TestCase("<f8", "float64")]
    [TestCase("|u1", "uint8")]
    [TestCase(">f4", "big-endian float32")]
    [TestCase("<i8", "int64")]
    [TestCase("<i?x", "not float32")]   // fuzz run seed 5, npy case 1259: the size was parsed as a number and threw
    [TestCase("<u99", "not float32")]
    public void Read_AnotherDtype_IsRefusedNamingItAndTheFile(string descr, string described)
    {
        string path = WriteFile("other.npy", NumpyBytes($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", new byte[16]));
        var e = Assert.Throws<FormatException>(() => NpyFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain(descr).And.Contain(described).And.Contain("'<f4'"));
    }

    [Test]
    public void Read_FortranOrder_IsRefused()
    {
        string path = WriteFile("f.npy", NumpyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", Floats(1, 2, 3, 4)));
        Assert.That(() => NpyFile.Read(path), Throws.TypeOf<FormatException>().With.Message.Contains("Fortran"));
    }

    // Bounded by the file's length: a shape that claims more data than the file holds is an error before any allocation.
    [Test]
    public void Read_AShapeLargerThanTheData_IsRefusedWithBothLengths()
    {
        string path = WriteFile("short.npy", NumpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", Floats(1, 2)));
        var e = Assert.Throws<FormatException>(() => NpyFile.Read(path))!;
        Assert.That(e.Message, Does.Contain("40000000000 bytes").And.Contain("holds 8"));
    }

    [Test]
    public void Read_AHeaderLongerThanTheFile_IsRefused()
    {
        var bytes = NumpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Floats(1));
        bytes[8] = 0xFF;
        bytes[9] = 0x7F;   // header length 32767
        string path = WriteFile("long-header.npy", bytes);
        Assert.That(() => NpyFile.Read(path), Throws.TypeOf<FormatException>().With.Message.Contains("header claims 32767 bytes"));
    }

    [Test]
    public void Read_NotANpyFile_SaysSo()
    {
        string path = WriteFile("text.npy", Encoding.ASCII.GetBytes("hello, world"));
        Assert.That(() => NpyFile.Read(path), Throws.TypeOf<FormatException>().With.Message.Contains("not a NumPy .npy file"));
    }

    [Test]
    public void Read_AMalformedHeader_NamesTheProblem()
    {
        string path = WriteFile("bad.npy", NumpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", Floats(1, 2)));
        Assert.That(() => NpyFile.Read(path), Throws.TypeOf<FormatException>().With.Message.Contains("expected a dimension"));
    }
}
