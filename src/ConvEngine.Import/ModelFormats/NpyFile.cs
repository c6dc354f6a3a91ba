using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ConvEngine.Serialization;

namespace ConvEngine.Import.ModelFormats;

/// <summary>A NumPy array of float32 values, C order: its shape and its data.</summary>
public sealed record NpyArray(int[] Shape, float[] Data)
{
    /// <summary>The number of values.</summary>
    public long Length => Data.LongLength;
    /// <summary>The shape as NumPy prints it, e.g. "(2, 3)" or "(4,)".</summary>
    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");
}

/// <summary>
/// NumPy's .npy format (numpy/lib/format.py): the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), the length of
/// the header (2 bytes little-endian in 1.0, 4 bytes after), then the header, a Python dict literal such as
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c> padded with spaces and a newline so the
/// data starts on a multiple of 64, then the raw data. Only little-endian float32 in C order is read; anything else
/// is refused with a message naming the file and the dtype. Lengths are checked against the file before allocating.
/// </summary>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    /// <summary>numpy.lib.format keeps headers below this (it refuses longer ones unless told otherwise).</summary>
    private const int MaxHeaderLength = 1 << 16;
    /// <summary>numpy ≥ 1.14 pads the header so the data is 64-byte aligned.</summary>
    private const int Alignment = 64;

    /// <summary>Reads a float32 .npy file.</summary>
    /// <exception cref="FormatException">Not a .npy file, a dtype other than '&lt;f4', Fortran order, or a length that does not match the shape.</exception>
    public static NpyArray Read(string path)
    {
        using var stream = InputFile.OpenRead(path, "NumPy file");
        return Read(stream, path);
    }

    /// <summary>Reads a float32 .npy array from <paramref name="stream"/>, which must be seekable (its length bounds every read).</summary>
    public static NpyArray Read(Stream stream, string source)
    {
        long fileLength = stream.Length - stream.Position;
        var preamble = new byte[10];
        if (fileLength < preamble.Length || stream.ReadAtLeast(preamble, preamble.Length, throwOnEndOfStream: false) < preamble.Length
            || !preamble.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new FormatException($"'{source}' is not a NumPy .npy file (it does not start with \\x93NUMPY).");
        byte major = preamble[6], minor = preamble[7];
        int headerLength;
        int prefixLength;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(preamble.AsSpan(8));
                prefixLength = 10;
                break;
            case 2 or 3:
                var four = new byte[2];
                if (stream.ReadAtLeast(four, 2, throwOnEndOfStream: false) < 2)
                    throw new FormatException($"'{source}': the .npy header is truncated.");
                uint length = BinaryPrimitives.ReadUInt32LittleEndian([preamble[8], preamble[9], four[0], four[1]]);
                if (length > MaxHeaderLength)
                    throw new FormatException($"'{source}': the .npy header claims {length} bytes, more than the {MaxHeaderLength} allowed.");
                headerLength = (int)length;
                prefixLength = 12;
                break;
            default:
                throw new FormatException($"'{source}': .npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are).");
        }
        if (prefixLength + (long)headerLength > fileLength)
            throw new FormatException($"'{source}': the .npy header claims {headerLength} bytes but the file has only {fileLength - prefixLength} after the preamble.");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortranOrder, shape) = ParseHeader(header, source);

        if (descr != "<f4")
            throw new FormatException($"'{source}' holds dtype {QuotedName.Of(descr)} ({DescribeDtype(descr)}); only little-endian float32 ('<f4') is supported. " +
                "Convert it with numpy: np.save(path, array.astype('<f4')).");
        if (fortranOrder)
            throw new FormatException($"'{source}' is in Fortran (column-major) order; save it in C order: np.save(path, np.ascontiguousarray(array)).");

        long count = 1;
        foreach (int d in shape)
            count = d == 0 || count <= long.MaxValue / sizeof(float) / d ? count * d
                : throw new FormatException($"'{source}': shape {FormatShape(shape)} holds more values than a 64-bit count.");
        long dataLength = fileLength - prefixLength - headerLength;
        if (count * sizeof(float) != dataLength)
            throw new FormatException($"'{source}': shape {FormatShape(shape)} needs {count * sizeof(float)} bytes of float32 data but the file holds {dataLength}.");
        if (count > Array.MaxLength)
            throw new FormatException($"'{source}': {count} values are more than one array can hold.");
        var data = new float[count];
        stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < data.Length; i++)
                data[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(data[i])));
        return new NpyArray(shape, data);
    }

    /// <summary>Writes <paramref name="data"/> as a version 1.0 float32 .npy file of <paramref name="shape"/> (C order), atomically.</summary>
    public static void Write(string path, ReadOnlySpan<float> data, IReadOnlyList<int> shape)
    {
        var bytes = ToBytes(data, shape);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The bytes of a version 1.0 .npy file holding <paramref name="data"/> with <paramref name="shape"/>.</summary>
    public static byte[] ToBytes(ReadOnlySpan<float> data, IReadOnlyList<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"NpyFile: shape {FormatShape(shape)} has a negative dimension.");
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"NpyFile: shape {FormatShape(shape)} holds {count} values but {data.Length} were given.");

        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {FormatShape(shape)}, }}";
        // Pad with spaces so that magic (6) + version (2) + length (2) + header, ending in '\n', is a multiple of 64.
        int unpadded = 10 + dict.Length + 1;
        int padding = (Alignment - unpadded % Alignment) % Alignment;
        string header = dict + new string(' ', padding) + "\n";

        var bytes = new byte[10 + header.Length + (long)data.Length * sizeof(float)];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        var destination = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(10 + header.Length));
        data.CopyTo(destination);
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < destination.Length; i++)
                destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(destination[i])));
        return bytes;
    }

    /// <summary>Python's repr of a shape tuple: "()", "(3,)", "(2, 3)".</summary>
    private static string FormatShape(IReadOnlyList<int> shape) =>
        "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + (shape.Count == 1 ? ",)" : ")");

    private static string DescribeDtype(string descr) => descr.Length >= 3 ? (descr[0], descr[1], descr[2..]) switch
    {
        ('>', 'f', "4") => "big-endian float32",
        (_, 'f', "8") => "float64",
        (_, 'f', "2") => "float16",
        (_, 'i', "1" or "2" or "4" or "8") => $"int{(descr[2] - '0') * 8}",
        (_, 'u', "1" or "2" or "4" or "8") => $"uint{(descr[2] - '0') * 8}",
        (_, 'b', "1") => "bool",
        _ => "not float32",
    } : "not float32";

    /// <summary>
    /// Reads the header dict: exactly the keys 'descr' (a string), 'fortran_order' (True/False) and 'shape'
    /// (a tuple of non-negative ints), in any order, as numpy.lib.format requires.
    /// </summary>
    private static (string Descr, bool FortranOrder, int[] Shape) ParseHeader(string header, string source)
    {
        var reader = new HeaderReader(header, source);
        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        reader.Expect('{');
        while (!reader.TryConsume('}'))
        {
            string key = reader.ReadString();
            reader.Expect(':');
            switch (key)
            {
                case "descr": descr = reader.ReadString(); break;
                case "fortran_order": fortran = reader.ReadBool(); break;
                case "shape": shape = reader.ReadIntTuple(); break;
                default: throw reader.Error($"unexpected key {QuotedName.Of(key)}");
            }
            if (!reader.TryConsume(',')) { reader.Expect('}'); break; }
        }
        if (descr is null || fortran is null || shape is null)
            throw reader.Error("the header must give 'descr', 'fortran_order' and 'shape'");
        return (descr, fortran.Value, shape);
    }

    /// <summary>A cursor over the Python literal of a .npy header.</summary>
    private sealed class HeaderReader(string text, string source)
    {
        private int _position;

        public FormatException Error(string what) =>
            new($"'{source}': the .npy header {Abbreviate(text.TrimEnd())} is not valid: {Printable(what)}.");

        private static string Printable(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

        // The header is quoted as read; control and non-ASCII bytes are shown as '?', so the message stays one line.
        private static string Abbreviate(string s)
        {
            string printable = Printable(s);
            return printable.Length <= 120 ? printable : printable[..120] + "…";
        }

        private void SkipSpace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position])) _position++;
        }

        public bool TryConsume(char c)
        {
            SkipSpace();
            if (_position < text.Length && text[_position] == c) { _position++; return true; }
            return false;
        }

        public void Expect(char c)
        {
            if (!TryConsume(c)) throw Error($"expected '{c}' at position {_position}");
        }

        public string ReadString()
        {
            SkipSpace();
            if (_position >= text.Length || text[_position] is not ('\'' or '"')) throw Error($"expected a quoted string at position {_position}");
            char quote = text[_position++];
            int end = text.IndexOf(quote, _position);
            if (end < 0) throw Error("unterminated string");
            string value = text[_position..end];
            _position = end + 1;
            return value;
        }

        public bool ReadBool()
        {
            SkipSpace();
            foreach (var (word, value) in new[] { ("True", true), ("False", false) })
                if (string.CompareOrdinal(text, _position, word, 0, word.Length) == 0)
                {
                    _position += word.Length;
                    return value;
                }
            throw Error($"expected True or False at position {_position}");
        }

        public int[] ReadIntTuple()
        {
            Expect('(');
            var values = new List<int>();
            while (!TryConsume(')'))
            {
                SkipSpace();
                int start = _position;
                while (_position < text.Length && char.IsAsciiDigit(text[_position])) _position++;
                // numpy may write Python 2 longs as "3L".
                string digits = text[start.._position];
                if (_position < text.Length && text[_position] == 'L') _position++;
                if (digits.Length == 0 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
                    throw Error($"expected a dimension (a non-negative int) at position {start}");
                values.Add(value);
                if (!TryConsume(',')) { Expect(')'); break; }
            }
            return values.ToArray();
        }
    }
}
