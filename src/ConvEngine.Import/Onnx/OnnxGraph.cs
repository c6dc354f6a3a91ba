using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>One node of the graph as the importer sees it: the file's fields plus what rewrites fused into it.</summary>
internal sealed record OnnxNode(int Index, string Name, string OpType, string Domain, string[] Inputs, string[] Outputs,
    IReadOnlyDictionary<string, AttributeProto> Attributes)
{
    /// <summary>The file (and model) the node is from, so an error raised from the node alone still names the file.</summary>
    public string Context { get; init; } = "";

    /// <summary>An activation that a rewrite folded into this Conv/Gemm (the Relu node is gone).</summary>
    public KernelActivation FusedActivation { get; init; } = KernelActivation.None;

    /// <summary>"node 12 'Conv_3' (Conv)": how every message names a node.</summary>
    public string Label => $"node {Index} {QuotedName.Of(Name)} ({OpType})";

    /// <summary>Input <paramref name="i"/>, or null when absent or empty (ONNX marks a skipped optional input with "").</summary>
    public string? Input(int i) => i < Inputs.Length && Inputs[i].Length > 0 ? Inputs[i] : null;
}

/// <summary>A graph input that the caller feeds: its name and declared dims (null for a symbolic or missing dim).</summary>
public sealed record OnnxValueInfo(string Name, IReadOnlyList<int?> Dims)
{
    /// <summary>The name and dims, "?" for a symbolic one.</summary>
    public override string ToString() => $"{Name} ({string.Join(", ", Dims.Select(d => d?.ToString() ?? "?"))})";
}

/// <summary>
/// The parsed graph: nodes in file order (ONNX requires topological order), initializers decoded to
/// host memory, the fed inputs and the outputs. Rewrites (BatchNorm folding, activation fusion)
/// act on this before any plan is built.
/// </summary>
internal sealed class OnnxGraph
{
    public required string Context { get; init; }
    public required List<OnnxNode> Nodes { get; init; }
    public required Dictionary<string, OnnxTensorData> Initializers { get; init; }
    public required List<OnnxValueInfo> Inputs { get; init; }
    public required List<string> Outputs { get; init; }
    /// <summary>Version of the default ("" / ai.onnx) operator set.</summary>
    public required long Opset { get; init; }

