using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.Applications;

/// <summary>
/// Keras's applications.VGG16: five blocks of 3×3 "same" convolutions with ReLU (64, 128, 256, 512, 512 filters;
/// 2, 2, 3, 3, 3 convs), each block ending in MaxPooling2D 2×2 stride 2, with Keras's layer names
/// (block1_conv1 … block5_pool) so that Keras weight files load by name. Without the top, 13 convs hold
/// 14,714,688 weights and a 128×128×3 input gives a 4×4×512 output.
/// </summary>
public static class Vgg16
{
    /// <summary>Filters and conv count of each block, as in Keras's vgg16.py.</summary>
    private static readonly (int Filters, int Convs)[] Blocks = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)];

    /// <summary>Builds the model named "vgg16".</summary>
    /// <param name="includeTop">Adds Flatten, fc1 and fc2 (4096, ReLU) and predictions (softmax over <paramref name="classes"/>).</param>
    /// <param name="inputShape">One sample, (H, W, C); 224×224×3 by default. Keras requires at least 32×32 (five halvings).</param>
    /// <param name="weights">
    /// Null (random Keras initialisation), a Keras HDF5 file (.h5/.hdf5, e.g. vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5),
    /// or a safetensors file written by the engine (.safetensors, e.g. from <c>convengine weights convert</c>).
    /// </param>
    /// <param name="pooling">Without the top: null (4-D output), or "avg" for global average pooling.</param>
    /// <param name="classes">Units of the predictions layer with the top.</param>
    /// <param name="backend">Where the model's tensors live; null for a new cpu backend.</param>
    /// <param name="seed">Seed of the random initialisation when no weights are given; null for a random seed.</param>
    public static Model Create(bool includeTop = false, int[]? inputShape = null, string? weights = null, int classes = 1000,
        string? pooling = null, IBackend? backend = null, ulong? seed = null)
    {
        int[] shape = inputShape ?? [224, 224, 3];
        if (shape.Length != 3)
            throw new ArgumentException($"VGG16: input shape must be (height, width, channels); got ({string.Join(", ", shape)}).");
        if (shape[0] < 32 || shape[1] < 32)
            throw new ArgumentException($"VGG16: input must be at least 32×32 (five 2×2 poolings); got {shape[0]}×{shape[1]}.");
        if (includeTop && classes <= 0) throw new ArgumentException($"VGG16: classes must be positive, got {classes}.");
        if (pooling is not (null or "avg"))
            throw new NotSupportedException($"VGG16: pooling '{pooling}' is not supported; use null or \"avg\" (the engine has no GlobalMaxPooling2D).");

        var input = new InputLayer(shape, "input_1");
        SymbolicTensor x = input;
        for (int b = 0; b < Blocks.Length; b++)
        {
            var (filters, convs) = Blocks[b];
            for (int c = 0; c < convs; c++)
                x = new Conv2D(filters, 3, padding: "same", activation: "relu", name: $"block{b + 1}_conv{c + 1}").Apply(x);
            x = new MaxPool2D(2, 2, name: $"block{b + 1}_pool").Apply(x);
        }
        if (includeTop)
        {
            x = new Flatten("flatten").Apply(x);
            x = new Dense(4096, "relu", name: "fc1").Apply(x);
            x = new Dense(4096, "relu", name: "fc2").Apply(x);
            x = new Dense(classes, "softmax", name: "predictions").Apply(x);
        }
        else if (pooling == "avg")
        {
            x = new GlobalAveragePooling2D("global_average_pooling2d").Apply(x);
        }

        var model = new Model(input, x, "vgg16", backend, seed);
        if (weights is not null) PretrainedWeights.Load(model, weights);
        return model;
    }
}
