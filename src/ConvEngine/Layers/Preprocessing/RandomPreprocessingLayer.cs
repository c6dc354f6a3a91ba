using System.Text.Json.Nodes;
using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// The base of the Random* layers: in training they draw from the step's seed (the model's, per node and step, mixed
/// with the layer's own <see cref="Seed"/> when one is given) and transform the batch on its backend; at inference
/// they pass it through (RandomCrop resizes instead, as Keras does), so Predict, Evaluate and a saved model are unaffected.
/// </summary>
public abstract class RandomPreprocessingLayer : ImagePreprocessingLayer
{
    /// <summary>A random layer drawing from <paramref name="seed"/> (a random seed when null).</summary>
    protected RandomPreprocessingLayer(ulong? seed, string? name) : base(name) => Seed = seed;

    /// <summary>Keras's seed argument: mixed into the model's per-step seed, so two layers with different seeds draw differently.</summary>
    public ulong? Seed { get; }

    /// <summary>The seed the last training pass drew from (the layer's Draw methods give its draws); null before one.</summary>
    public ulong? LastDrawSeed { get; private set; }

    /// <inheritdoc/>
    protected sealed override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var images = inputs[0];
        if (!context.Training) return Infer(images);
        ulong seed = Seed is { } own ? CounterRng.Hash(context.Seed, own) : context.Seed;
        LastDrawSeed = seed;
        var (n, h, w, c) = (images.Shape[0], images.Shape[1], images.Shape[2], images.Shape[3]);
        return Augment(images, seed, n, h, w, c);
    }

    /// <summary>Applies this step's draws to (n, h, w, c) <paramref name="images"/>.</summary>
    protected abstract Tensor Augment(Tensor images, ulong seed, int n, int height, int width, int channels);

    /// <summary>What the layer does at inference: nothing, for every layer but RandomCrop.</summary>
    protected virtual Tensor Infer(Tensor images) => images;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["seed"] = Seed is { } s ? JsonValue.Create(s) : null;
        return config;
    }
}
