using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Kernels;

namespace ConvEngine.Cli.Commands;

/// <summary>How a model's outputs became class probabilities.</summary>
internal enum ProbabilitySource
{
    /// <summary>The outputs are already a probability distribution (a softmax layer): used as they are.</summary>
    Outputs,
    /// <summary>One value in [0, 1] (a sigmoid unit): P(class 1) = p, P(class 0) = 1 − p.</summary>
    Sigmoid,
    /// <summary>Raw scores (logits, features): softmax applied for display; the raw values are what --save-outputs writes.</summary>
    SoftmaxOfOutputs,
    /// <summary>The output is not a vector (a feature map): no class.</summary>
    None,
}

/// <summary>One sample's prediction: its output, and the class and probabilities read from it when it is a vector.</summary>
internal sealed record SamplePrediction(string Input, int Sample, float[] Outputs, int? ClassIndex, float[]? Probabilities, ProbabilitySource Source, string? OutputFile);

/// <summary>
/// `convengine predict` for any model the engine reads (<see cref="ModelFormats"/>): an engine folder, a Keras JSON
/// config or full-model .h5, an ONNX file, with optional --weights, on images or NumPy .npy inputs; class and
/// probabilities per sample as text, CSV or JSON, and with --save-outputs the raw outputs as .npy files.
/// A trained-model folder with image inputs and none of these options keeps the command's original path.
/// </summary>
internal static class TransferPrediction
{
    /// <summary>Whether the request needs this path rather than the original trained-model one.</summary>
    public static bool Handles(string modelPath, IEnumerable<string> inputs, string? weights, string? saveOutputs, bool noResize) =>
        weights is not null || saveOutputs is not null || noResize || !Directory.Exists(modelPath) || inputs.Any(ModelInputs.IsNpy);

    /// <summary>Runs the prediction and writes the report to <paramref name="output"/> (or to <paramref name="outputFile"/>); returns the exit code.</summary>
    public static int Run(string modelPath, string? weights, IReadOnlyList<string> inputs, string format, string? outputFile, string? saveOutputs,
        bool noResize, int batchSize, string backendName, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        try
        {
            return RunCore(modelPath, weights, inputs, format, outputFile, saveOutputs, noResize, batchSize, backendName, output, errors, cancellationToken);
        }
        catch (NotSupportedException e)   // an unsupported ONNX operator or Keras layer: the user's model, not a bug
        {
            return CommandErrors.Report("predict", e);
        }
    }

    private static int RunCore(string modelPath, string? weights, IReadOnlyList<string> inputs, string format, string? outputFile, string? saveOutputs,
        bool noResize, int batchSize, string backendName, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var files = PredictCommand.ExpandInputs(inputs);
        using var backend = Backends.Create(backendName);
        using var model = ModelFormats.Load(modelPath, weights, backend);
        errors.WriteLine($"convengine predict: {model.Format} model '{model.Name}', input {model.InputShapeText}, output {FormatShape(model.OutputShape)}; {model.WeightsNote}.");
        var classNames = ClassNames(modelPath, model);

        var predictions = new List<SamplePrediction>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        // Raw outputs are written only once every input has run: a failing input leaves --save-outputs untouched.
        var pending = new List<(string Path, float[] Outputs, int[] Shape)>();
        int outputLength = model.OutputShape.Aggregate(1, (a, d) => a * d);
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var input = ModelInputs.Load(file, model, resize: !noResize);
            float[] outputs = model.Predict(input.Data, input.Count, batchSize);
            int nonFinite = Array.FindIndex(outputs, v => !float.IsFinite(v));
            if (nonFinite >= 0)
                throw new InvalidDataException($"'{file}': the model's output holds {outputs[nonFinite]} at flat index {nonFinite}; " +
                    "its weights or this input overflow (non-finite values are never reported as probabilities).");
            string? outputPath = null;
            if (saveOutputs is not null)
            {
                outputPath = Path.Combine(saveOutputs, UniqueStem(Path.GetFileNameWithoutExtension(file), used) + ".npy");
                pending.Add((outputPath, outputs, [input.Count, .. model.OutputShape]));
            }
            for (int s = 0; s < input.Count; s++)
            {
                var values = outputs.AsSpan(s * outputLength, outputLength).ToArray();
                var (best, probabilities, source) = Interpret(values, model.OutputShape);
                predictions.Add(new SamplePrediction(file, s, values, best, probabilities, source, outputPath));
            }
        }
        int classes = predictions.FirstOrDefault(p => p.Probabilities is not null)?.Probabilities!.Length ?? 0;
        if (classNames is not null && classNames.Count != classes) classNames = null;
        var names = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();

