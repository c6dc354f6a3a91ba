using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// The ONNX checker's rules that a hostile or damaged file breaks, applied before anything is interpreted: an IR
/// version and opset this importer knows, one definition per value (single static assignment: no two nodes writing
/// one name, no node writing over an initializer or a graph input), unique attributes, and for every operator the
/// importer runs, the input and output counts its schema allows (ONNX operator docs, opsets 1 to 23).
/// </summary>
internal static class OnnxGraphChecks
{
    /// <summary>The newest IR version (ONNX 1.18) and default-domain opset whose meaning this importer follows.</summary>
    public const long MaxIrVersion = 11, MaxOpset = 23;

    /// <summary>(fewest, most) inputs and outputs, optional ones included; int.MaxValue for variadic.</summary>
    private static readonly Dictionary<string, (int MinIn, int MaxIn, int MinOut, int MaxOut)> Arity = new()
    {
        ["Conv"] = (2, 3, 1, 1), ["MaxPool"] = (1, 1, 1, 2), ["AveragePool"] = (1, 1, 1, 1),
        ["GlobalAveragePool"] = (1, 1, 1, 1), ["GlobalMaxPool"] = (1, 1, 1, 1), ["Gemm"] = (2, 3, 1, 1), ["MatMul"] = (2, 2, 1, 1),
        ["BatchNormalization"] = (5, 5, 1, 5), ["Relu"] = (1, 1, 1, 1), ["LeakyRelu"] = (1, 1, 1, 1), ["Sigmoid"] = (1, 1, 1, 1),
        ["Tanh"] = (1, 1, 1, 1), ["Softmax"] = (1, 1, 1, 1), ["LogSoftmax"] = (1, 1, 1, 1),
        ["Add"] = (2, 2, 1, 1), ["Sub"] = (2, 2, 1, 1), ["Mul"] = (2, 2, 1, 1), ["Div"] = (2, 2, 1, 1),
        ["Sum"] = (1, int.MaxValue, 1, 1), ["Concat"] = (1, int.MaxValue, 1, 1), ["Flatten"] = (1, 1, 1, 1),
        ["Reshape"] = (1, 2, 1, 1), ["Squeeze"] = (1, 2, 1, 1), ["Unsqueeze"] = (1, 2, 1, 1), ["Transpose"] = (1, 1, 1, 1),
        ["Dropout"] = (1, 3, 1, 2), ["LRN"] = (1, 1, 1, 1), ["Pad"] = (1, 4, 1, 1), ["Identity"] = (1, 1, 1, 1),
        ["Constant"] = (0, 0, 1, 1), ["ConstantOfShape"] = (1, 1, 1, 1), ["Shape"] = (1, 1, 1, 1), ["Gather"] = (2, 2, 1, 1),
        ["Cast"] = (1, 1, 1, 1),
    };

    public static void CheckVersions(ModelProto model, string context)
    {
        if (model.IrVersion < 1 || model.IrVersion > MaxIrVersion)
            throw new OnnxFormatException($"{context}: ir_version {model.IrVersion} is not one this importer reads (1 to {MaxIrVersion}); the file is corrupt or from a newer ONNX.");
        var defaults = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx").ToList();
        if (defaults.Count > 1)
            throw new OnnxFormatException($"{context}: opset_import lists the default domain {defaults.Count} times.");
        if (model.IrVersion >= 3 && defaults.Count == 0 && model.Graph?.Node.Any(n => n.Domain is "" or "ai.onnx") == true)
            throw new OnnxFormatException($"{context}: opset_import has no version for the default domain (ai.onnx), which its nodes use.");
        if (defaults.Count == 1 && (defaults[0].Version < 1 || defaults[0].Version > MaxOpset))
            throw new OnnxFormatException($"{context}: the default-domain opset is {defaults[0].Version}; this importer knows opsets 1 to {MaxOpset}.");
    }

    private static bool IsIdentifier(string text) =>
        text.Length is > 0 and <= 128 && (char.IsAsciiLetter(text[0]) || text[0] == '_') && text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    public static void CheckGraph(GraphProto graph, string context)
    {
        var defined = new Dictionary<string, string>(StringComparer.Ordinal);
        void Define(string name, string by)
        {
            if (name.Length == 0) return;
            if (defined.TryGetValue(name, out var first))
                throw new OnnxFormatException($"{context}: value {QuotedName.Of(name)} is defined twice ({first}, and {by}); ONNX graphs define each value once.");
            defined[name] = by;
        }
        foreach (var t in graph.Initializer) Define(t.Name, $"initializer {QuotedName.Of(t.Name)}");
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var input in graph.Input)
            if (!initializers.Contains(input.Name)) Define(input.Name, $"graph input {QuotedName.Of(input.Name)}");   // IR < 4 lists weights as inputs too
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            // An operator's type is an identifier (ONNX IR: op_type names a function of its domain); anything else is
            // corruption, refused here so that no later message quotes a type of control bytes unbounded.
            if (!IsIdentifier(node.OpType))
                throw new OnnxFormatException($"{context}: node {i} {QuotedName.Of(node.Name)} has op_type {QuotedName.Of(node.OpType)}, which is not an operator name.");
            string label = $"node {i} {QuotedName.Of(node.Name)} ({node.OpType})";
            var attributes = new HashSet<string>(StringComparer.Ordinal);
            foreach (var a in node.Attribute)
                if (!attributes.Add(a.Name))
                    throw new OnnxFormatException($"{context}: {label} has attribute {QuotedName.Of(a.Name)} twice.");
            if (node.Domain is "" or "ai.onnx" && Arity.TryGetValue(node.OpType, out var arity))
            {
                int inputs = node.Input.Count, outputs = node.Output.Count;
                if (inputs < arity.MinIn || inputs > arity.MaxIn || outputs < arity.MinOut || outputs > arity.MaxOut)
                    throw new OnnxFormatException($"{context}: {label} has {inputs} input(s) and {outputs} output(s); " +
                        $"{node.OpType} takes {Range(arity.MinIn, arity.MaxIn)} input(s) and {Range(arity.MinOut, arity.MaxOut)} output(s).");
                if (node.Output.Count > 0 && node.Output[0].Length == 0)
                    throw new OnnxFormatException($"{context}: {label} leaves its first output unnamed.");
            }
            foreach (var output in node.Output) Define(output, label);
        }
        var graphOutputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var output in graph.Output)
            if (!graphOutputs.Add(output.Name))
                throw new OnnxFormatException($"{context}: graph output {QuotedName.Of(output.Name)} is listed twice.");
    }

    private static string Range(int min, int max) => min == max ? $"{min}" : max == int.MaxValue ? $"{min} or more" : $"{min} to {max}";
}
