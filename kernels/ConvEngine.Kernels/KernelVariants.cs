namespace ConvEngine.Kernels;

/// <summary>
/// The implementations a backend has for each op, and which one runs. Research users select a
/// variant by name and benchmark variants side by side; tests cross-check each against the reference.
/// </summary>
public sealed class KernelVariants
{
    private readonly Dictionary<string, string[]> _available = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _selected = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _chosen = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers an op's variants; the first is the default.</summary>
    public void Register(string op, params string[] variants)
    {
        _available[op] = variants;
        _selected[op] = variants[0];
    }

    /// <summary>Every registered op with its variants, default first.</summary>
    public IReadOnlyDictionary<string, string[]> Available => _available;

    /// <summary>True once <see cref="Select"/> chose the op's variant; until then a backend may pick one per shape (autotuning).</summary>
    public bool IsSelected(string op) => _chosen.Contains(op);

    /// <summary>The variant that runs for <paramref name="op"/>; an error naming the op when it has none registered.</summary>
    public string this[string op] => _selected.TryGetValue(op, out var v) ? v
        : throw new ArgumentException($"No kernel variants are registered for op '{op}'.");

    /// <summary>Makes <paramref name="variant"/> (any case) the one that runs for <paramref name="op"/>; an error listing the choices when either is unknown.</summary>
    public void Select(string op, string variant)
    {
        if (!_available.TryGetValue(op, out var names))
            throw new ArgumentException($"No kernel variants are registered for op '{op}'; ops: {string.Join(", ", _available.Keys)}.");
        if (!names.Contains(variant, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"Op '{op}' has no variant '{variant}'; variants: {string.Join(", ", names)}.");
        _selected[op] = names.First(n => string.Equals(n, variant, StringComparison.OrdinalIgnoreCase));
        _chosen.Add(op);
    }
}
