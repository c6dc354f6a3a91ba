using System.Globalization;
using System.Text.Json;
using ConvEngine.Serialization;

namespace ConvEngine.Cli.Commands;

/// <summary>How the commands write what they report: indented JSON, RFC 4180 CSV fields, round-trip numbers, a file or the console.</summary>
internal static class CommandOutput
{
    public static JsonSerializerOptions IndentedJson { get; } = new() { WriteIndented = true };

    /// <summary>A CSV field, quoted as RFC 4180 asks when it holds commas, quotes or line breaks.</summary>
    public static string CsvField(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    /// <summary>A float that reads back to the same value.</summary>
    public static string RoundTrip(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Writes predictions to <paramref name="file"/> atomically (saying so on <paramref name="console"/>), or to the console when none is given.</summary>
    public static void WritePredictions(TextWriter console, string text, string? file, int count)
    {
        if (file is not null)
        {
            AtomicFile.WriteAllText(file, text);
            console.WriteLine($"Wrote {count} prediction(s) to {Path.GetFullPath(file)}.");
        }
        else
            console.Write(text);
    }
}
