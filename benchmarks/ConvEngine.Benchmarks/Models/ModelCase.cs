using ConvEngine.Import.Applications;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Benchmarks.Models;

/// <summary>How our engine runs a case: an engine <see cref="Model"/> (built by an engine builder), or the ONNX file through OnnxImporter.</summary>
public enum OursRunsAs { EngineLayers, OnnxImporter }

/// <summary>
/// One model of the model benchmark at one batch size: the network, how ours runs it, and the ONNX graph ONNX
/// Runtime runs (the same network and weights). Identified by <see cref="Id"/>, e.g. "inceptionv1-b8".
/// </summary>
public sealed record ModelCase(string Model, int Batch, OursRunsAs RunsAs) : IFlopCount, IComparable<ModelCase>, IComparable
{
    public string Id => $"{Model}-b{Batch}";

    /// <summary>The engine model of this case on <paramref name="backend"/>, with its random (seeded) or real weights.</summary>
    public Model BuildEngineModel(IBackend backend)
    {
        var model = Model switch
        {
            "vgg16-224" => Vgg16.Create(includeTop: false, inputShape: [224, 224, 3], backend: backend, seed: 3),
            "vgg16-128" => Vgg16.Create(includeTop: false, inputShape: [128, 128, 3], backend: backend, seed: 3),
            "resnet18-onnx" or "resnet18-layers" => ResNet18.Create(includePreprocessing: false, backend: backend),
            "inceptionv1" => InceptionV1.Create([224, 224, 3], backend: backend, seed: 5),
            "custom-convnet" => BenchmarkNets.CustomConvnet(backend),
            "squeezenet" => BenchmarkNets.SqueezeNet(backend),
            "mobilenet" => BenchmarkNets.MobileNet(backend),
            "squeezenet-64" => BenchmarkNets.SqueezeNet(backend, size: 64),
            "mobilenet-64" => BenchmarkNets.MobileNet(backend, size: 64),
            _ => throw new ArgumentException($"Unknown benchmark model '{Model}'."),
        };
        BenchmarkNets.RandomizeBatchNorms(model, seed: 17);
        return model;
    }

    /// <summary>The ONNX graph both engines read (OnnxImporter cases) or ORT reads (engine-layer cases).</summary>
    public byte[] OnnxBytes(Model engineModel)
    {
        if (Model is "resnet18-onnx" or "resnet18-layers")
            return OnnxBatch.WithBatch(File.ReadAllBytes(ResNet18Files.Locate().Model), Batch);
        return EngineToOnnx.Write(engineModel, Batch);
    }

    /// <summary>Floating-point operations of one forward pass (conv and dense multiply-adds count 2; the rest is left out).</summary>
    public double Flops => s_flops.GetOrAdd(Id, _ =>
    {
        using var backend = new Kernels.Cpu.CpuBackend(threads: 1);
        using var model = BuildEngineModel(backend);
        return Batch * PerSampleFlops(model);
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, double> s_flops = new();

    /// <summary>2·MACs of every Conv2D and Dense layer for one sample.</summary>
    public static double PerSampleFlops(Model model)
    {
        double flops = 0;
        foreach (var node in model.Nodes)
        {
            int[] output = node.Output.Shape;
            switch (node.Layer)
            {
                case Conv2D conv:
                    flops += 2.0 * output[0] * output[1] * output[2] * conv.KernelSize.Height * conv.KernelSize.Width * (node.Inputs[0].Shape[^1] / conv.Groups);
                    break;
                case Dense dense:
                    flops += 2.0 * node.Inputs[0].Shape[^1] * dense.Units;
                    break;
                case ConvEngine.Models.Model inner:
                    flops += PerSampleFlops(inner);
                    break;
            }
        }
        return flops;
    }

    /// <summary>Every case, in the order the tables show them.</summary>
    public static IReadOnlyList<ModelCase> All { get; } =
    [
        new("vgg16-224", 1, OursRunsAs.EngineLayers),
        new("vgg16-128", 8, OursRunsAs.EngineLayers),
        new("resnet18-onnx", 1, OursRunsAs.OnnxImporter),
        new("resnet18-onnx", 8, OursRunsAs.OnnxImporter),
        new("resnet18-layers", 1, OursRunsAs.EngineLayers),
        new("resnet18-layers", 8, OursRunsAs.EngineLayers),
        new("inceptionv1", 1, OursRunsAs.EngineLayers),
        new("inceptionv1", 8, OursRunsAs.EngineLayers),
        new("custom-convnet", 64, OursRunsAs.EngineLayers),
        new("squeezenet", 1, OursRunsAs.OnnxImporter),
        new("squeezenet", 8, OursRunsAs.OnnxImporter),
        new("mobilenet", 1, OursRunsAs.OnnxImporter),
        new("mobilenet", 8, OursRunsAs.OnnxImporter),
    ];

    /// <summary>
    /// Small versions of the 1×1/concat- and depthwise-heavy nets (64×64 inputs), for backends that are slow stand-ins
    /// (ILGPU's CPU accelerator in the GPU script's proof run); not in <see cref="All"/>, chosen by name ("small" picks both).
    /// </summary>
    public static IReadOnlyList<ModelCase> Small { get; } =
    [
        new("squeezenet-64", 1, OursRunsAs.OnnxImporter),
        new("mobilenet-64", 1, OursRunsAs.OnnxImporter),
    ];

    /// <summary>
    /// The cases whose id matches one of <paramref name="patterns"/> (a prefix, e.g. "inception" or "vgg16-224-b1", among
    /// <see cref="All"/> and <see cref="Small"/>; "small" is all of <see cref="Small"/>); <see cref="All"/> when none.
    /// </summary>
    public static IReadOnlyList<ModelCase> Select(IReadOnlyCollection<string> patterns) =>
        patterns.Count == 0 ? All
            : All.Concat(Small).Where(c => patterns.Any(p => c.Id.StartsWith(p, StringComparison.OrdinalIgnoreCase)
                || (p.Equals("small", StringComparison.OrdinalIgnoreCase) && Small.Contains(c)))).ToList();

    public int CompareTo(ModelCase? other) => other is null ? 1 : IndexOf(this).CompareTo(IndexOf(other));
    int IComparable.CompareTo(object? obj) => CompareTo(obj as ModelCase);
    private static int IndexOf(ModelCase c) => All.Concat(Small).ToList().FindIndex(x => x.Id == c.Id);

    public override string ToString() => Id;
}
