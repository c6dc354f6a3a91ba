using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.Applications;

/// <summary>
/// InceptionV1 (GoogLeNet) in the TF-Slim layout of TF-Hub's imagenet/inception_v1/feature_vector: stem
/// Conv 7×7/2 (64) → MaxPool 3×3/2 → Conv 1×1 (64) → Conv 3×3 (192) → MaxPool 3×3/2; Mixed_3b, 3c; MaxPool 3×3/2;
/// Mixed_4b…4f; MaxPool 2×2/2; Mixed_5b, 5c; global mean → 1024 features. Every conv and pool is "same",
/// stride 1 unless stated; every conv is followed by BatchNormalization (ε 0.001, beta but no gamma) and ReLU.
/// A module concatenates four branches on channels: 1×1; 1×1→3×3; 1×1→3×3 (Slim's 3×3 where the paper has 5×5);
/// 3×3 max pool stride 1 → 1×1. Layer names follow Slim's scopes with "_" for "/" ("Mixed_3b_Branch_1_Conv2d_0b_3x3"),
/// since the engine's names may not contain "/".
/// BatchNormalization and Concatenate are taken from the engine's layer registry by their Keras class names.
/// </summary>
public static class InceptionV1
{
    /// <summary>
    /// Branch widths of each module: 1×1; 1×1 reduce → 3×3; 1×1 reduce → 3×3; pool projection (TF-Slim inception_v1.py).
    /// </summary>
    public static IReadOnlyList<(string Name, int B0, int B1Reduce, int B1, int B2Reduce, int B2, int B3)> Modules { get; } =
    [
        ("Mixed_3b", 64, 96, 128, 16, 32, 32),
        ("Mixed_3c", 128, 128, 192, 32, 96, 64),
        ("Mixed_4b", 192, 96, 208, 16, 48, 64),
        ("Mixed_4c", 160, 112, 224, 24, 64, 64),
        ("Mixed_4d", 128, 128, 256, 24, 64, 64),
        ("Mixed_4e", 112, 144, 288, 32, 64, 64),
        ("Mixed_4f", 256, 160, 320, 32, 128, 128),
        ("Mixed_5b", 256, 160, 320, 32, 128, 128),
        ("Mixed_5c", 384, 192, 384, 48, 128, 128),
    ];

    /// <summary>The Keras classes this builder needs from the engine beyond its core layers.</summary>
    public static IReadOnlyList<string> RequiredLayerClasses { get; } = ["BatchNormalization", "Concatenate"];

    /// <summary>Slim's inception_v1_arg_scope: batch_norm_decay 0.9997, epsilon 0.001, no scale (gamma).</summary>
    private const double BatchNormMomentum = 0.9997, BatchNormEpsilon = 0.001;

    /// <summary>Builds the feature extractor "inception_v1": (H, W, 3) → 1024 features (global average pooling).</summary>
    /// <param name="inputShape">One sample, (H, W, C); 224×224×3 by default.</param>
    /// <param name="weights">Null, or a safetensors file with the engine's layer names (e.g. converted from the Slim checkpoint).</param>
    /// <exception cref="NotSupportedException">The engine has no BatchNormalization or Concatenate layer yet.</exception>
    /// <param name="backend">Where the model's tensors live; null for a new cpu backend.</param>
    /// <param name="seed">Seed of the random initialisation of weights the file does not give; null for a random seed.</param>
    public static Model Create(int[]? inputShape = null, string? weights = null, IBackend? backend = null, ulong? seed = null)
    {
        var missing = RequiredLayerClasses.Except(LayerRegistry.ClassNames).ToList();
        if (missing.Count > 0)
            throw new NotSupportedException($"InceptionV1 needs the layer classes {string.Join(" and ", missing)}, which the engine does not have yet " +
                "(BatchNormalization: inference with moving mean/variance, beta, no gamma, ε 0.001; Concatenate: on the channel axis).");
        return Create(inputShape, weights, backend, seed, LayerRegistry.Create);
    }

