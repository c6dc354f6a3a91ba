using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras CenterCrop: the central <see cref="Height"/> × <see cref="Width"/> window of every image, in training and at
/// inference; its corner is at (int((H − height)/2), int((W − width)/2)). Keras would upscale an image smaller than the
/// crop; the engine refuses such a crop when it builds the layer.
/// </summary>
public sealed class CenterCrop : ImagePreprocessingLayer
{
    /// <summary>Crops the centre <paramref name="height"/>×<paramref name="width"/> of each image (an image smaller than the crop is refused when the layer is built).</summary>
    public CenterCrop(int height, int width, string? name = null) : base(name)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"CenterCrop '{Name}': height and width must be positive, got {height} and {width}.");
        Height = height;
        Width = width;
    }

    /// <inheritdoc/>
    public override string ClassName => "CenterCrop";
    /// <summary>Output height.</summary>
    public int Height { get; }
    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    protected override int[] ImageOutputShape(SymbolicTensor input, int height, int width, int channels)
    {
        if (Height > height || Width > width)
            throw new ArgumentException($"CenterCrop '{Name}': the crop {Height}x{Width} is larger than the {height}x{width} images '{input.Layer.Name}' gives it {input.ShapeText}.");
        return [Height, Width, channels];
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var images = inputs[0];
        int top = (images.Shape[1] - Height) / 2, left = (images.Shape[2] - Width) / 2;
        var g = ResizeGeometry.Crop($"CenterCrop '{Name}'", images.Shape, top, left, Height, Width);
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
        return config;
    }

    internal static CenterCrop FromConfig(JsonObject c)
    {
        const string owner = "CenterCrop";
        JsonConfig.RequireChannelsLast(c, owner);
        return new CenterCrop(JsonConfig.Int(c, owner, "height"), JsonConfig.Int(c, owner, "width"), JsonConfig.OptionalString(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
