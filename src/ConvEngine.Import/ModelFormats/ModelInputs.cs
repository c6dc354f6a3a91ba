using ConvEngine.Data.Images;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Import.ModelFormats;

/// <summary>Samples read from one input file, laid out (Count, model input shape) in the model's layout.</summary>
public sealed record ModelInput(string File, float[] Data, int Count);

/// <summary>
/// Turns input files into a <see cref="LoadedModel"/>'s samples: images (decoded as the model's channels ask,
/// 1 greyscale or 3 RGB, values 0–255, resized bilinearly to its input size unless told not to, and put in (C, H, W)
/// order for an ONNX model), or NumPy .npy arrays of float32 holding one sample (the model's input shape) or a batch
/// (N, input shape) in the model's own layout.
/// </summary>
public static class ModelInputs
{
    /// <summary>Whether <paramref name="path"/> is read as a NumPy array (by its extension).</summary>
    public static bool IsNpy(string path) => string.Equals(Path.GetExtension(path), ".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads <paramref name="path"/>, an image or a .npy file, as samples for <paramref name="model"/>.</summary>
    /// <param name="resize">Resize images to the model's input size; when false, an image of another size is an error saying both sizes.</param>
    /// <param name="path">An image (PNG, JPEG, BMP, GIF) or a float32 .npy array.</param>
    /// <param name="model">The model the samples are for: its input shape and layout decide the conversion.</param>
    public static ModelInput Load(string path, LoadedModel model, bool resize = true) =>
        IsNpy(path) ? LoadNpy(path, model) : LoadImage(path, model, resize);

    /// <summary>Reads the image at <paramref name="path"/> as one sample for <paramref name="model"/>: its channels, size (resized when <paramref name="resize"/>) and layout.</summary>
    public static ModelInput LoadImage(string path, LoadedModel model, bool resize = true)
    {
        var (height, width, channels) = model.ImageInput ?? throw new ShapeException(
            $"Model '{model.Name}' takes inputs {model.InputShapeText}, not images ((None, H, W, 1|3), or (None, 1|3, H, W) for ONNX): give it .npy arrays instead of '{path}'.");
        var image = ImageIO.Load(path, channels == 3 ? ColorMode.Rgb : ColorMode.Grayscale);
        float[] pixels = image.Pixels;
        if (image.Height != height || image.Width != width)
        {
            if (!resize)
                throw new ShapeException($"Image '{path}' is {image.Height}x{image.Width} but model '{model.Name}' takes {height}x{width} images (input {model.InputShapeText}); " +
                    "resize the image, or load it with resize: true.");
            pixels = Resize.Apply(image, height, width, Interpolation.Bilinear).Pixels;
        }
        if (model.ChannelsFirst) pixels = ToChannelsFirst(pixels, height, width, channels);
        return new ModelInput(path, pixels, 1);
    }

    /// <summary>Reads the float32 .npy array at <paramref name="path"/> as samples for <paramref name="model"/>: one sample, or a batch with a leading dimension; non-finite values are refused.</summary>
    public static ModelInput LoadNpy(string path, LoadedModel model)
    {
        var array = NpyFile.Read(path);
        // A NaN or infinity propagates to a plausible-looking probability (ReLU and max pooling drop NaNs), so it is refused here.
        int bad = Array.FindIndex(array.Data, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new InvalidDataException($"NumPy input '{path}' holds {array.Data[bad]} at flat index {bad} (of {array.Data.Length} values); a model input must be finite.");
        int[] sample = model.InputShape;
        string layout = model.ChannelsFirst ? "ONNX's channels-first layout" : "channels-last (H, W, C) layout";
        if (array.Shape.SequenceEqual(sample)) return new ModelInput(path, array.Data, 1);
        if (array.Shape.Length == sample.Length + 1 && array.Shape.AsSpan(1).SequenceEqual(sample) && array.Shape[0] > 0)
            return new ModelInput(path, array.Data, array.Shape[0]);
        throw new ShapeException($"NumPy input '{path}' has shape {array.ShapeText} but model '{model.Name}' takes samples of " +
            $"({string.Join(", ", sample)}) in {layout}: give one sample of that shape or a batch (N, {string.Join(", ", sample)}).");
    }

    /// <summary>(H, W, C) → (C, H, W).</summary>
    public static float[] ToChannelsFirst(ReadOnlySpan<float> hwc, int height, int width, int channels)
    {
        var chw = new float[hwc.Length];
        int pixels = height * width;
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++)
                chw[c * pixels + p] = hwc[p * channels + c];
        return chw;
    }
}
