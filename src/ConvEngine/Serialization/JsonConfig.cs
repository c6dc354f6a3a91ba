using System.Text.Json;
using System.Text.Json.Nodes;
using ConvEngine.Layers;

namespace ConvEngine.Serialization;

/// <summary>Reads values out of a Keras-like JSON config with errors that name the class and the key.</summary>
internal static class JsonConfig
{
    public static JsonSerializerOptions Indented { get; } = new() { WriteIndented = true };

    public static JsonObject Object(JsonNode? node, string what) =>
        node as JsonObject ?? throw new FormatException($"{what}: expected a JSON object, got {Describe(node)}.");

    public static JsonNode Required(JsonObject config, string owner, string key) =>
        config[key] ?? throw new FormatException($"{owner} config: {QuotedName.Of(key)} is missing.");

    public static string String(JsonObject config, string owner, string key, string? fallback = null)
    {
        var node = config[key];
        if (node is null) return fallback ?? throw new FormatException($"{owner} config: {QuotedName.Of(key)} is missing.");
        return node is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be a string, got {Describe(node)}.");
    }

    public static string? OptionalString(JsonObject config, string owner, string key) =>
        config[key] is null ? null : String(config, owner, key);

    public static int Int(JsonObject config, string owner, string key, int? fallback = null)
    {
        var node = config[key];
        if (node is null) return fallback ?? throw new FormatException($"{owner} config: {QuotedName.Of(key)} is missing.");
        return AsInt(node, owner, key);
    }

    public static double Double(JsonObject config, string owner, string key, double? fallback = null)
    {
        var node = config[key];
        if (node is null) return fallback ?? throw new FormatException($"{owner} config: {QuotedName.Of(key)} is missing.");
        return node is JsonValue v && v.TryGetValue(out double d) ? d
            : throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be a number, got {Describe(node)}.");
    }

    public static bool Bool(JsonObject config, string owner, string key, bool fallback)
    {
        var node = config[key];
        if (node is null) return fallback;
        return node is JsonValue v && v.TryGetValue(out bool b) ? b
            : throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be true or false, got {Describe(node)}.");
    }

    public static ulong? OptionalULong(JsonObject config, string owner, string key)
    {
        var node = config[key];
        if (node is null) return null;
        return node is JsonValue v && v.TryGetValue(out ulong u) ? u
            : throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be a non-negative integer, got {Describe(node)}.");
    }

    /// <summary>An int array such as a shape, [3, 3] or [null, 28, 28, 1] (nulls not allowed unless <paramref name="skipLeadingNull"/>).</summary>
    public static int[] Ints(JsonObject config, string owner, string key, bool skipLeadingNull = false)
    {
        var node = Required(config, owner, key);
        if (node is not JsonArray array) throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be a list of integers, got {Describe(node)}.");
        var items = array.ToList();
        if (skipLeadingNull && items.Count > 0 && items[0] is null) items.RemoveAt(0);
        return items.Select(n => n is null
            ? throw new FormatException($"{owner} config: {QuotedName.Of(key)} must hold integers, got null in {node.ToJsonString()}.")
            : AsInt(n, owner, key)).ToArray();
    }

    /// <summary>A Keras (height, width) value: an int or a list of two ints.</summary>
    public static Size2D Pair(JsonObject config, string owner, string key, Size2D? fallback = null)
    {
        var node = config[key];
        if (node is null) return fallback ?? throw new FormatException($"{owner} config: {QuotedName.Of(key)} is missing.");
        if (node is JsonArray { Count: 2 } a) return new Size2D(AsInt(a[0], owner, key), AsInt(a[1], owner, key));
        if (node is JsonArray { Count: 1 } one) return AsInt(one[0], owner, key);
        return AsInt(node, owner, key);
    }

    /// <summary>
    /// Keras's per-side 2-D amounts (ZeroPadding2D's padding, Cropping2D's cropping): an int for all four sides,
    /// [height, width] for symmetric ones, or [[top, bottom], [left, right]].
    /// </summary>
    public static (int Top, int Bottom, int Left, int Right) Sides(JsonObject config, string owner, string key, int fallback)
    {
        var node = config[key];
        if (node is JsonArray { Count: 2 } pair && pair[0] is JsonArray && pair[1] is JsonArray)
        {
            var (top, bottom) = SidePair(pair[0], owner, key, node);
            var (left, right) = SidePair(pair[1], owner, key, node);
            return (top, bottom, left, right);
        }
        var both = node is JsonArray or JsonValue ? Pair(config, owner, key) : node is null ? new Size2D(fallback, fallback)
            : throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be an int, [height, width] or [[top, bottom], [left, right]]; got {Describe(node)}.");
        return (both.Height, both.Height, both.Width, both.Width);
    }

    private static (int, int) SidePair(JsonNode? side, string owner, string key, JsonNode whole) =>
        side is JsonArray { Count: 2 } a && a[0] is JsonValue x && x.TryGetValue(out int first) && a[1] is JsonValue y && y.TryGetValue(out int second)
            ? (first, second)
            : throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be an int, [height, width] or [[top, bottom], [left, right]]; got {whole.ToJsonString()}.");

    /// <summary>A Keras 1-D value: an int or a list of one int.</summary>
    public static int Single(JsonObject config, string owner, string key, int? fallback = null)
    {
        var node = config[key];
        if (node is null) return fallback ?? throw new FormatException($"{owner} config: {QuotedName.Of(key)} is missing.");
        if (node is JsonArray { Count: 1 } a) return AsInt(a[0], owner, key);
        return AsInt(node, owner, key);
    }

    /// <summary>Fails unless data_format is absent or channels_last (the engine's only layout).</summary>
    public static void RequireChannelsLast(JsonObject config, string owner)
    {
        string format = String(config, owner, "data_format", "channels_last");
        if (format != "channels_last")
            throw new FormatException($"{owner} config: data_format {QuotedName.Of(format)} is not supported; the engine is channels_last (NHWC).");
    }

    private static int AsInt(JsonNode? node, string owner, string key) =>
        node is JsonValue v && v.TryGetValue(out int i) ? i
        : node is JsonValue d && d.TryGetValue(out double x) && x == Math.Floor(x) && Math.Abs(x) <= int.MaxValue ? (int)x
        : throw new FormatException($"{owner} config: {QuotedName.Of(key)} must be an integer, got {Describe(node)}.");

    private static string Describe(JsonNode? node) => node is null ? "null" : node.ToJsonString();
}
