using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// The base of RandomWidth and RandomHeight: in training one factor f for the whole batch, drawn from
/// [1 + lower, 1 + upper) (a number means [−f, f]; bounds at least −1), and the batch resized along one axis to
/// int(f·size) (at least 1) with tf.image.resize's half-pixel arithmetic. The size changes only in training: the
/// model's symbolic shape is the inference one, and a layer after it that needs a fixed size (Flatten into Dense)
/// fails on the first batch, as in Keras; convolutions, pooling and global pooling follow the size.
/// </summary>
public abstract class RandomResizeLayer : RandomPreprocessingLayer
{
    private protected RandomResizeLayer(Factor factor, string interpolation, ulong? seed, string? name) : base(seed, name)
    {
        Factor = factor;
        (Lower, Upper) = factor.Symmetric;
        if (!(Lower <= Upper))
            throw new ArgumentException($"{ClassName} '{Name}': factor {factor} has its upper bound below its lower bound.");
        if (Lower < -1 || Upper < -1)
            throw new ArgumentException($"{ClassName} '{Name}': factor {factor} is outside Keras's range: its values must be at least -1.");
        Interpolation = PreprocessingOptions.ParseInterpolation($"{ClassName} '{Name}'", interpolation);
    }

    /// <summary>The range the size factor is drawn from.</summary>
    public Factor Factor { get; }
    /// <summary>The lower end of the drawn factor.</summary>
    public double Lower { get; }
    /// <summary>The upper end of the drawn factor.</summary>
    public double Upper { get; }
    /// <summary>How the resized images are sampled.</summary>
    public InterpolationMode Interpolation { get; }
    /// <summary>Whether the layer resizes the width (RandomWidth) or the height (RandomHeight).</summary>
    private protected abstract bool ResizesWidth { get; }

    /// <summary>This step's new size along the layer's axis, for an axis of <paramref name="size"/> pixels.</summary>
    public int DrawSize(ulong seed, int size)
    {
        float factor = AugmentDraws.Uniform(seed, 0, 0, (float)(1 + Lower), (float)(1 + Upper));
        return Math.Max(1, (int)(factor * size));
    }

    /// <inheritdoc/>
    protected sealed override Tensor Augment(Tensor images, ulong seed, int n, int height, int width, int channels)
    {
        int newHeight = ResizesWidth ? height : DrawSize(seed, height);
        int newWidth = ResizesWidth ? DrawSize(seed, width) : width;
        var backend = images.Backend;
        var output = Output(backend, n, newHeight, newWidth, channels);
        backend.Resize(images.Buffer, output.Buffer, ResizeGeometry.Create($"{ClassName} '{Name}'", images.Shape, newHeight, newWidth, Interpolation));
        return output;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["factor"] = Factor.ToJson();
        config["interpolation"] = PreprocessingOptions.Name(Interpolation);
        return config;
    }
}
