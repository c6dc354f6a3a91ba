using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConvEngine.Layers;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// The augmentation layers of <c>--augment</c> / <c>--layers</c>: the course's own Python spelling,
/// <c>RandomFlip('horizontal'), RandomContrast(0.5)</c> (positional and keyword arguments, tuples and lists,
/// strings, numbers, True/False/None, an optional <c>preprocessing.</c> or <c>layers.</c> prefix, optionally in
/// [ … ]), or a JSON file holding a list of Keras layer configs (<c>[{"class_name": …, "config": {…}}]</c>, or a model
/// config whose layers are preprocessing layers). Every layer is built once while parsing, so a bad name, argument or
/// value is reported before anything trains.
/// </summary>
internal sealed class AugmentationSpec
{
    private readonly List<(string ClassName, JsonObject Config, string Text)> _layers;

    private AugmentationSpec(List<(string, JsonObject, string)> layers, string source)
    {
        _layers = layers;
        Source = source;
    }

    /// <summary>What was given, for messages (the text, or the JSON file's name).</summary>
    public string Source { get; }
    /// <summary>The layers as Keras class names, in order.</summary>
    public IReadOnlyList<string> ClassNames => _layers.Select(l => l.ClassName).ToList();
    /// <summary>Each layer in Python spelling, e.g. <c>RandomFlip(mode='horizontal')</c>.</summary>
    public string Description => string.Join(", ", _layers.Select(l => l.Text));

    /// <summary>New layers (not yet applied) from the spec; each call gives fresh ones.</summary>
    public IReadOnlyList<Layer> CreateLayers() => _layers.Select(l => LayerRegistry.Create(l.ClassName, (JsonObject)l.Config.DeepClone())).ToList();

    /// <summary>The layers' Keras configs ({"class_name", "config"}), names left for the model to choose.</summary>
    public IEnumerable<JsonObject> LayerConfigs() =>
        _layers.Select(l => new JsonObject { ["class_name"] = l.ClassName, ["config"] = l.Config.DeepClone() });

