using System.Text;

namespace ConvEngine.Fuzz;

/// <summary>
/// Seeded mutations of a file's bytes: truncation, byte flips, boundary values, huge declared sizes written over
/// length and count fields, inserted and duplicated slices (a repeated chunk), deletions; for JSON, structure-aware
/// ones too (hostile numbers, duplicated keys, deep nesting, wrong types). One to three are stacked per case.
/// </summary>
internal static class Mutator
{
    private static readonly uint[] HugeValues = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x40000000, 0x0FFFFFFF, 0x00FFFFFF, 0x10000, 0];

    public static byte[] Mutate(byte[] data, Random random, bool json)
    {
        int count = 1 + random.Next(3);
        for (int i = 0; i < count; i++)
            data = json && random.Next(2) == 0 ? MutateJson(data, random) : MutateBytes(data, random);
        return data;
    }

    /// <summary>The name of each byte mutation, for the report.</summary>
    public static byte[] MutateBytes(byte[] data, Random random)
    {
        if (data.Length == 0) return [(byte)random.Next(256)];
        var d = (byte[])data.Clone();
        switch (random.Next(8))
        {
            case 0: return data[..random.Next(data.Length)];                                     // truncate
            case 1:                                                                               // flip bytes
                for (int k = 1 + random.Next(8); k > 0; k--) d[random.Next(d.Length)] ^= (byte)(1 + random.Next(255));
                return d;
            case 2:                                                                               // boundary byte
                d[random.Next(d.Length)] = new byte[] { 0x00, 0xFF, 0x7F, 0x80, 0x01 }[random.Next(5)];
                return d;
            case 3:                                                                               // huge 32-bit value, either endianness
            {
                if (d.Length < 4) return d;
                int at = random.Next(d.Length - 3);
                uint v = HugeValues[random.Next(HugeValues.Length)];
                bool big = random.Next(2) == 0;
                for (int b = 0; b < 4; b++) d[at + b] = (byte)(v >> (big ? 24 - 8 * b : 8 * b));
                return d;
            }
            case 4:                                                                               // huge 64-bit value
            {
                if (d.Length < 8) return d;
                int at = random.Next(d.Length - 7);
                ulong v = random.Next(3) switch { 0 => ulong.MaxValue, 1 => 1UL << 40, _ => (ulong)long.MaxValue };
                for (int b = 0; b < 8; b++) d[at + b] = (byte)(v >> (8 * b));
                return d;
            }
            case 5:                                                                               // duplicate a slice (a repeated chunk)
            {
                int start = random.Next(d.Length), length = 1 + random.Next(Math.Min(d.Length - start, 1 + d.Length / 4));
                int at = random.Next(d.Length + 1);
                return [.. d[..at], .. d[start..(start + length)], .. d[at..]];
            }
            case 6:                                                                               // insert random bytes
            {
                int at = random.Next(d.Length + 1);
                var noise = new byte[1 + random.Next(32)];
                random.NextBytes(noise);
                return [.. d[..at], .. noise, .. d[at..]];
            }
            default:                                                                              // delete a slice
            {
                int start = random.Next(d.Length), length = 1 + random.Next(Math.Min(d.Length - start, 1 + d.Length / 8));
                return [.. d[..start], .. d[(start + length)..]];
            }
        }
    }

    private static readonly string[] HostileNumbers =
        ["0", "-1", "2147483647", "2147483648", "-2147483648", "1e9", "1e308", "1e400", "1.5", "-0", "4294967296", "9223372036854775807", "100000000"];

    /// <summary>Text-level JSON mutations that keep it JSON-like: hostile numbers, a key given twice, deep nesting, a value of the wrong type.</summary>
    private static byte[] MutateJson(byte[] data, Random random)
    {
        string text = Encoding.UTF8.GetString(data);
        switch (random.Next(5))
        {
            case 0:                                                                               // a number replaced by a hostile one
            {
                var numbers = System.Text.RegularExpressions.Regex.Matches(text, @"(?<![\w.])-?\d+(\.\d+)?([eE][-+]?\d+)?");
                if (numbers.Count == 0) return MutateBytes(data, random);
                var m = numbers[random.Next(numbers.Count)];
                text = text[..m.Index] + HostileNumbers[random.Next(HostileNumbers.Length)] + text[(m.Index + m.Length)..];
                break;
            }
            case 1:                                                                               // a key duplicated in its object
            {
                var keys = System.Text.RegularExpressions.Regex.Matches(text, "\"[^\"\\\\]{1,40}\"\\s*:\\s*(\"[^\"]*\"|-?[\\d.eE+-]+|true|false|null)");
                if (keys.Count == 0) return MutateBytes(data, random);
                var m = keys[random.Next(keys.Count)];
                text = text[..m.Index] + m.Value + ", " + text[m.Index..];
                break;
            }
            case 2:                                                                               // deep nesting
            {
                int at = text.IndexOf(':', random.Next(Math.Max(1, text.Length)));
                if (at < 0) return MutateBytes(data, random);
                int depth = random.Next(2) == 0 ? 200 : 100000;
                text = text[..(at + 1)] + new string('[', depth) + new string(']', depth) + "," + text[(at + 1)..];
                break;
            }
            case 3:                                                                               // a value of the wrong type
            {
                var values = System.Text.RegularExpressions.Regex.Matches(text, ":\\s*(\"[^\"]*\"|-?[\\d.eE+-]+|true|false|null|\\[)");
                if (values.Count == 0) return MutateBytes(data, random);
                var m = values[random.Next(values.Count)];
                string replacement = new[] { "null", "\"x\"", "{}", "[]", "true", "[1, 2]" }[random.Next(6)];
                if (m.Groups[1].Value == "[") return MutateBytes(data, random);
                text = text[..(m.Index + 1)] + " " + replacement + text[(m.Index + m.Length)..];
                break;
            }
            default:                                                                              // a huge string
            {
                int at = text.IndexOf('"', random.Next(Math.Max(1, text.Length)));
                if (at < 0) return MutateBytes(data, random);
                text = text[..(at + 1)] + new string('A', 1 << 16) + text[(at + 1)..];
                break;
            }
        }
        return Encoding.UTF8.GetBytes(text);
    }
}