    public static OnnxGraph FromProto(ModelProto model, string context)
    {
        var graph = model.Graph ?? throw new OnnxFormatException($"{context}: the model has no graph.");
        OnnxGraphChecks.CheckVersions(model, context);
        OnnxGraphChecks.CheckGraph(graph, context);
        long opset = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();

        var initializers = new Dictionary<string, OnnxTensorData>();
        foreach (var t in graph.Initializer)
        {
            if (string.IsNullOrEmpty(t.Name))
                throw new OnnxFormatException($"{context}: an initializer has no name.");
            initializers[t.Name] = OnnxTensorData.FromProto(t, context);
        }
        if (graph.SparseInitializer.Count > 0)
            throw new OnnxUnsupportedException($"{context}: sparse initializers are not supported.");

        var inputs = new List<OnnxValueInfo>();
        foreach (var input in graph.Input)
        {
            if (initializers.ContainsKey(input.Name)) continue; // IR < 4 lists weights as inputs too
            var tensorType = input.Type?.TensorType;
            if (tensorType is null)
                throw new OnnxUnsupportedException($"{context}: graph input {QuotedName.Of(input.Name)} is not a tensor.");
            if (tensorType.ElemType != (int)TensorProto.Types.DataType.Float)
                throw new OnnxUnsupportedException($"{context}: graph input {QuotedName.Of(input.Name)} has element type {(TensorProto.Types.DataType)tensorType.ElemType}; only FLOAT inputs are supported.");
            var dims = tensorType.Shape?.Dim.Select(d => d.HasDimValue && d.DimValue > 0 && d.DimValue <= int.MaxValue ? (int?)d.DimValue : null).ToList();
            if (dims is null)
                throw new OnnxUnsupportedException($"{context}: graph input {QuotedName.Of(input.Name)} declares no shape; the importer needs its rank.");
            inputs.Add(new OnnxValueInfo(input.Name, dims));
        }

        var nodes = new List<OnnxNode>(graph.Node.Count);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var n = graph.Node[i];
            var attributes = new Dictionary<string, AttributeProto>();
            foreach (var a in n.Attribute) attributes[a.Name] = a;
            nodes.Add(new OnnxNode(i, n.Name ?? "", n.OpType ?? "", n.Domain ?? "", n.Input.ToArray(), n.Output.ToArray(), attributes) { Context = context });
        }
        return new OnnxGraph
        {
            Context = context, Nodes = nodes, Initializers = initializers, Inputs = inputs,
            Outputs = graph.Output.Select(o => o.Name).ToList(), Opset = opset,
        };
    }

    /// <summary>How many node inputs read each value (graph outputs count as readers too).</summary>
    public Dictionary<string, int> Readers()
    {
        var readers = new Dictionary<string, int>();
        foreach (var node in Nodes)
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
                readers[input] = readers.GetValueOrDefault(input) + 1;
        foreach (var output in Outputs) readers[output] = readers.GetValueOrDefault(output) + 1;
        return readers;
    }

    /// <summary>
    /// Folds each inference BatchNormalization into the Conv before it when the conv's output feeds
    /// only that BatchNorm and every parameter is constant: W'[o] = W[o]·s[o], b' = (b − mean)·s + β,
    /// s = γ/√(var+ε), in double. The BatchNorm node disappears; the conv writes its output.
    /// </summary>
    public void FoldBatchNormIntoConv()
    {
        var readers = Readers();
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < Nodes.Count; i++)
            foreach (var o in Nodes[i].Outputs) producer[o] = i;
        var removed = new HashSet<int>();

        for (int i = 0; i < Nodes.Count; i++)
        {
            var bn = Nodes[i];
            if (bn.OpType != "BatchNormalization" || bn.Domain is not ("" or "ai.onnx")) continue;
            if (bn.Outputs.Skip(1).Any(o => o.Length > 0 && readers.ContainsKey(o))) continue;
            if (OnnxAttributes.Int(bn, "spatial", 1) != 1 || OnnxAttributes.Int(bn, "training_mode", 0) != 0) continue;
            if (Opset <= 6 && OnnxAttributes.Int(bn, "is_test", 0) == 0) continue;
            string x = bn.Inputs[0];
            if (!producer.TryGetValue(x, out int convIndex) || readers.GetValueOrDefault(x) != 1) continue;
            var conv = Nodes[convIndex];
            if (conv.OpType != "Conv" || conv.Domain is not ("" or "ai.onnx") || conv.FusedActivation.Kind != ActivationKind.None) continue;
            if (conv.Input(1) is not { } wName || !Initializers.TryGetValue(wName, out var w) || !w.IsFloat || w.Dims.Length < 3) continue;
            OnnxTensorData? b = null;
            if (conv.Input(2) is { } bName && !Initializers.TryGetValue(bName, out b)) continue;
            var parameters = new OnnxTensorData[4];
            bool constant = true;
            for (int k = 0; k < 4; k++)
                constant &= bn.Input(k + 1) is { } p && Initializers.TryGetValue(p, out parameters[k]!);
            int oc = w.Dims[0];
            if (!constant || parameters.Any(p => p.Length != oc) || (b is not null && b.Length != oc)) continue;

            double epsilon = OnnxAttributes.Float(bn, "epsilon", 1e-5f);
            float[] scale, shift;
            try
            {
                (scale, shift) = Ops.BatchNormToAffine(parameters[0].ToFloats(), parameters[1].ToFloats(), parameters[2].ToFloats(), parameters[3].ToFloats(), epsilon);
            }
            catch (ArgumentException)
            {
                continue;   // a variance + epsilon that is not positive: left unfolded, where the node refuses it naming the file
            }
            float[] weights = w.Floats!, bias = b?.ToFloats() ?? new float[oc];
            int perOutput = weights.Length / oc;
            var folded = new float[weights.Length];
            var foldedBias = new float[oc];
            for (int o = 0; o < oc; o++)
            {
                for (int j = 0; j < perOutput; j++) folded[o * perOutput + j] = weights[o * perOutput + j] * scale[o];
                foldedBias[o] = bias[o] * scale[o] + shift[o];
            }
            string foldedW = $"{wName}::bn-folded:{bn.Index}", foldedB = $"{bn.Input(2)}::bn-folded:{bn.Index}";
            Initializers[foldedW] = OnnxTensorData.FromFloats(foldedW, w.Dims, folded);
            Initializers[foldedB] = OnnxTensorData.FromFloats(foldedB, [oc], foldedBias);
            Nodes[convIndex] = conv with { Inputs = [conv.Inputs[0], foldedW, foldedB], Outputs = [bn.Outputs[0]] };
            producer[bn.Outputs[0]] = convIndex;
            removed.Add(i);
        }
        RemoveNodes(removed);
    }

    /// <summary>
    /// Fuses Relu, LeakyRelu, Sigmoid or Tanh into the Conv or Gemm before it when that node's output
    /// feeds nothing else, so the conv kernel applies it in place.
    /// </summary>
    public void FuseActivations()
    {
        var readers = Readers();
        var producer = new Dictionary<string, int>();
        for (int i = 0; i < Nodes.Count; i++)
            foreach (var o in Nodes[i].Outputs) producer[o] = i;
        var removed = new HashSet<int>();

        for (int i = 0; i < Nodes.Count; i++)
        {
            var act = Nodes[i];
            if (act.Domain is not ("" or "ai.onnx") || act.Inputs.Length != 1) continue;
            KernelActivation activation;
            switch (act.OpType)
            {
                case "Relu": activation = KernelActivation.Relu; break;
                case "Sigmoid": activation = KernelActivation.Sigmoid; break;
                case "Tanh": activation = KernelActivation.Tanh; break;
                case "LeakyRelu": activation = KernelActivation.LeakyRelu(OnnxAttributes.Float(act, "alpha", 0.01f)); break;
                default: continue;
            }
            string x = act.Inputs[0];
            if (!producer.TryGetValue(x, out int prev) || readers.GetValueOrDefault(x) != 1) continue;
            var node = Nodes[prev];
            if (node.OpType != "Conv" || node.FusedActivation.Kind != ActivationKind.None || node.Outputs.Length != 1) continue;
            Nodes[prev] = node with { Outputs = [act.Outputs[0]], FusedActivation = activation };
            producer[act.Outputs[0]] = prev;
            removed.Add(i);
        }
        RemoveNodes(removed);
    }

    /// <summary>Drops the nodes at these positions; positions are only removed at the end so indices stay valid while a rewrite scans.</summary>
    private void RemoveNodes(HashSet<int> positions)
    {
        var kept = Nodes.Where((_, i) => !positions.Contains(i)).ToList();
        Nodes.Clear();
        Nodes.AddRange(kept);
    }
}

