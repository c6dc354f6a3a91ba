using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras RandomCrop: in training one random <see cref="Height"/> × <see cref="Width"/> window for the whole batch (top
/// and left drawn uniformly from the positions that fit); at inference Keras's smart_resize (the largest centred window
/// of the target's aspect ratio, resized bilinearly), so the output size is the same in both. Keras would upscale an
/// image smaller than the crop; the engine refuses such a crop when it builds the layer, since the image size is known then.
/// </summary>
public sealed class RandomCrop : RandomPreprocessingLayer
{
    /// <summary>Crops one random <paramref name="height"/>×<paramref name="width"/> window of the batch in training; at inference resizes as Keras's smart_resize.</summary>
    public RandomCrop(int height, int width, ulong? seed = null, string? name = null) : base(seed, name)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"RandomCrop '{Name}': height and width must be positive, got {height} and {width}.");
        Height = height;
        Width = width;
    }

    /// <inheritdoc/>
    public override string ClassName => "RandomCrop";
    /// <summary>Output height.</summary>
    public int Height { get; }
    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    protected override int[] ImageOutputShape(SymbolicTensor input, int height, int width, int channels)
    {
        if (Height > height || Width > width)
            throw new ArgumentException($"RandomCrop '{Name}': the crop {Height}x{Width} is larger than the {height}x{width} images '{input.Layer.Name}' gives it {input.ShapeText}.");
        return [Height, Width, channels];
    }

    /// <summary>This step's window corner for images of <paramref name="height"/> × <paramref name="width"/>.</summary>
    public (int Top, int Left) DrawCorner(ulong seed, int height, int width)
    {
        int rows = height - Height + 1, columns = width - Width + 1;
        return (Math.Min(rows - 1, (int)(AugmentDraws.Unit(seed, 0, 0) * rows)), Math.Min(columns - 1, (int)(AugmentDraws.Unit(seed, 1, 0) * columns)));
    }

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images, ulong seed, int n, int height, int width, int channels)
    {
        var (top, left) = DrawCorner(seed, height, width);
        return Run(images, ResizeGeometry.Crop($"RandomCrop '{Name}'", images.Shape, top, left, Height, Width));
    }

    /// <inheritdoc/>
    protected override Tensor Infer(Tensor images) =>
        Run(images, ResizeGeometry.SmartResize($"RandomCrop '{Name}'", images.Shape, Height, Width, InterpolationMode.Bilinear));

    private Tensor Run(Tensor images, in ResizeGeometry g)
    {
        var backend = images.Backend;
        var output = Output(backend, g.N, g.OH, g.OW, g.C);
        backend.Resize(images.Buffer, output.Buffer, g);
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

    internal static RandomCrop FromConfig(JsonObject c)
    {
        const string owner = "RandomCrop";
        JsonConfig.RequireChannelsLast(c, owner);
        return new RandomCrop(JsonConfig.Int(c, owner, "height"), JsonConfig.Int(c, owner, "width"), JsonConfig.OptionalULong(c, owner, "seed"),
            JsonConfig.OptionalString(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
