using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// The base of RandomRotation, RandomTranslation and RandomZoom: each draws one projective transform per image
/// (<see cref="TransformMatrix"/>) and the backend's sampler (TensorFlow's ImageProjectiveTransformV3) applies it with
/// <see cref="FillMode"/> (default reflect), <see cref="Interpolation"/> (default bilinear) and <see cref="FillValue"/>
/// (read where fill_mode is constant, and for bilinear neighbours outside the image).
/// </summary>
public abstract class RandomTransformLayer : RandomPreprocessingLayer
{
    /// <summary>A random geometric layer with Keras's fill mode, interpolation and fill value.</summary>
    protected RandomTransformLayer(string fillMode, string interpolation, double fillValue, ulong? seed, string? name) : base(seed, name)
    {
        FillMode = PreprocessingOptions.ParseFillMode($"{ClassName} '{Name}'", fillMode);
        Interpolation = PreprocessingOptions.ParseInterpolation($"{ClassName} '{Name}'", interpolation);
        FillValue = fillValue;
    }

    /// <summary>How points outside the image are filled.</summary>
    public FillMode FillMode { get; }
    /// <summary>How the transformed image is sampled.</summary>
    public InterpolationMode Interpolation { get; }
    /// <summary>The value of the constant fill mode.</summary>
    public double FillValue { get; }

    /// <summary>Writes image <paramref name="index"/>'s transform row (8 floats) for this step's <paramref name="seed"/>.</summary>
    public abstract void DrawTransform(ulong seed, int index, int height, int width, Span<float> row);

    /// <inheritdoc/>
    protected sealed override Tensor Augment(Tensor images, ulong seed, int n, int height, int width, int channels)
    {
        var rows = HostParameters(8 * n);
        for (int b = 0; b < n; b++) DrawTransform(seed, b, height, width, rows.AsSpan(8 * b, 8));
        var backend = images.Backend;
        var output = Output(backend, n, height, width, channels);
        var g = new ImageTransformGeometry(n, height, width, channels, height, width, FillMode, Interpolation, (float)FillValue);
        backend.ImageTransform(images.Buffer, UploadParameters(backend, "transforms", rows.AsSpan(0, 8 * n)), output.Buffer, g);
        return output;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["fill_mode"] = PreprocessingOptions.Name(FillMode);
        config["fill_value"] = FillValue;
        config["interpolation"] = PreprocessingOptions.Name(Interpolation);
        return config;
    }

    /// <summary>The (fill_mode, interpolation, fill_value) of a config, with Keras's defaults for the ones older files leave out.</summary>
    private protected static (string FillMode, string Interpolation, double FillValue) ReadSampling(JsonObject c, string owner)
    {
        JsonConfig.RequireChannelsLast(c, owner);
        return (JsonConfig.String(c, owner, "fill_mode", "reflect"), JsonConfig.String(c, owner, "interpolation", "bilinear"),
            JsonConfig.Double(c, owner, "fill_value", 0));
    }
}
