using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// The models `convengine train --model NAME` builds: the course's custom convnet (Kaggle "Computer Vision",
/// lesson "Custom Convnets"), its deeper variant, and the same base with a softmax head for K classes.
/// Each starts with Rescaling(1/255), so it takes pixels in [0, 255] as the data loaders give them,
/// and adapts its input to the data's (height, width, channels).
/// </summary>
internal static class BuiltInModels
{
    public const string CustomConvnet = "custom-convnet";
    public const string CustomConvnetImproved = "custom-convnet-improved";
    public const string CustomConvnetSoftmax = "custom-convnet-softmax";

    public static IReadOnlyList<string> Names { get; } = [CustomConvnet, CustomConvnetImproved, CustomConvnetSoftmax];

    public static bool IsBuiltIn(string name) => Names.Contains(name.Trim().ToLowerInvariant());

    /// <summary>
    /// The course compiles its two binary convnets with Adam(epsilon=0.01); the softmax variant and JSON
    /// configs keep Keras's default 1e−7.
    /// </summary>
    public static double DefaultAdamEpsilon(string? name) =>
        name?.Trim().ToLowerInvariant() is CustomConvnet or CustomConvnetImproved ? 0.01 : 1e-7;

    /// <summary>Builds model <paramref name="name"/> for samples of <paramref name="inputShape"/> (H, W, C) and <paramref name="classCount"/> classes.</summary>
    /// <param name="classCount">Used by the softmax head (K units); the binary models ignore it (the caller checks the fit).</param>
    public static Sequential Create(string name, int[] inputShape, int classCount, IBackend? backend = null, ulong? seed = null)
    {
        string key = name.Trim().ToLowerInvariant();
        if (!Names.Contains(key))
            throw new ArgumentException($"Unknown built-in model '{name}'; known: {string.Join(", ", Names)} (or a path to a model JSON config).");
        if (inputShape.Length != 3 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"Model '{name}' takes (height, width, channels) images; got ({string.Join(", ", inputShape)}).");

        var model = new Sequential(name: key.Replace('-', '_'), backend: backend, seed: seed) { new InputLayer(inputShape) };
        foreach (var layer in key == CustomConvnetImproved ? ImprovedLayers() : BaseLayers())
            model.Add(layer);
        foreach (var layer in key == CustomConvnetSoftmax ? SoftmaxHead(classCount) : BinaryHead(dropout: key == CustomConvnetImproved))
            model.Add(layer);
        return model;
    }

    /// <summary>The course's base: three conv + max-pool blocks (32 5×5, 64 3×3, 128 3×3, same padding, relu).</summary>
    private static IEnumerable<Layer> BaseLayers() =>
    [
        new Rescaling(1.0 / 255),
        new Conv2D(32, 5, padding: "same", activation: "relu"),
        new MaxPool2D(),
        new Conv2D(64, 3, padding: "same", activation: "relu"),
        new MaxPool2D(),
        new Conv2D(128, 3, padding: "same", activation: "relu"),
        new MaxPool2D(),
    ];

    /// <summary>More convolutions per block (2, 2, 3), all 3×3, as the course's improved exercise model.</summary>
    private static IEnumerable<Layer> ImprovedLayers()
    {
        yield return new Rescaling(1.0 / 255);
        foreach (var (filters, convolutions) in new[] { (32, 2), (64, 2), (128, 3) })
        {
            for (int i = 0; i < convolutions; i++)
                yield return new Conv2D(filters, 3, padding: "same", activation: "relu");
            yield return new MaxPool2D();
        }
    }

    /// <summary>Flatten, Dense 6 relu, Dense 1 sigmoid; the improved model drops 20% of the flattened features first.</summary>
    private static IEnumerable<Layer> BinaryHead(bool dropout)
    {
        yield return new Flatten();
        if (dropout) yield return new Dropout(0.2);
        yield return new Dense(6, activation: "relu");
        yield return new Dense(1, activation: "sigmoid");
    }

    private static IEnumerable<Layer> SoftmaxHead(int classCount)
    {
        if (classCount < 2)
            throw new ArgumentException($"Model '{CustomConvnetSoftmax}' needs at least 2 classes for its softmax head; the data has {classCount}.");
        return [new Flatten(), new Dense(128, activation: "relu"), new Dropout(0.5), new Dense(classCount, activation: "softmax")];
    }
}
