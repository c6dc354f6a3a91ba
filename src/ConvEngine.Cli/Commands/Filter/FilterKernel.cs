using System.Globalization;

namespace ConvEngine.Cli.Commands;

/// <summary>A square single-channel image kernel, row-major (row 0 is the top row), as `convengine filter` applies it.</summary>
internal sealed record FilterKernel(string Name, int Size, float[] Values)
{
    /// <summary>The value at (<paramref name="row"/>, <paramref name="column"/>).</summary>
    public float this[int row, int column] => Values[row * Size + column];

    /// <summary>The course's kernels (learntools visiontools.py; shared/reference/keras-semantics.md A, "Course image kernels").</summary>
    public static readonly IReadOnlyDictionary<string, FilterKernel> Named = new Dictionary<string, FilterKernel>(StringComparer.OrdinalIgnoreCase)
    {
        ["edge"] = new("edge", 3, [-1, -1, -1, -1, 8, -1, -1, -1, -1]),
        ["bottom_sobel"] = new("bottom_sobel", 3, [-1, -2, -1, 0, 0, 0, 1, 2, 1]),
        ["emboss"] = new("emboss", 3, [-2, -1, 0, -1, 1, 1, 0, 1, 2]),
        ["sharpen"] = new("sharpen", 3, [0, -1, 0, -1, 5, -1, 0, -1, 0]),
        ["blur"] = new("blur", 3, [0.0625f, 0.125f, 0.0625f, 0.125f, 0.25f, 0.125f, 0.0625f, 0.125f, 0.0625f]),
    };

    private static readonly char[] NumberSeparators = [' ', '\t', '\r', '\n', ','];

    /// <summary>
    /// A named kernel (edge, bottom_sobel, emboss, sharpen, blur), or N² numbers separated by spaces,
    /// commas or semicolons, read row by row; when ';' separates rows, every row must hold N numbers.
    /// </summary>
    /// <exception cref="ArgumentException">The text is neither a known name nor a square of finite numbers; the message says why.</exception>
    public static FilterKernel Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        if (Named.TryGetValue(trimmed, out var named))
            return named;

        string[][] rows = trimmed.Split(';')
            .Select(r => r.Split(NumberSeparators, StringSplitOptions.RemoveEmptyEntries))
            .Where(r => r.Length > 0)
            .ToArray();
        string[] tokens = rows.SelectMany(r => r).ToArray();
        if (tokens.Length == 0)
            throw new ArgumentException($"Kernel '{text}' is empty: give a name ({NameList}) or N×N numbers such as '0 -1 0; -1 5 -1; 0 -1 0'.");
        if (tokens.Length == 1 && !IsNumber(tokens[0]))
            throw new ArgumentException($"Unknown kernel '{trimmed}': expected one of {NameList}, or N×N numbers such as '0 -1 0; -1 5 -1; 0 -1 0'.");

        var values = new float[tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
        {
            if (!float.TryParse(tokens[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                throw new ArgumentException($"Kernel '{text}': '{tokens[i]}' (value {i + 1}) is not a finite number.");
        }

        int size = (int)Math.Round(Math.Sqrt(tokens.Length));
        if (size * size != tokens.Length)
            throw new ArgumentException($"Kernel '{text}' has {tokens.Length} numbers, which is not a square (1, 4, 9, 16, …): an N×N kernel needs N² numbers.");
        if (rows.Length > 1 && (rows.Length != size || rows.Any(r => r.Length != size)))
            throw new ArgumentException($"Kernel '{text}': rows separated by ';' must be {size} rows of {size} numbers; got rows of {string.Join(", ", rows.Select(r => r.Length))}.");
        return new FilterKernel("custom", size, values);
    }

    private static string NameList => string.Join(", ", Named.Keys);

    private static bool IsNumber(string token) => float.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
