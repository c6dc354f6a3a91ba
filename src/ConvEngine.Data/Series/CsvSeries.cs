using ConvEngine.Serialization;
using System.Globalization;
using System.Text;

namespace ConvEngine.Data.Series;

/// <summary>What to do with an empty cell in the value column.</summary>
public enum MissingValues
{
    /// <summary>Fill it by linear interpolation between its neighbours (the nearest value at either end).</summary>
    Interpolate,
    /// <summary>Refuse the file, naming the line.</summary>
    Error,
}

/// <summary>
/// One column of a CSV file read as a time series, with its x axis: the values of another column (dates such as
/// 19580329 or 1958-03-29, or numbers such as years) or, without one, the row index.
/// </summary>
/// <param name="File">The file it came from.</param>
/// <param name="Column">The value column's name.</param>
/// <param name="XColumn">The x column's name, or null for the row index.</param>
/// <param name="Values">The values in file order.</param>
/// <param name="XLabels">Each row's x as written (the index as text without an x column).</param>
/// <param name="XNumbers">Each row's x as a number when every x parses as one (years, indices), else null.</param>
/// <param name="XDates">Each row's x as a date when every x parses as one (yyyyMMdd or ISO yyyy-MM-dd), else null.</param>
/// <param name="FilledMissing">How many empty cells were filled by interpolation.</param>
public sealed record TimeSeries(string File, string Column, string? XColumn, float[] Values, string[] XLabels,
    double[]? XNumbers, DateTime[]? XDates, int FilledMissing);

/// <summary>Reads a column of a CSV file (RFC 4180: a header row, commas, fields optionally in double quotes) as a <see cref="TimeSeries"/>.</summary>
public static class CsvSeries
{
    /// <summary>The largest CSV file read (256 MiB: some ten million rows; memory stays a small multiple of it).</summary>
    private const long MaxBytes = 256L << 20;

    /// <summary>
    /// Reads <paramref name="path"/>. <paramref name="column"/> picks the value column by name (default: the last column);
    /// <paramref name="xColumn"/> the x axis (default: the first column when it is not the value column; "index" for the row index).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">No such column (the message lists the columns), a cell that is not a number (naming the file, line and column), a row of the wrong width, or no values.</exception>
    public static TimeSeries Read(string path, string? column = null, string? xColumn = null, MissingValues missing = MissingValues.Interpolate)
    {
        ArgumentNullException.ThrowIfNull(path);
        // A regular file of bounded size: /dev/zero is one endless line and a FIFO blocks on open.
        long length = InputFile.Check(path, "CSV file");
        if (length > MaxBytes)
            throw new IOException($"CSV file '{path}' is {length} bytes, more than the {MaxBytes} bytes a series file may have.");
        using var reader = new StreamReader(InputFile.OpenRead(path, "CSV file"), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        string? headerLine = reader.ReadLine();
        if (headerLine is null) throw new FormatException($"CSV file '{path}' is empty: it needs a header row naming its columns.");
        string[] header = SplitLine(headerLine, path, 1);

        int valueIndex = column is null ? header.Length - 1 : FindColumn(header, column, path);
        int? xIndex = xColumn is null
            ? (header.Length > 1 && valueIndex != 0 ? 0 : null)
            : string.Equals(xColumn, "index", StringComparison.OrdinalIgnoreCase) && !header.Contains(xColumn) ? null : FindColumn(header, xColumn, path);

        var values = new List<float>();
        var labels = new List<string>();
        var missingAt = new List<int>();
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            string[] fields = SplitLine(line, path, lineNumber);
            if (fields.Length != header.Length)
                throw new FormatException($"{path} line {lineNumber}: {fields.Length} field(s) where the header has {header.Length} ({string.Join(", ", header)}).");
            string cell = fields[valueIndex].Trim();
            if (cell.Length == 0)
            {
                if (missing == MissingValues.Error)
                    throw new FormatException($"{path} line {lineNumber}: column '{header[valueIndex]}' is empty (a missing value).");
                missingAt.Add(values.Count);
                values.Add(float.NaN);
            }
            else if (float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v))
                values.Add(v);
            else
                throw new FormatException($"{path} line {lineNumber}: column '{header[valueIndex]}' holds '{cell}', which is not a number.");
            labels.Add(xIndex is { } xi ? fields[xi].Trim() : (values.Count - 1).ToString(CultureInfo.InvariantCulture));
        }
        if (values.Count == 0) throw new FormatException($"CSV file '{path}' has a header but no rows.");
        if (missingAt.Count == values.Count) throw new FormatException($"{path}: column '{header[valueIndex]}' has no values, only empty cells.");

        var array = values.ToArray();
        Interpolate(array, missingAt);
        var xLabels = labels.ToArray();
        return new TimeSeries(path, header[valueIndex], xIndex is { } x ? header[x] : null, array, xLabels,
            ParseNumbers(xLabels), xIndex is null ? null : ParseDates(xLabels), missingAt.Count);
    }

    private static int FindColumn(string[] header, string name, string path)
    {
        int exact = Array.IndexOf(header, name);
        if (exact >= 0) return exact;
        var folded = header.Select((h, i) => (h, i)).Where(p => string.Equals(p.h, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (folded.Count == 1) return folded[0].i;
        throw new FormatException($"CSV file '{path}' has no column '{name}'; its columns are {string.Join(", ", header)}.");
    }

    /// <summary>One CSV record: commas separate fields; a field in double quotes may hold commas and "" for a quote.</summary>
    private static string[] SplitLine(string line, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        if (quoted) throw new FormatException($"{path} line {lineNumber}: a quoted field is not closed (multi-line fields are not supported).");
        fields.Add(field.ToString());
        return fields.ToArray();
    }

    /// <summary>Linear interpolation over each run of missing values; a run at either end takes the nearest value.</summary>
    private static void Interpolate(float[] values, List<int> missing)
    {
        foreach (int i in missing)
        {
            if (!float.IsNaN(values[i])) continue;
            int before = i - 1, after = i;
            while (after < values.Length && float.IsNaN(values[after])) after++;
            for (int j = i; j < after; j++)
            {
                values[j] = before < 0 ? values[after]
                    : after >= values.Length ? values[before]
                    : values[before] + (values[after] - values[before]) * (j - before) / (after - before);
            }
        }
    }

    private static double[]? ParseNumbers(string[] labels)
    {
        var numbers = new double[labels.Length];
        for (int i = 0; i < labels.Length; i++)
            if (!double.TryParse(labels[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i])) return null;
        return numbers;
    }

    private static readonly string[] DateFormats = ["yyyyMMdd", "yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM"];

    private static DateTime[]? ParseDates(string[] labels)
    {
        var dates = new DateTime[labels.Length];
        for (int i = 0; i < labels.Length; i++)
            if (!DateTime.TryParseExact(labels[i], DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out dates[i]))
                return null;
        return dates;
    }
}
