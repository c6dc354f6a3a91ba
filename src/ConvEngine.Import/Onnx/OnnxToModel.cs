using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.Onnx;

/// <summary>How an ONNX graph becomes engine layers.</summary>
public sealed record OnnxToModelOptions
{
    /// <summary>
    /// Fold each inference BatchNormalization into the Conv before it (exact, and fewer layers: the frozen fast
    /// path). False keeps BatchNormalization layers with their moving statistics, for fine-tuning as Keras does.
    /// </summary>
    public bool FoldBatchNorm { get; init; } = true;
    /// <summary>Fuse a Relu/Sigmoid/Tanh into the Conv before it (the Conv2D layer's activation).</summary>
    public bool FuseActivations { get; init; } = true;
    /// <summary>The model's name; by default the graph's file name.</summary>
    public string? Name { get; init; }
    /// <summary>Layers applied to the channels-last input before the graph (e.g. the model's preprocessing), or null.</summary>
    public Func<SymbolicTensor, SymbolicTensor>? InputTransform { get; init; }
    /// <summary>Files longer than this are refused before they are read.</summary>
    public long MaxFileBytes { get; init; } = int.MaxValue;
}

/// <summary>
/// Turns an ONNX inference graph into an engine <see cref="Model"/> made of ordinary layers, so that a pretrained
/// network can be frozen, partly unfrozen and fine-tuned, saved and reloaded like any Keras-style model
/// (<see cref="OnnxImporter"/> gives an inference-only graph instead). Activations become channels-last
/// (NCHW → NHWC) and kernels HWIO (OIHW permuted once).
/// <list type="bullet">
/// <item>Conv → Conv2D. Explicit pads equal to TensorFlow's SAME split become padding "same"; other pads (CNTK's
/// asymmetric [1,1,0,0], the stem's [3,3,2,2]) become a ZeroPadding2D before a "valid" Conv2D, which is exact.</item>
/// <item>ConvTranspose (2-D) → Conv2DTranspose with the node's pads, output_padding, dilations and group.</item>
/// <item>BatchNormalization → folded into the conv (default) or a BatchNormalization layer (ε as in the file).</item>
/// <item>Relu, Sigmoid, Tanh → the conv's activation, or an Activation layer; Softmax on (N, K) → Activation softmax.</item>
/// <item>MaxPool, AveragePool → MaxPooling2D / AveragePooling2D ("valid", "same" or explicit pads, ceil_mode);
/// an AveragePool whose window is the whole input, and GlobalAveragePool, → GlobalAveragePooling2D, whose (C)
/// output stands for ONNX's (N, C, 1, 1).</item>
/// <item>Add of two tensors → Add; Concat on channels → Concatenate; Flatten, and Reshape/Squeeze of pooled
/// features → Flatten or nothing; Gemm and MatMul with constant weights → Dense (rows reordered from ONNX's
/// C·H·W flatten order to the engine's H·W·C when a 4-D tensor was flattened); Dropout, Identity → nothing.</item>
/// </list>
/// Anything else is an <see cref="OnnxUnsupportedException"/> naming the node; such a model still runs through
/// <see cref="OnnxImporter"/>. Add, Concatenate, BatchNormalization and ZeroPadding2D come from the engine's
/// <see cref="LayerRegistry"/> by their Keras class names.
/// </summary>
public static partial class OnnxToModel
{
    /// <summary>Reads the ONNX file at <paramref name="path"/> and builds the engine model with the file's weights.</summary>
    public static Model Convert(string path, OnnxToModelOptions? options = null, IBackend? backend = null, ulong? seed = null)
    {
        options ??= new OnnxToModelOptions();
        var proto = OnnxImporter.ReadModel(path, options.MaxFileBytes);
        var graph = OnnxGraph.FromProto(proto, $"ONNX model '{path}'");
        string name = options.Name ?? ModelNameFrom(path);
        return Convert(graph, options with { Name = name }, backend, seed);
    }

    internal static Model Convert(OnnxGraph graph, OnnxToModelOptions options, IBackend? backend, ulong? seed)
    {
        if (options.FoldBatchNorm) graph.FoldBatchNormIntoConv();
        if (options.FuseActivations) graph.FuseActivations();
        var builder = new Builder(graph);
        var (input, output) = builder.Build(options.InputTransform);
        var model = new Model(input, output, options.Name ?? "onnx_model", backend, seed);
        builder.AssignWeights(model.Backend);
        return model;
    }

    /// <summary>A model name from a file name: letters, digits and '_' ("ResNet18.onnx" → "ResNet18").</summary>
    private static string ModelNameFrom(string path)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        string cleaned = new(stem.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        return cleaned.Length == 0 ? "onnx_model" : cleaned;
    }
}