    /// <summary>The builder with the BatchNormalization and Concatenate layers made by <paramref name="layerFactory"/> (class name, Keras config).</summary>
    internal static Model Create(int[]? inputShape, string? weights, IBackend? backend, ulong? seed, Func<string, JsonObject, Layer> layerFactory)
    {
        int[] shape = inputShape ?? [224, 224, 3];
        if (shape.Length != 3)
            throw new ArgumentException($"InceptionV1: input shape must be (height, width, channels); got ({string.Join(", ", shape)}).");
        var builder = new Builder(layerFactory);
        var input = new InputLayer(shape, "input_1");
        SymbolicTensor x = input;
        x = builder.ConvBnRelu(x, 64, 7, 2, "Conv2d_1a_7x7");
        x = new MaxPool2D(3, 2, "same", "MaxPool_2a_3x3").Apply(x);
        x = builder.ConvBnRelu(x, 64, 1, 1, "Conv2d_2b_1x1");
        x = builder.ConvBnRelu(x, 192, 3, 1, "Conv2d_2c_3x3");
        x = new MaxPool2D(3, 2, "same", "MaxPool_3a_3x3").Apply(x);
        foreach (var module in Modules)
        {
            if (module.Name == "Mixed_4b") x = new MaxPool2D(3, 2, "same", "MaxPool_4a_3x3").Apply(x);
            if (module.Name == "Mixed_5b") x = new MaxPool2D(2, 2, "same", "MaxPool_5a_2x2").Apply(x);
            x = builder.Module(x, module);
        }
        x = new GlobalAveragePooling2D("AvgPool_0a_global").Apply(x);

        var model = new Model(input, x, "inception_v1", backend, seed);
        if (weights is not null) PretrainedWeights.Load(model, weights);
        return model;
    }

    /// <summary>Makes the module and conv-BN-ReLU blocks, taking BatchNormalization and Concatenate from the factory.</summary>
    private sealed class Builder(Func<string, JsonObject, Layer> layerFactory)
    {
        public SymbolicTensor Module(SymbolicTensor x, (string Name, int B0, int B1Reduce, int B1, int B2Reduce, int B2, int B3) m)
        {
            var branch0 = ConvBnRelu(x, m.B0, 1, 1, $"{m.Name}_Branch_0_Conv2d_0a_1x1");
            var branch1 = ConvBnRelu(ConvBnRelu(x, m.B1Reduce, 1, 1, $"{m.Name}_Branch_1_Conv2d_0a_1x1"), m.B1, 3, 1, $"{m.Name}_Branch_1_Conv2d_0b_3x3");
            // Slim names Mixed_5b's second branch-2 conv "Conv2d_0a_3x3" (a quirk kept so checkpoint names map one to one).
            string branch2Second = m.Name == "Mixed_5b" ? "Conv2d_0a_3x3" : "Conv2d_0b_3x3";
            var branch2 = ConvBnRelu(ConvBnRelu(x, m.B2Reduce, 1, 1, $"{m.Name}_Branch_2_Conv2d_0a_1x1"), m.B2, 3, 1, $"{m.Name}_Branch_2_{branch2Second}");
            var pooled = new MaxPool2D(3, 1, "same", $"{m.Name}_Branch_3_MaxPool_0a_3x3").Apply(x);
            var branch3 = ConvBnRelu(pooled, m.B3, 1, 1, $"{m.Name}_Branch_3_Conv2d_0b_1x1");
            return layerFactory("Concatenate", new JsonObject { ["name"] = m.Name, ["axis"] = -1 }).Apply(branch0, branch1, branch2, branch3);
        }

        /// <summary>Slim's conv2d with normalizer_fn=batch_norm: a conv without bias, batch norm (beta, no gamma), then ReLU.</summary>
        public SymbolicTensor ConvBnRelu(SymbolicTensor x, int filters, int kernel, int stride, string name)
        {
            x = new Conv2D(filters, kernel, stride, "same", useBias: false, name: name).Apply(x);
            x = layerFactory("BatchNormalization", new JsonObject
            {
                ["name"] = $"{name}_BatchNorm",
                ["axis"] = -1,
                ["momentum"] = BatchNormMomentum,
                ["epsilon"] = BatchNormEpsilon,
                ["center"] = true,
                ["scale"] = false,
            }).Apply(x);
            return new Layers.Activation("relu", $"{name}_Relu").Apply(x);
        }
    }
}
