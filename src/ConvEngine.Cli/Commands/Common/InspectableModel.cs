using ConvEngine.Data.Images;
using ConvEngine.Import.ModelFormats;
using ConvEngine.Import.Onnx;
using ConvEngine.Kernels;
using ConvEngine.Models;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// Any model predict accepts, as engine layers whose outputs and weights can be read (summary, visualize): engine
/// folders, Keras JSON and .h5 through the shared loader (<see cref="ModelFormats"/>), ONNX files rebuilt as engine
/// layers (<see cref="OnnxToModel"/>; an operator it does not rebuild is refused, naming the node).
/// </summary>
internal sealed class InspectableModel : IDisposable
{
    private readonly IDisposable _owner;

    private InspectableModel(Model model, ModelFormat format, string weightsNote, IDisposable owner)
    {
        Model = model;
        Format = format;
        WeightsNote = weightsNote;
        _owner = owner;
    }

    public Model Model { get; }
    public ModelFormat Format { get; }
    /// <summary>Where the weights came from, or that they are random.</summary>
    public string WeightsNote { get; }

    public static InspectableModel Load(string path, string? weights, IBackend backend)
    {
        if (ModelFormats.Detect(path) == ModelFormat.Onnx)
        {
            if (weights is not null) throw new ArgumentException($"'{path}' is an ONNX model, which carries its own weights; leave out --weights.");
            var model = OnnxToModel.Convert(path, backend: backend);
            return new InspectableModel(model, ModelFormat.Onnx, $"weights from {path} (its graph rebuilt as engine layers, channels-last)", model);
        }
        var loaded = ModelFormats.Load(path, weights, backend);
        return new InspectableModel(loaded.Model!, loaded.Format, loaded.WeightsNote, loaded);
    }

    /// <summary>
    /// One sample for the model's input from <paramref name="file"/>: an image (decoded with the input's channels, 1 grey or
    /// 3 RGB, values 0–255, resized bilinearly to its size), or a NumPy .npy float32 array of one sample (or a batch, whose
    /// first sample is used) in the engine's channels-last layout — or, for an ONNX model, in ONNX's (C, H, W).
    /// </summary>
    public float[] LoadSample(string file, long maxPixels)
    {
        int[] shape = Model.InputShape;
        if (ModelInputs.IsNpy(file)) return LoadNpy(file, shape);
        if (shape.Length != 3 || shape[2] is not (1 or 3))
            throw new ArgumentException($"Model '{Model.Name}' takes inputs {Layers.SymbolicTensor.FormatShape(shape)}, not images: give a .npy array instead of '{file}'.");
        var image = ImageIO.Load(file, shape[2] == 3 ? ColorMode.Rgb : ColorMode.Grayscale, maxPixels);
        if (image.Height != shape[0] || image.Width != shape[1])
            image = Resize.Apply(image, shape[0], shape[1], Interpolation.Bilinear);
        return image.Pixels;
    }

    private float[] LoadNpy(string file, int[] shape)
    {
        var array = NpyFile.Read(file);
        int[] sample = array.Shape.Length == shape.Length + 1 && array.Shape[0] >= 1 ? array.Shape[1..] : array.Shape;
        long length = shape.Aggregate(1L, (a, d) => a * d);
        if (sample.SequenceEqual(shape)) return array.Data[..(int)length];
        // ONNX files describe images as (C, H, W); the rebuilt model reads (H, W, C).
        if (Format == ModelFormat.Onnx && shape.Length == 3 && sample.SequenceEqual(new[] { shape[2], shape[0], shape[1] }))
        {
            var hwc = new float[length];
            int pixels = shape[0] * shape[1], channels = shape[2];
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < pixels; p++) hwc[p * channels + c] = array.Data[c * pixels + p];
            return hwc;
        }
        throw new ArgumentException($"NumPy input '{file}' has shape {array.ShapeText} but model '{Model.Name}' takes samples of ({string.Join(", ", shape)}) (channels-last).");
    }

    public void Dispose() => _owner.Dispose();
}