/// <summary>Typed reads of node attributes with ONNX defaults; a value of the wrong type is a format error.</summary>
internal static class OnnxAttributes
{
    public static bool Has(OnnxNode node, string name) => node.Attributes.ContainsKey(name);

    public static long Int(OnnxNode node, string name, long fallback) =>
        node.Attributes.TryGetValue(name, out var a) ? Check(node, a, AttributeProto.Types.AttributeType.Int).I : fallback;

    public static float Float(OnnxNode node, string name, float fallback) =>
        node.Attributes.TryGetValue(name, out var a) ? Check(node, a, AttributeProto.Types.AttributeType.Float).F : fallback;

    public static string String(OnnxNode node, string name, string fallback) =>
        node.Attributes.TryGetValue(name, out var a) ? Check(node, a, AttributeProto.Types.AttributeType.String).S.ToStringUtf8() : fallback;

    public static long[]? Ints(OnnxNode node, string name) =>
        node.Attributes.TryGetValue(name, out var a) ? Check(node, a, AttributeProto.Types.AttributeType.Ints).Ints.ToArray() : null;

    public static float[]? Floats(OnnxNode node, string name) =>
        node.Attributes.TryGetValue(name, out var a) ? Check(node, a, AttributeProto.Types.AttributeType.Floats).Floats.ToArray() : null;

    public static TensorProto? Tensor(OnnxNode node, string name) =>
        node.Attributes.TryGetValue(name, out var a) ? Check(node, a, AttributeProto.Types.AttributeType.Tensor).T : null;

    /// <summary>IR 1 files carry no type field; then the value field present decides.</summary>
    private static AttributeProto Check(OnnxNode node, AttributeProto a, AttributeProto.Types.AttributeType expected)
    {
        if (a.HasType && a.Type != expected && a.Type != AttributeProto.Types.AttributeType.Undefined)
            throw new OnnxFormatException($"{node.Context}: {node.Label}: attribute {QuotedName.Of(a.Name)} has type {a.Type}, expected {expected}.");
        return a;
    }
}