    /// <summary>Parses <paramref name="text"/> (Python spelling) or reads the JSON file it names; <paramref name="option"/> names the option in errors.</summary>
    public static AugmentationSpec Parse(string text, string option = "--augment")
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException($"{option} needs layers, e.g. \"RandomFlip('horizontal'), RandomContrast(0.5)\".");
        string trimmed = text.Trim();
        if (trimmed.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || File.Exists(trimmed)) return FromJsonFile(trimmed, option);
        var layers = new PythonCalls(trimmed, option).ParseList()
            .Select(call => Resolve(call.Name, call.Positional, call.Keywords, option))
            .ToList();
        return new AugmentationSpec(layers, trimmed);
    }

    private static AugmentationSpec FromJsonFile(string path, string option)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{option}: the layer file '{path}' does not exist.", path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new FormatException($"{option}: '{path}' is not valid JSON: {e.Message}", e);
        }
        var entries = root switch
        {
            JsonArray list => list,
            JsonObject { } model when model["config"]?["layers"] is JsonArray modelLayers => modelLayers,
            JsonObject { } withLayers when withLayers["layers"] is JsonArray listed => listed,
            _ => throw new FormatException($"{option}: '{path}' must hold a list of Keras layer configs [{{\"class_name\": …, \"config\": {{…}}}}] or a model config."),
        };
        var layers = new List<(string, JsonObject, string)>();
        foreach (var entry in entries)
        {
            if (entry is not JsonObject layer || layer["class_name"]?.GetValueKind() != JsonValueKind.String)
                throw new FormatException($"{option}: '{path}' has an entry that is not a layer config with a class_name: {entry?.ToJsonString()}.");
            string className = PreprocessingLayers.CanonicalName(layer["class_name"]!.GetValue<string>());
            if (className == "InputLayer") continue;
            var config = layer["config"] as JsonObject ?? new JsonObject();
            layers.Add(Check(className, (JsonObject)config.DeepClone(), Spell(className, config), option));
        }
        if (layers.Count == 0) throw new FormatException($"{option}: '{path}' lists no layers.");
        return new AugmentationSpec(layers, path);
    }

    /// <summary>Maps positional arguments to Keras's names, checks every name, builds the layer once.</summary>
    private static (string, JsonObject, string) Resolve(string name, List<JsonNode?> positional, List<(string Key, JsonNode? Value)> keywords, string option)
    {
        string className = PreprocessingLayers.CanonicalName(name);
        if (!PreprocessingLayers.Arguments.TryGetValue(className, out var arguments))
            throw new ArgumentException($"{option}: unknown layer '{name}'; the preprocessing layers are {string.Join(", ", PreprocessingLayers.ClassNames)}.");
        var known = arguments.Concat(PreprocessingLayers.CommonArguments).ToList();
        if (positional.Count > arguments.Count)
            throw new ArgumentException($"{option}: {className} takes at most {arguments.Count} positional arguments ({string.Join(", ", arguments)}); got {positional.Count}.");
        var config = new JsonObject();
        for (int i = 0; i < positional.Count; i++) config[arguments[i]] = positional[i];
        foreach (var (key, value) in keywords)
        {
            if (!known.Contains(key))
                throw new ArgumentException($"{option}: {className} has no argument '{key}'; it takes {string.Join(", ", arguments)} (and {string.Join(", ", PreprocessingLayers.CommonArguments)}).");
            if (config.ContainsKey(key))
                throw new ArgumentException($"{option}: {className} got '{key}' twice (positionally and by keyword).");
            config[key] = value;
        }
        return Check(className, config, Spell(className, config), option);
    }

    private static (string, JsonObject, string) Check(string className, JsonObject config, string text, string option)
    {
        try
        {
            LayerRegistry.Create(className, (JsonObject)config.DeepClone()).Dispose();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException($"{option}: {text}: {e.Message}", e);
        }
        return (className, config, text);
    }

    /// <summary>Python's spelling with keyword arguments: <c>RandomRotation(factor=0.2, fill_mode='constant')</c>.</summary>
    private static string Spell(string className, JsonObject config) =>
        $"{className}({string.Join(", ", config.Where(kv => !PreprocessingLayers.CommonArguments.Contains(kv.Key)).Select(kv => $"{kv.Key}={Python(kv.Value)}"))})";

    private static string Python(JsonNode? value) => value switch
    {
        null => "None",
        JsonArray list => "(" + string.Join(", ", list.Select(Python)) + ")",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "'" + v.GetValue<string>() + "'",
        JsonValue v when v.GetValueKind() == JsonValueKind.True => "True",
        JsonValue v when v.GetValueKind() == JsonValueKind.False => "False",
        _ => value.ToJsonString(),
    };

    /// <summary>A small reader of Python call lists: NAME(args), args positional then keyword, values literals and tuples.</summary>
    private sealed class PythonCalls(string text, string option)
    {
        private int _at;

        public List<(string Name, List<JsonNode?> Positional, List<(string, JsonNode?)> Keywords)> ParseList()
        {
            var calls = new List<(string, List<JsonNode?>, List<(string, JsonNode?)>)>();
            Skip();
            bool bracketed = Peek() == '[';
            if (bracketed) _at++;
            while (true)
            {
                Skip();
                if (bracketed && Peek() == ']') { _at++; break; }
                if (End) break;
                calls.Add(ParseCall());
                Skip();
                if (Peek() == ',') { _at++; continue; }
                if (bracketed) { Expect(']'); break; }
                if (!End) throw Error($"expected ',' between layers");
            }
            Skip();
            if (!End) throw Error("unexpected text after the layers");
            if (calls.Count == 0) throw Error("no layers");
            return calls;
        }

        private (string, List<JsonNode?>, List<(string, JsonNode?)>) ParseCall()
        {
            string name = Identifier();
            Skip();
            if (Peek() != '(') throw Error($"'{name}' must be called with its arguments, e.g. {name}(…)");
            _at++;
            var positional = new List<JsonNode?>();
            var keywords = new List<(string, JsonNode?)>();
            while (true)
            {
                Skip();
                if (Peek() == ')') { _at++; break; }
                int start = _at;
                if (char.IsLetter(Peek()) || Peek() == '_')
                {
                    string word = Identifier();
                    Skip();
                    if (Peek() == '=')
                    {
                        _at++;
                        keywords.Add((word, Value()));
                        goto next;
                    }
                    _at = start;
                }
                if (keywords.Count > 0) throw Error("a positional argument follows a keyword argument");
                positional.Add(Value());
            next:
                Skip();
                if (Peek() == ',') { _at++; continue; }
                Expect(')');
                break;
            }
            return (name, positional, keywords);
        }

        private JsonNode? Value()
        {
            Skip();
            char c = Peek();
            if (c is '(' or '[')
            {
                char close = c == '(' ? ')' : ']';
                _at++;
                var items = new JsonArray();
                while (true)
                {
                    Skip();
                    if (Peek() == close) { _at++; break; }
                    items.Add(Value());
                    Skip();
                    if (Peek() == ',') { _at++; continue; }
                    Expect(close);
                    break;
                }
                return items;
            }
            if (c is '\'' or '"')
            {
                _at++;
                var s = new StringBuilder();
                while (!End && Peek() != c) s.Append(text[_at++]);
                Expect(c);
                return JsonValue.Create(s.ToString());
            }
            if (char.IsDigit(c) || c is '-' or '+' or '.')
            {
                int start = _at;
                _at++;
                while (!End && (char.IsDigit(Peek()) || Peek() is '.' or 'e' or 'E' || (Peek() is '-' or '+' && text[_at - 1] is 'e' or 'E'))) _at++;
                string number = text[start.._at];
                // An integer goes through as its digits, so a seed above 2^53 is not rounded by a double.
                if (System.Numerics.BigInteger.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                    return JsonNode.Parse(integer.ToString(CultureInfo.InvariantCulture));
                if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                    throw Error($"'{number}' is not a number", start);
                // Through JSON text, as a parsed config holds its numbers (5.0 reads as 5 where an integer is wanted).
                return JsonNode.Parse(value.ToString("R", CultureInfo.InvariantCulture));
            }
            if (char.IsLetter(c))
            {
                int start = _at;
                string word = Identifier();
                return word switch
                {
                    "True" or "true" => JsonValue.Create(true),
                    "False" or "false" => JsonValue.Create(false),
                    "None" or "null" => null,
                    _ => throw Error($"'{word}' is not a value (numbers, 'strings', True, False, None, tuples)", start),
                };
            }
            throw Error(End ? "a value is missing" : $"unexpected '{c}'");
        }

        private string Identifier()
        {
            int start = _at;
            while (!End && (char.IsLetterOrDigit(Peek()) || Peek() is '_' or '.')) _at++;
            if (_at == start) throw Error(End ? "a layer name is missing" : $"expected a layer name, got '{Peek()}'");
            return text[start.._at];
        }

        private void Expect(char c)
        {
            Skip();
            if (Peek() != c) throw Error(End ? $"'{c}' is missing at the end" : $"expected '{c}', got '{Peek()}'");
            _at++;
        }

        private void Skip()
        {
            while (!End && char.IsWhiteSpace(text[_at])) _at++;
        }

        private bool End => _at >= text.Length;
        private char Peek() => End ? '\0' : text[_at];

        private ArgumentException Error(string what, int? at = null)
        {
            int where = Math.Min(at ?? _at, text.Length);
            return new ArgumentException($"{option}: {what} at character {where + 1} of \"{text}\".");
        }
    }
}