        string text = format.Trim().ToLowerInvariant() switch
        {
            "csv" => ToCsv(predictions, names),
            "json" => ToJson(model, predictions, names),
            _ => ToText(predictions, names),
        };
        if (predictions.Any(p => p.Source == ProbabilitySource.SoftmaxOfOutputs))
            errors.WriteLine("convengine predict: the outputs are not probabilities (no softmax or sigmoid at the end); the probabilities shown are their softmax.");
        if (predictions.Any(p => p.Source == ProbabilitySource.None))
            errors.WriteLine($"convengine predict: the output {FormatShape(model.OutputShape)} is not a class vector; no class is reported" +
                (saveOutputs is null ? " (write the outputs with --save-outputs DIR)." : "."));
        if (saveOutputs is not null)
        {
            Directory.CreateDirectory(saveOutputs);
            foreach (var (path, values, shape) in pending) NpyFile.Write(path, values, shape);
        }
        CommandOutput.WritePredictions(output, text, outputFile, predictions.Count);
        // On standard error, so that standard output stays exactly the CSV or JSON.
        if (saveOutputs is not null) errors.WriteLine($"convengine predict: wrote the raw outputs of {files.Count} input(s) as .npy to {Path.GetFullPath(saveOutputs)}.");
        output.Flush();
        return 0;
    }

    /// <summary>
    /// Reads an output as classes: a single value in [0, 1] is a sigmoid unit; a vector of values in [0, 1] summing to 1
    /// (within 1e-3) is a softmax; any other vector gets a softmax (flagged); anything of rank above one (after dropping
    /// axes of length 1) has no class.
    /// </summary>
    public static (int? ClassIndex, float[]? Probabilities, ProbabilitySource Source) Interpret(float[] outputs, IReadOnlyList<int> shape)
    {
        if (shape.Count(d => d != 1) > 1) return (null, null, ProbabilitySource.None);
        if (outputs.Length == 1)
        {
            float p = outputs[0];
            if (p is >= 0f and <= 1f) return (p > 0.5f ? 1 : 0, [1f - p, p], ProbabilitySource.Sigmoid);
            float sigmoid = 1f / (1f + MathF.Exp(-p));
            return (sigmoid > 0.5f ? 1 : 0, [1f - sigmoid, sigmoid], ProbabilitySource.SoftmaxOfOutputs);
        }
        bool distribution = outputs.All(v => v is >= 0f and <= 1f) && Math.Abs(outputs.Sum(v => (double)v) - 1) <= 1e-3;
        float[] probabilities = distribution ? outputs : Softmax(outputs);
        int best = 0;
        for (int i = 1; i < probabilities.Length; i++)
            if (probabilities[i] > probabilities[best]) best = i;
        return (best, probabilities, distribution ? ProbabilitySource.Outputs : ProbabilitySource.SoftmaxOfOutputs);
    }

    private static float[] Softmax(float[] values)
    {
        double max = values.Max();
        var exp = values.Select(v => Math.Exp(v - max)).ToArray();
        double sum = exp.Sum();
        return exp.Select(e => (float)(e / sum)).ToArray();
    }

    /// <summary>The class names of a trained-model folder (its dataset.json), else null.</summary>
    private static IReadOnlyList<string>? ClassNames(string modelPath, LoadedModel model)
    {
        if (model.Format != ModelFormat.EngineModel || !Directory.Exists(modelPath)) return null;
        try
        {
            return TrainingOutput.LocateModel(modelPath).Dataset?.ClassNames;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static string UniqueStem(string stem, HashSet<string> used)
    {
        string candidate = stem;
        for (int i = 2; !used.Add(candidate); i++) candidate = $"{stem}_{i}";
        return candidate;
    }

    private static string FormatShape(IReadOnlyList<int> shape) => Layers.SymbolicTensor.FormatShape(shape);

    private static string Label(SamplePrediction p) => p.Sample == 0 && !ModelInputs.IsNpy(p.Input) ? p.Input : $"{p.Input}[{p.Sample}]";

    private static string Number(float v) => CommandOutput.RoundTrip(v);

    private static string ToText(List<SamplePrediction> predictions, IReadOnlyList<string> names)
    {
        var text = new StringBuilder();
        foreach (var p in predictions)
        {
            text.Append(Label(p)).Append(": ");
            if (p.ClassIndex is not { } best)
                text.Append("output ").Append(p.Outputs.Length).Append(" values, min ").Append(Number(p.Outputs.Min())).Append(", max ").Append(Number(p.Outputs.Max()));
            else
            {
                text.Append(names[best]).Append(" (").Append(p.Probabilities![best].ToString("P1", CultureInfo.InvariantCulture)).Append(')');
                // Every class when there are few; the five most probable of many (ImageNet's 1000); CSV and JSON keep all.
                var shown = names.Count <= 10 ? Enumerable.Range(0, names.Count)
                    : Enumerable.Range(0, names.Count).OrderByDescending(c => p.Probabilities[c]).Take(5);
                if (names.Count > 10) text.Append("  top 5:");
                foreach (int c in shown)
                    text.Append("  ").Append(names[c]).Append(' ').Append(p.Probabilities[c].ToString("F4", CultureInfo.InvariantCulture));
            }
            if (p.OutputFile is not null) text.Append("  → ").Append(p.OutputFile);
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Header "input,sample,class,&lt;class names…&gt;" (plus "output_file" with --save-outputs); RFC 4180 quoting.</summary>
    private static string ToCsv(List<SamplePrediction> predictions, IReadOnlyList<string> names)
    {
        bool files = predictions.Any(p => p.OutputFile is not null);
        var text = new StringBuilder("file,sample,class");
        foreach (var name in names) text.Append(',').Append(CommandOutput.CsvField(name));
        if (files) text.Append(",output_file");
        text.Append('\n');
        foreach (var p in predictions)
        {
            text.Append(CommandOutput.CsvField(p.Input)).Append(',').Append(p.Sample).Append(',');
            if (p.ClassIndex is { } best) text.Append(CommandOutput.CsvField(names[best]));
            for (int c = 0; c < names.Count; c++)
                text.Append(',').Append(p.Probabilities is null ? "" : Number(p.Probabilities[c]));
            if (files) text.Append(',').Append(CommandOutput.CsvField(p.OutputFile ?? ""));
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string ToJson(LoadedModel model, List<SamplePrediction> predictions, IReadOnlyList<string> names)
    {
        var list = new JsonArray();
        foreach (var p in predictions)
        {
            var entry = new JsonObject { ["file"] = p.Input, ["sample"] = p.Sample };
            if (p.ClassIndex is { } best)
            {
                var probabilities = new JsonObject();
                for (int c = 0; c < names.Count; c++) probabilities[names[c]] = p.Probabilities![c];
                entry["class"] = names[best];
                entry["class_index"] = best;
                entry["probabilities"] = probabilities;
                entry["probabilities_from"] = p.Source switch
                {
                    ProbabilitySource.Outputs => "outputs",
                    ProbabilitySource.Sigmoid => "sigmoid unit",
                    _ => "softmax of the raw outputs (sigmoid for a single value)",
                };
            }
            if (p.OutputFile is not null) entry["output_file"] = p.OutputFile;
            list.Add(entry);
        }
        var json = new JsonObject
        {
            ["model"] = model.Name,
            ["format"] = model.Format.ToString(),
            ["weights"] = model.WeightsNote,
            ["input_shape"] = new JsonArray(model.InputShape.Select(d => (JsonNode?)d).ToArray()),
            ["output_shape"] = new JsonArray(model.OutputShape.Select(d => (JsonNode?)d).ToArray()),
            ["class_names"] = new JsonArray(names.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["predictions"] = list,
        };
        return json.ToJsonString(CommandOutput.IndentedJson) + "\n";
    }
}
