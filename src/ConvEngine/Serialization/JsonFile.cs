using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace ConvEngine.Serialization;

/// <summary>
/// Strict JSON for every file the engine reads (configs, dataset.json, training.json, safetensors headers): valid UTF-8,
/// no key given twice (a duplicate would silently win or throw later, far from the file), a bounded size and depth.
/// Errors are <see cref="FormatException"/>s that name the source.
/// </summary>
public static class JsonFile
{
    /// <summary>The largest JSON file read (model configs are kilobytes; the largest real ones, a few megabytes).</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 128 };

    /// <summary>Reads <paramref name="path"/> (a regular file of at most <see cref="MaxBytes"/>) as a JSON object.</summary>
    public static JsonObject ReadObject(string path, string what) =>
        ParseObject(InputFile.ReadAllBytes(path, what, MaxBytes), path);

    /// <summary>Parses UTF-8 JSON that must be an object; <paramref name="source"/> names it in errors.</summary>
    public static JsonObject ParseObject(ReadOnlySpan<byte> utf8, string source) =>
        Parse(utf8, source) as JsonObject ?? throw new FormatException($"{source}: the JSON is not an object.");

    /// <summary>Parses UTF-8 JSON; <paramref name="source"/> names it in errors.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8, string source)
    {
        if (utf8.StartsWith("\uFEFF"u8)) utf8 = utf8[3..];
        if (!Utf8.IsValid(utf8))
            throw new FormatException($"{source}: not valid UTF-8 text, so not JSON.");
        try
        {
            return JsonNode.Parse(utf8, documentOptions: Strict);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not valid JSON ({OneLine(e.Message)}).", e);
        }
    }

    /// <summary>
    /// Checks the "format"/"format_version" stamp the engine writes into its own files: the format must be
    /// <paramref name="format"/> and the version one this build reads. <paramref name="required"/> false accepts a
    /// file without a stamp (configs written by hand or by Keras).
    /// </summary>
    public static void RequireFormat(JsonObject json, string source, string format, int version, bool required = true)
    {
        var tag = json["format"];
        if (tag is null)
        {
            if (!required) return;
            throw new FormatException($"{source}: no \"format\": \"{format}\" entry; it is not a file this engine wrote.");
        }
        if (tag is not JsonValue v || !v.TryGetValue(out string? name) || name != format)
            throw new FormatException($"{source}: \"format\" is {tag.ToJsonString()}, expected \"{format}\".");
        var versionNode = json["format_version"];
        if (versionNode is not JsonValue vv || !vv.TryGetValue(out int given))
            throw new FormatException($"{source}: \"format_version\" is {versionNode?.ToJsonString() ?? "missing"}, expected an integer (this build reads {version}).");
        if (given < 1 || given > version)
            throw new FormatException($"{source}: format_version {given} of \"{format}\" is not one this build reads (it reads 1 to {version}); " +
                (given > version ? "the file was written by a newer ConvEngine." : "the file is corrupt."));
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
