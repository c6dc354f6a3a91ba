using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Resizing: resizes every image to <see cref="Height"/> × <see cref="Width"/> with tf.image.resize's half-pixel
/// arithmetic (bilinear by default, or nearest), in training and at inference. With crop_to_aspect_ratio it first takes
/// the largest centred window of the target's aspect ratio (Keras's smart_resize), so nothing is stretched.
/// </summary>
public sealed class Resizing : ImagePreprocessingLayer
{
    /// <summary>Resizes each image to <paramref name="height"/>×<paramref name="width"/> (Keras's Resizing).</summary>
    public Resizing(int height, int width, string interpolation = "bilinear", bool cropToAspectRatio = false, string? name = null) : base(name)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Resizing '{Name}': height and width must be positive, got {height} and {width}.");
        Height = height;
        Width = width;
        Interpolation = PreprocessingOptions.ParseInterpolation($"Resizing '{Name}'", interpolation);
        CropToAspectRatio = cropToAspectRatio;
    }

    /// <inheritdoc/>
    public override string ClassName => "Resizing";
    /// <summary>Output height.</summary>
    public int Height { get; }
    /// <summary>Output width.</summary>
    public int Width { get; }
    /// <summary>How the resized image is sampled.</summary>
    public InterpolationMode Interpolation { get; }
    /// <summary>Whether the largest centred window of the target aspect ratio is cropped before resizing.</summary>
    public bool CropToAspectRatio { get; }

    /// <inheritdoc/>
    protected override int[] ImageOutputShape(SymbolicTensor input, int height, int width, int channels) => [Height, Width, channels];

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var images = inputs[0];
        string op = $"Resizing '{Name}'";
        var g = CropToAspectRatio
            ? ResizeGeometry.SmartResize(op, images.Shape, Height, Width, Interpolation)
            : ResizeGeometry.Create(op, images.Shape, Height, Width, Interpolation);
        var output = Output(images.Backend, g.N, g.OH, g.OW, g.C);
        images.Backend.Resize(images.Buffer, output.Buffer, g);
        return output;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["height"] = Height;
        config["width"] = Width;
        config["interpolation"] = PreprocessingOptions.Name(Interpolation);
        config["crop_to_aspect_ratio"] = CropToAspectRatio;
        return config;
    }

    internal static Resizing FromConfig(JsonObject c)
    {
        const string owner = "Resizing";
        JsonConfig.RequireChannelsLast(c, owner);
        return new Resizing(JsonConfig.Int(c, owner, "height"), JsonConfig.Int(c, owner, "width"), JsonConfig.String(c, owner, "interpolation", "bilinear"),
            JsonConfig.Bool(c, owner, "crop_to_aspect_ratio", false), JsonConfig.OptionalString(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
