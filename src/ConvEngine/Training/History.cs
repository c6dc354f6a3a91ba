using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Training;

/// <summary>
/// Keras's History: per epoch, the training loss and metrics (means over the epoch, weighted by batch
/// size) and the validation ones prefixed with "val_". <c>history["val_loss"][2]</c> is epoch 3's validation loss.
/// </summary>
public sealed class History
{
    private readonly List<int> _epochs = [];
    private readonly Dictionary<string, List<double>> _values = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];

    /// <summary>The epoch indices recorded (0-based, as Keras's history.epoch).</summary>
    public IReadOnlyList<int> Epochs => _epochs;
    /// <summary>The number of epochs recorded.</summary>
    public int Count => _epochs.Count;
    /// <summary>The recorded keys in first-seen order: "loss", metrics, then "val_loss", "val_…".</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>One value per recorded epoch for <paramref name="key"/>.</summary>
    public IReadOnlyList<double> this[string key] => _values.TryGetValue(key, out var list) ? list
        : throw new KeyNotFoundException($"History has no '{key}'; it has {string.Join(", ", _keys)}.");

    /// <summary>Whether <paramref name="key"/> ("loss", "val_accuracy", …) was recorded.</summary>
    public bool Contains(string key) => _values.ContainsKey(key);
    /// <summary>The training loss of each epoch.</summary>
    public IReadOnlyList<double> Loss => this["loss"];

    /// <summary>The logs of one epoch, as passed to callbacks.</summary>
    public IReadOnlyDictionary<string, double> EpochLogs(int index) => _keys.ToDictionary(k => k, k => _values[k][index]);

    internal void Append(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (_epochs.Count > 0 && logs.Count != _keys.Count)
            throw new InvalidOperationException($"Epoch {epoch} logs have keys {string.Join(", ", logs.Keys)}; earlier epochs had {string.Join(", ", _keys)}.");
        foreach (var (key, value) in logs)
        {
            if (!_values.TryGetValue(key, out var list))
            {
                if (_epochs.Count > 0) throw new InvalidOperationException($"Epoch {epoch} logs a new key '{key}'.");
                _values[key] = list = [];
                _keys.Add(key);
            }
            list.Add(value);
        }
        _epochs.Add(epoch);
    }

    /// <summary>The history as JSON: the epoch numbers and each key's per-epoch values.</summary>
    public JsonObject ToJson()
    {
        var values = new JsonObject();
        foreach (var key in _keys) values[key] = new JsonArray(_values[key].Select(ToJsonNumber).ToArray());
        return new JsonObject
        {
            ["epoch"] = new JsonArray(_epochs.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()),
            ["history"] = values,
        };
    }

    /// <summary>Reads a history written by <see cref="ToJson"/>.</summary>
    public static History FromJson(JsonNode? node)
    {
        var obj = JsonConfig.Object(node, "history");
        var history = new History();
        var epochs = JsonConfig.Ints(obj, "history", "epoch");
        var values = JsonConfig.Object(obj["history"], "history.history");
        var series = values.Select(kv => (kv.Key, Values: (kv.Value as JsonArray ?? throw new FormatException($"history '{kv.Key}' must be a list."))
            .Select(v => FromJsonNumber(v, kv.Key)).ToArray())).ToList();
        foreach (var (key, vals) in series)
            if (vals.Length != epochs.Length)
                throw new FormatException($"history '{key}' has {vals.Length} values for {epochs.Length} epochs.");
        for (int i = 0; i < epochs.Length; i++)
            history.Append(epochs[i], series.ToDictionary(s => s.Key, s => s.Values[i]));
        return history;
    }

    // JSON has no NaN or infinity: those are written as the strings "NaN", "Infinity", "-Infinity".
    private static JsonNode ToJsonNumber(double value) =>
        double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static double FromJsonNumber(JsonNode? node, string key) => node switch
    {
        JsonValue v when v.TryGetValue(out double d) => d,
        JsonValue v when v.TryGetValue(out string? s) && double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) => d,
        _ => throw new FormatException($"history '{key}': {node?.ToJsonString() ?? "null"} is not a number."),
    };
}
