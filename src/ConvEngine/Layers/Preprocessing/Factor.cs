using System.Globalization;
using System.Text.Json.Nodes;

namespace ConvEngine.Layers;

/// <summary>
/// A Keras preprocessing factor as written: one number (<c>0.2</c>) or a (lower, upper) pair (<c>(-0.1, 0.3)</c>).
/// What a number means depends on the layer (RandomRotation reads 0.2 as [−0.2, 0.2], RandomContrast as
/// [1 − 0.2, 1 + 0.2]); the layer says so. A pair (a, a) fixes the draw at a, as in Keras.
/// </summary>
public readonly record struct Factor
{
    private Factor(double first, double second, bool isRange)
    {
        First = first;
        Second = second;
        IsRange = isRange;
    }

    /// <summary>The number, or the pair's first (lower) value.</summary>
    public double First { get; }
    /// <summary>The pair's second (upper) value; equal to <see cref="First"/> for a number.</summary>
    public double Second { get; }
    /// <summary>Whether the factor was given as a pair.</summary>
    public bool IsRange { get; }

    /// <summary>One number, read as the layer defines it (e.g. RandomRotation: [−value, value]).</summary>
    public static implicit operator Factor(double value) => new(value, value, false);
    /// <summary>An explicit (lower, upper) range.</summary>
    public static implicit operator Factor((double Lower, double Upper) range) => new(range.Lower, range.Upper, true);

    /// <summary>(−f, f) for a number f, the pair as given: how most of Keras's factors read.</summary>
    public (double Lower, double Upper) Symmetric => IsRange ? (First, Second) : (-First, First);

    /// <summary>The number or the [lower, upper] list, as Keras's get_config writes it.</summary>
    public JsonNode ToJson() => IsRange ? new JsonArray(First, Second) : JsonValue.Create(First);

    /// <summary>Python's spelling: <c>0.2</c> or <c>(-0.1, 0.3)</c>.</summary>
    public override string ToString() => IsRange
        ? string.Create(CultureInfo.InvariantCulture, $"({First:R}, {Second:R})")
        : First.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Reads a number or a list of two numbers.</summary>
    internal static Factor Read(JsonObject config, string owner, string key)
    {
        var node = config[key] ?? throw new FormatException($"{owner} config: '{key}' is missing.");
        return Read(node, owner, key);
    }

    internal static Factor Read(JsonNode node, string owner, string key)
    {
        if (node is JsonValue v && v.TryGetValue(out double number)) return number;
        if (node is JsonArray { Count: 2 } pair && pair[0] is JsonValue a && a.TryGetValue(out double lower)
            && pair[1] is JsonValue b && b.TryGetValue(out double upper))
            return (lower, upper);
        throw new FormatException($"{owner} config: '{key}' must be a number or a list of two numbers, got {node.ToJsonString()}.");
    }
}
