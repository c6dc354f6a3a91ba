using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using ActivationLayer = ConvEngine.Layers.Activation;

namespace ConvEngine.Benchmarks.Models;

/// <summary>
/// The networks of the model benchmark that have no builder in the engine: the course's custom convnet, a
/// SqueezeNet 1.1-style net (1×1 squeeze, parallel 1×1/3×3 expands, concat: 1×1- and concat-heavy) and a
/// MobileNet v1-style net (3×3 depthwise + 1×1 pointwise pairs, each conv followed by BatchNormalization and
/// ReLU, as exported MobileNets are). Built as engine models with random weights, then written as ONNX for both
/// engines by <see cref="EngineToOnnx"/>.
/// </summary>
public static class BenchmarkNets
{
    /// <summary>The course's custom convnet at 128×128×3 (as `convengine train --model custom-convnet` builds it).</summary>
    public static Model CustomConvnet(IBackend backend) => new Sequential(backend: backend, seed: 7)
    {
        new InputLayer(128, 128, 3),
        new Rescaling(1.0 / 255),
        new Conv2D(32, 5, padding: "same", activation: "relu"), new MaxPool2D(),
        new Conv2D(64, 3, padding: "same", activation: "relu"), new MaxPool2D(),
        new Conv2D(128, 3, padding: "same", activation: "relu"), new MaxPool2D(),
        new Flatten(),
        new Dense(6, activation: "relu"),
        new Dense(1, activation: "sigmoid"),
    };

    /// <summary>SqueezeNet 1.1 (Iandola et al., the v1.1 layer table): 224×224×3 → 1000 class scores (global average pool).</summary>
    /// <param name="size">Input height and width (64 for the GPU script's small proof run).</param>
    public static Model SqueezeNet(IBackend backend, int size = 224)
    {
        var input = new InputLayer(size, size, 3);
        SymbolicTensor x = new Conv2D(64, 3, strides: 2, padding: "valid", activation: "relu", name: "conv1").Apply(input);
        x = new MaxPool2D(3, 2, "valid", "pool1").Apply(x);
        x = Fire(x, "fire2", 16, 64);
        x = Fire(x, "fire3", 16, 64);
        x = new MaxPool2D(3, 2, "valid", "pool3").Apply(x);
        x = Fire(x, "fire4", 32, 128);
        x = Fire(x, "fire5", 32, 128);
        x = new MaxPool2D(3, 2, "valid", "pool5").Apply(x);
        x = Fire(x, "fire6", 48, 192);
        x = Fire(x, "fire7", 48, 192);
        x = Fire(x, "fire8", 64, 256);
        x = Fire(x, "fire9", 64, 256);
        x = new Conv2D(1000, 1, activation: "relu", name: "conv10").Apply(x);
        x = new GlobalAveragePooling2D("pool10").Apply(x);
        return new Model(input, x, "squeezenet", backend, seed: 11);
    }

    private static SymbolicTensor Fire(SymbolicTensor x, string name, int squeeze, int expand)
    {
        var s = new Conv2D(squeeze, 1, activation: "relu", name: $"{name}_squeeze1x1").Apply(x);
        var e1 = new Conv2D(expand, 1, activation: "relu", name: $"{name}_expand1x1").Apply(s);
        var e3 = new Conv2D(expand, 3, padding: "same", activation: "relu", name: $"{name}_expand3x3").Apply(s);
        return new Concatenate(name: $"{name}_concat").Apply(e1, e3);
    }

    /// <summary>MobileNet v1 (width 1.0, Howard et al. table 1): 224×224×3 → 1024 features → 1000 scores.</summary>
    /// <param name="size">Input height and width (64 for the GPU script's small proof run).</param>
    public static Model MobileNet(IBackend backend, int size = 224)
    {
        var input = new InputLayer(size, size, 3);
        SymbolicTensor x = ConvBnRelu(input, "conv1", 32, 3, 2, groups: 1);
        (int Stride, int Filters)[] blocks =
            [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024)];
        for (int i = 0; i < blocks.Length; i++)
        {
            int channels = x.Shape[^1];
            x = ConvBnRelu(x, $"conv_dw_{i + 1}", channels, 3, blocks[i].Stride, groups: channels);
            x = ConvBnRelu(x, $"conv_pw_{i + 1}", blocks[i].Filters, 1, 1, groups: 1);
        }
        x = new GlobalAveragePooling2D("global_pool").Apply(x);
        x = new Dense(1000, name: "predictions").Apply(x);
        return new Model(input, x, "mobilenet", backend, seed: 13);
    }

    private static SymbolicTensor ConvBnRelu(SymbolicTensor x, string name, int filters, int kernel, int stride, int groups)
    {
        x = new Conv2D(filters, kernel, stride, "same", groups: groups, useBias: false, name: name).Apply(x);
        x = new BatchNormalization(name: $"{name}_bn").Apply(x);
        return new ActivationLayer("relu", $"{name}_relu").Apply(x);
    }

    /// <summary>
    /// Gives every BatchNormalization layer random statistics and affine weights (variance in [0.5, 1.5], the rest
    /// small), so folding and fusing them is actually tested by the cross-check instead of multiplying by one.
    /// </summary>
    public static void RandomizeBatchNorms(Model model, int seed)
    {
        model.Initialize();
        var rng = new Random(seed);
        float[] Values(int n, double low, double high) => Enumerable.Range(0, n).Select(_ => (float)(low + rng.NextDouble() * (high - low))).ToArray();
        foreach (var node in model.Nodes)
        {
            if (node.Layer is not BatchNormalization bn) continue;
            int c = bn.Channels;
            bn.Gamma?.Assign(Values(c, 0.5, 1.5));
            bn.Beta?.Assign(Values(c, -0.2, 0.2));
            bn.MovingMean!.Assign(Values(c, -0.2, 0.2));
            bn.MovingVariance!.Assign(Values(c, 0.5, 1.5));
        }
    }
}
