using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConvEngine.Kernels.Cpu;

/// <summary>What the tuner chose for one op shape on one machine, and how long it took.</summary>
internal sealed record TuningEntry(string Variant, GemmBlocking Blocking, double Milliseconds);

/// <summary>
/// The per-machine tuning cache: a JSON file of the choices the tuner measured, keyed by machine (CPU model,
/// family/model, SIMD level, threads) and op shape. Read once, written atomically (temp file + rename) after each new
/// choice, so a crash never leaves half a file; an unreadable or foreign file is ignored (the defaults apply) and
/// replaced by the next write. Default path: $XDG_CACHE_HOME/convengine/tuning.json, else ~/.cache/convengine/tuning.json;
/// CONVENGINE_TUNING_CACHE names another.
/// </summary>
public sealed class TuningCache
{
    // 2: "direct" joined the candidates; a version-1 file never timed it, so it is ignored and the shapes re-tuned.
    // 3: candidates timed in interleaved rounds, the default kept unless beaten by 3 %; a version-2 choice may rest on
    //    one noisy timing, so it is ignored and the shapes re-tuned.
    // 4: the kernels a choice weighs changed (AVX-512 direct tile 12×32, short GEMM edge tiles) and few-channel convs now
    //    follow the tuner, so version-3 choices are ignored and the shapes re-tuned.
    private const int FormatVersion = 4;
    private readonly Dictionary<string, TuningEntry> _entries = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Opens the cache file at <paramref name="path"/> (a missing file is an empty cache).</summary>
    public TuningCache(string path)
    {
        Path = path;
        LoadProblem = Load();
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }
    /// <summary>Why the file was not used (missing files are not a problem), or null.</summary>
    public string? LoadProblem { get; }

    /// <summary>CONVENGINE_TUNING_CACHE, else $XDG_CACHE_HOME/convengine/tuning.json, else ~/.cache/convengine/tuning.json.</summary>
    public static string DefaultPath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("CONVENGINE_TUNING_CACHE") is { Length: > 0 } explicitPath) return explicitPath;
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) ? xdg
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return System.IO.Path.Combine(root, "convengine", "tuning.json");
        }
    }

    /// <summary>Entries held.</summary>
    public int Count { get { lock (_gate) return _entries.Count; } }

    internal IReadOnlyDictionary<string, TuningEntry> Entries { get { lock (_gate) return new Dictionary<string, TuningEntry>(_entries); } }

    internal bool TryGet(string key, out TuningEntry entry)
    {
        lock (_gate) return _entries.TryGetValue(key, out entry!);
    }

    /// <summary>Records a choice and rewrites the file (atomically).</summary>
    internal void Set(string key, TuningEntry entry)
    {
        lock (_gate)
        {
            _entries[key] = entry;
            Save();
        }
    }

    /// <summary>Forgets every entry and deletes the file; returns how many entries there were.</summary>
    public int Clear()
    {
        lock (_gate)
        {
            int count = _entries.Count;
            _entries.Clear();
            if (File.Exists(Path)) File.Delete(Path);
            return count;
        }
    }

    private string? Load()
    {
        if (!File.Exists(Path)) return null;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(Path)) as JsonObject ?? throw new JsonException("not a JSON object");
            if ((int?)root["version"] != FormatVersion) return $"tuning cache '{Path}' has format version {root["version"]}, expected {FormatVersion}; ignored";
            foreach (var (key, value) in root["entries"] as JsonObject ?? [])
            {
                if (value is not JsonObject e) continue;
                var blocking = new GemmBlocking((int)e["kc"]!, (int)e["nc"]!, (int)e["mc"]!);
                if (blocking.KC <= 0 || blocking.KC > GemmBlocking.PanelStride || blocking.NC <= 0 || blocking.MC <= 0) continue;
                _entries[key] = new TuningEntry((string)e["variant"]!, blocking, (double?)e["ms"] ?? 0);
            }
            return null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException or NullReferenceException)
        {
            _entries.Clear();
            return $"tuning cache '{Path}' is unreadable ({e.Message}); ignored";
        }
    }

    private void Save()
    {
        var entries = new JsonObject();
        foreach (var (key, e) in _entries.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            entries[key] = new JsonObject
            {
                ["variant"] = e.Variant, ["kc"] = e.Blocking.KC, ["nc"] = e.Blocking.NC, ["mc"] = e.Blocking.MC, ["ms"] = Math.Round(e.Milliseconds, 4),
            };
        var root = new JsonObject { ["version"] = FormatVersion, ["entries"] = entries };
        try
        {
            string? folder = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
            string temp = $"{Path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only or full cache folder costs only the re-tuning next time; the choice still holds in this process.
        }
    }
}
