namespace ConvEngine.Cli.Commands;

/// <summary>
/// An option's value exactly as typed. Spectre's tokenizer reads a value that starts with a minus and a digit as one
/// negative number and silently drops the rest: "-1 -2 -1; 0 0 0; 1 2 1" after --kernel arrives as "-1", "-2,1" after
/// --shift as "-2". Commands whose values may start with a minus read them through here.
/// </summary>
internal static class RawOptionText
{
    /// <summary>
    /// The last value given for the option named <paramref name="names"/> ("--kernel", "-k") in <paramref name="arguments"/>
    /// when <paramref name="parsed"/> (what Spectre made of it) is a truncation of it; else <paramref name="parsed"/>.
    /// </summary>
    public static string Of(IReadOnlyList<string> arguments, string parsed, params string[] names)
    {
        string? raw = null;
        for (int i = 0; i < arguments.Count; i++)
        {
            string a = arguments[i];
            if (names.Contains(a) && i + 1 < arguments.Count) { raw = arguments[++i]; continue; }
            foreach (var name in names)
                if (a.StartsWith(name + "=", StringComparison.Ordinal) || a.StartsWith(name + ":", StringComparison.Ordinal))
                    raw = a[(name.Length + 1)..];
        }
        // Trust the raw text only where it is what Spectre truncated, so its own syntax keeps its meaning elsewhere.
        return raw is not null && raw != parsed && raw.StartsWith(parsed, StringComparison.Ordinal) ? raw : parsed;
    }
}
