using System.Globalization;
using System.Text;

namespace ConvEngine.Serialization;

/// <summary>
/// Quotes a name read from a file (a layer, tensor, weight, node or attribute name) for an error message. A hostile
/// or corrupt file can hold a name of megabytes of NUL bytes and line breaks; quoted raw it would make the one-line
/// error thousands of lines long, so every importer quotes file-supplied names through here.
/// </summary>
public static class QuotedName
{
    /// <summary>The most characters of a name shown, escapes counted as written; longer names are cut and their length given.</summary>
    public const int MaxShown = 60;

    /// <summary>
    /// <c>'name'</c> with control, format and separator characters escaped (<c>\n</c>, <c>\0</c>, <c>\u202E</c>) and,
    /// past <see cref="MaxShown"/> characters as written, cut with an ellipsis and the full length: <c>'abc…' (4096 chars)</c>.
    /// </summary>
    public static string Of(string? name)
    {
        if (name is null) return "(none)";
        var text = new StringBuilder(MaxShown + 24).Append('\'');
        int i = 0;
        for (; i < name.Length && text.Length <= MaxShown; i++)
        {
            if (char.IsHighSurrogate(name[i]) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
                text.Append(name[i]).Append(name[++i]);   // a whole pair (an emoji) is shown as it is
            else Append(text, name[i]);
        }
        text.Append(i < name.Length ? $"…' ({name.Length} chars)" : "'");
        return text.ToString();
    }

    /// <summary>
    /// Names quoted with <see cref="Of"/> and joined by commas; past <paramref name="maxNames"/> the rest are counted,
    /// not listed (a file can list a million names). "none" for none.
    /// </summary>
    public static string List(IEnumerable<string?> names, int maxNames = 20)
    {
        var shown = new List<string>();
        int count = 0;
        foreach (var name in names)
            if (count++ < maxNames) shown.Add(Of(name));
        if (count == 0) return "none";
        return string.Join(", ", shown) + (count > maxNames ? $", … ({count} in all)" : "");
    }

    private static void Append(StringBuilder text, char c)
    {
        switch (c)
        {
            case '\0': text.Append("\\0"); return;
            case '\n': text.Append("\\n"); return;
            case '\r': text.Append("\\r"); return;
            case '\t': text.Append("\\t"); return;
        }
        // Also the invisible ones that reorder or hide text (U+202E) and lone surrogates, which no terminal shows honestly.
        if (char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate)
            text.Append($"\\u{(int)c:X4}");
        else text.Append(c);
    }
}
