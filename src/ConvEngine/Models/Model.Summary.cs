using System.Globalization;
using System.Text;
using ConvEngine.Layers;

namespace ConvEngine.Models;

public partial class Model
{
    /// <summary>
    /// The table Keras 2's model.summary() prints (tf-keras 2.13–2.15 layout): "Layer (type)", "Output Shape"
    /// with None for the batch, "Param #", plus "Connected to" for a graph that is not a chain; then total,
    /// trainable and non-trainable parameter counts with their float32 size.
    /// </summary>
    public string Summary()
    {
        RequireGraph();
        bool sequentialLike = this is Sequential || IsChain();
        int lineLength = sequentialLike ? 65 : 98;
        int[] positions = sequentialLike
            ? [(int)(lineLength * 0.45), (int)(lineLength * 0.85), lineLength]
            : [(int)(lineLength * 0.33), (int)(lineLength * 0.55), (int)(lineLength * 0.67), lineLength];
        string[] header = sequentialLike
            ? ["Layer (type)", "Output Shape", "Param #"]
            : ["Layer (type)", "Output Shape", "Param #", "Connected to"];

        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');
        Line($"Model: \"{Name}\"");
        Line(new string('_', lineLength));
        foreach (var line in Row(header, positions)) Line(line);
        Line(new string('=', lineLength));
        foreach (var layer in Layers)
        {
            string shape = layer is InputLayer ? $"[{SymbolicTensor.FormatShape(layer.OutputShape)}]" : SymbolicTensor.FormatShape(layer.OutputShape);
            var fields = new List<string> { $"{layer.Name} ({layer.ClassName})", shape, layer.ParameterCount.ToString(CultureInfo.InvariantCulture) };
            if (!sequentialLike)
                fields.Add("[" + string.Join(", ", (layer.Node?.Inputs ?? []).Select(t => $"'{t.Layer.Name}[0][0]'")) + "]");
            foreach (var line in Row(fields.ToArray(), positions)) Line(line);
            Line(new string(' ', lineLength));
        }
        Line(new string('=', lineLength));
        long trainable = TrainableParameterCount, frozen = NonTrainableParameterCount;
        Line($"Total params: {trainable + frozen} ({ReadableSize((trainable + frozen) * sizeof(float))})");
        Line($"Trainable params: {trainable} ({ReadableSize(trainable * sizeof(float))})");
        Line($"Non-trainable params: {frozen} ({ReadableSize(frozen * sizeof(float))})");
        Line(new string('_', lineLength));
        return text.ToString();
    }

    /// <summary>Every node after the input takes exactly the previous node's output (Keras's sequential_like).</summary>
    private bool IsChain()
    {
        for (int i = 0; i < _nodes.Count; i++)
        {
            if (i == _inputNode) continue;
            if (_inputsOf[i].Length != 1 || _inputsOf[i][0] != i - 1) return false;
        }
        return _inputNode == 0;
    }

    /// <summary>Keras's print_row: fills each column up to its position, wrapping long fields (and after "),", "',", …) onto more lines.</summary>
    private static IEnumerable<string> Row(string[] fields, int[] positions)
    {
        var left = (string[])fields.Clone();
        string[] breaks = ["),", "},", "],", "',"];
        while (left.Any(f => f.Length > 0))
        {
            var line = new StringBuilder();
            for (int col = 0; col < left.Length; col++)
            {
                int start = col > 0 ? positions[col - 1] : 0;
                bool last = col == positions.Length - 1;
                int space = last ? 0 : 2;
                int cutoff = positions[col] - start - space - (last ? 0 : 1);
                string fit = left[col][..Math.Min(cutoff, left[col].Length)];
                var candidates = breaks.Select(b => fit.IndexOf(b, StringComparison.Ordinal) is var at && at >= 0 ? at + b.Length : -1).Where(c => c >= 0).ToList();
                if (candidates.Count > 0)
                {
                    cutoff = candidates.Min();
                    fit = fit[..cutoff];
                }
                if (col == 0) line.Append(' ');
                line.Append(fit).Append(' ', space);
                left[col] = left[col][Math.Min(cutoff, left[col].Length)..];
                if (line.Length < positions[col]) line.Append(' ', positions[col] - line.Length);
            }
            yield return line.ToString();
        }
    }

    /// <summary>Keras's readable_memory_size: "0.00 Byte", "1.11 MB".</summary>
    private static string ReadableSize(double bytes)
    {
        string[] units = ["Byte", "KB", "MB", "GB", "TB", "PB"];
        foreach (var unit in units)
        {
            if (bytes / 1024 < 1) return bytes.ToString("F2", CultureInfo.InvariantCulture) + " " + unit;
            bytes /= 1024;
        }
        return bytes.ToString("F2", CultureInfo.InvariantCulture) + " " + units[^1];
    }
}
