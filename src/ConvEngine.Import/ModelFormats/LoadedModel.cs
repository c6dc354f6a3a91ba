using ConvEngine.Import.Onnx;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.ModelFormats;

/// <summary>
/// A model loaded by <see cref="ModelFormats.Load"/>, run the same way whatever its format. Shapes and data are in
/// the model's own layout: channels-last (H, W, C) for engine and Keras models, ONNX's (C, H, W) for ONNX models,
/// so that a NumPy input written for the original framework feeds it unchanged.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private readonly IBackend? _ownedBackend;

    internal LoadedModel(ModelFormat format, string path, Model? model, OnnxModel? onnx, string weightsNote, IBackend? ownedBackend = null)
    {
        Format = format;
        Path = path;
        Model = model;
        Onnx = onnx;
        WeightsNote = weightsNote;
        _ownedBackend = ownedBackend;
        if (onnx is not null)
        {
            if (onnx.Inputs.Count != 1 || onnx.Outputs.Count != 1)
                throw new NotSupportedException($"ONNX model '{path}' has {onnx.Inputs.Count} inputs and {onnx.Outputs.Count} outputs; running it here needs one of each.");
            var dims = onnx.Inputs[0].Dims;
            if (dims.Count == 0 || dims.Skip(1).Any(d => d is null))
                throw new NotSupportedException($"ONNX model '{path}': input {onnx.Inputs[0]} has a symbolic dimension besides the batch.");
            InputShape = dims.Skip(1).Select(d => d!.Value).ToArray();
            OutputShape = onnx.OutputDims.Values.Single()[1..];
            FixedBatch = dims[0];
        }
        else
        {
            InputShape = model!.InputShape.ToArray();
            OutputShape = model.OutputShape.ToArray();
        }
    }

    /// <summary>Which format the file was read as.</summary>
    public ModelFormat Format { get; }
    /// <summary>The path the model was loaded from.</summary>
    public string Path { get; }
    /// <summary>The engine model, for every format but ONNX.</summary>
    public Model? Model { get; }
    /// <summary>The ONNX inference graph, for ONNX files.</summary>
    public OnnxModel? Onnx { get; }
    /// <summary>Where the weights came from, or a warning that they are random.</summary>
    public string WeightsNote { get; }
    /// <summary>The name to report: the engine model's, or the ONNX file's.</summary>
    public string Name => Model?.Name ?? System.IO.Path.GetFileNameWithoutExtension(Path);
    /// <summary>One sample's input shape in the model's layout.</summary>
    public int[] InputShape { get; }
    /// <summary>One sample's output shape in the model's layout.</summary>
    public int[] OutputShape { get; }
    /// <summary>ONNX's (N, C, H, W) order, rather than the engine's (N, H, W, C).</summary>
    public bool ChannelsFirst => Onnx is not null;
    /// <summary>The batch size an ONNX input declares (runs then go one batch of that size at a time), or null.</summary>
    public int? FixedBatch { get; }

    /// <summary>(height, width, channels) of the images the model takes, or null when its input is not an image (rank 3 with 1 or 3 channels).</summary>
    public (int Height, int Width, int Channels)? ImageInput
    {
        get
        {
            if (InputShape.Length != 3) return null;
            var (h, w, c) = ChannelsFirst ? (InputShape[1], InputShape[2], InputShape[0]) : (InputShape[0], InputShape[1], InputShape[2]);
            return c is 1 or 3 ? (h, w, c) : null;
        }
    }

    /// <summary>Outputs for <paramref name="count"/> samples laid out (count, input shape) in the model's layout; (count, output shape) back.</summary>
    public float[] Predict(float[] inputs, int count, int batchSize = 32)
    {
        int sampleLength = InputShape.Aggregate(1, (a, d) => a * d);
        if (count < 1 || inputs.Length != (long)count * sampleLength)
            throw new ShapeException($"Model '{Name}': {inputs.Length} values are not {count} sample(s) of shape ({string.Join(", ", InputShape)}).");
        if (Model is not null) return Model.Predict(inputs, batchSize);

        int step = FixedBatch ?? batchSize;
        int outputLength = OutputShape.Aggregate(1, (a, d) => a * d);
        var outputs = new float[(long)count * outputLength];
        var backend = Onnx!.Backend;
        for (int start = 0; start < count; start += step)
        {
            int n = Math.Min(step, count - start);
            if (FixedBatch is { } fixedBatch && n != fixedBatch)
                throw new ShapeException($"ONNX model '{Path}' takes batches of exactly {fixedBatch}; {count} samples do not divide into them.");
            using var x = Tensor.FromArray(backend, inputs.AsSpan(start * sampleLength, n * sampleLength), [n, .. InputShape]);
            using var y = Onnx.Run(x);
            y.ToArray().CopyTo(outputs, (long)start * outputLength);
        }
        return outputs;
    }

    /// <summary>"(None, 224, 224, 3)"-style text of one sample's input, in the model's layout.</summary>
    public string InputShapeText => SymbolicTensor.FormatShape(InputShape);

    /// <summary>Frees the model's tensors and the cpu backend it created for itself, if it did.</summary>
    public void Dispose()
    {
        Model?.Dispose();
        Onnx?.Dispose();
        _ownedBackend?.Dispose();
    }
}
