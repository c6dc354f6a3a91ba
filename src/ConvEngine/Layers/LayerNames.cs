using System.Text.RegularExpressions;

namespace ConvEngine.Layers;

/// <summary>
/// Keras-style automatic names, unique in the process: conv2d, conv2d_1, conv2d_2, …; input layers
/// count from 1 (input_1), as Keras's unique_object_name does.
/// </summary>
public static partial class LayerNames
{
    private static readonly Dictionary<string, int> Counts = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>The next free name for <paramref name="prefix"/>.</summary>
    public static string Unique(string prefix, bool zeroBased = true)
    {
        lock (Gate)
        {
            Counts.TryGetValue(prefix, out int used);
            Counts[prefix] = used + 1;
            int number = zeroBased ? used : used + 1;
            return number == 0 ? prefix : $"{prefix}_{number}";
        }
    }

    /// <summary>Forgets every name handed out (Keras's clear_session), so the next Dense is "dense" again.</summary>
    public static void Reset()
    {
        lock (Gate) Counts.Clear();
    }

    /// <summary>Keras's to_snake_case: "MaxPooling2D" → "max_pooling2d", "Conv2D" → "conv2d".</summary>
    public static string ToSnakeCase(string className)
    {
        string intermediate = WordStart().Replace(className, "$1_$2");
        return LowerUpper().Replace(intermediate, "$1_$2").ToLowerInvariant();
    }

    [GeneratedRegex("(.)([A-Z][a-z0-9]+)")]
    private static partial Regex WordStart();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();
}
