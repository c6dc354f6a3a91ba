using System.Globalization;
using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;

namespace ConvEngine.Import.Transfer;

/// <summary>
/// A pretrained base's input preparation as a layer, so a saved transfer model takes plain pixels (0–255, RGB,
/// as the data loaders give them): y = reorder(x) · scale − mean, where reorder reverses the channels (RGB → BGR)
/// when asked and mean is one value per channel, or a whole mean image (H, W, C).
/// It covers Keras's preprocess_input modes and ML.NET's ResNet18 preparation:
/// caffe (VGG16): BGR, scale 1, mean (103.939, 116.779, 123.68); tf (Inception): scale 1/127.5, mean 1;
/// ResNet18's featurizer: BGR, scale 1, its 224×224 mean image.
/// The mean is a non-trainable weight, so it is saved with the model. Reordering and scaling run as one 1×1
/// convolution with a fixed permutation kernel, and a per-channel mean as that convolution's bias.
/// </summary>
public sealed class ImagePreprocessing : Layer
{
    /// <summary>The class name in saved configs.</summary>
    public const string KerasClassName = "ImagePreprocessing";

    private readonly int[] _meanShape;
    private Tensor? _kernel;
    private float[]? _tiledMean;
    private Conv2DGeometry _geometry;
    private int _tiledMeanBatch;

    /// <param name="meanShape">(C) for one mean per channel, or (H, W, C) for a mean image the size of the input.</param>
    /// <param name="reverseChannels">Reverse the channel order (RGB → BGR) first.</param>
    /// <param name="scale">Multiplies each value before the mean is subtracted.</param>
    /// <param name="name">The layer's name; null for a generated one.</param>
    public ImagePreprocessing(bool reverseChannels, double scale, int[] meanShape, string? name = null) : base(name)
    {
        if (!(scale != 0 && double.IsFinite(scale)))
            throw new ArgumentException($"ImagePreprocessing '{Name}': scale must be finite and non-zero, got {scale}.");
        if (meanShape.Length is not (1 or 3) || meanShape.Any(d => d < 1))
            throw new ArgumentException($"ImagePreprocessing '{Name}': the mean is (C) or (H, W, C); got ({string.Join(", ", meanShape)}).");
        ReverseChannels = reverseChannels;
        Scale = scale;
        _meanShape = (int[])meanShape.Clone();
    }

    /// <inheritdoc/>
    public override string ClassName => KerasClassName;
    /// <summary>Whether the channel order is reversed (RGB → BGR).</summary>
    public bool ReverseChannels { get; }
    /// <summary>The factor applied before the mean is subtracted.</summary>
    public double Scale { get; }
    /// <summary>The mean's shape: (C), or (H, W, C) for a mean image.</summary>
    public IReadOnlyList<int> MeanShape => _meanShape;
    /// <summary>The mean subtracted after reordering and scaling; null until the layer is applied.</summary>
    public Parameter? Mean { get; private set; }

    /// <summary>The layer never trains: its only weight is a constant of the pretrained model.</summary>
    public override bool Trainable { get => false; set { } }

    private bool PerChannelMean => _meanShape.Length == 1;

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3)
            throw ShapeError(input, "expects images (None, H, W, C)");
        bool fits = PerChannelMean ? _meanShape[0] == input.Shape[2] : _meanShape.SequenceEqual(input.Shape);
        if (!fits)
            throw ShapeError(input, $"subtracts a mean of shape ({string.Join(", ", _meanShape)}), which needs {(PerChannelMean ? $"{_meanShape[0]} channels" : $"input {SymbolicTensor.FormatShape(_meanShape)}")},");
        Mean ??= AddParameter("mean", _meanShape, Initializer.Zeros, trainable: false);
        return input.Shape;
    }

    /// <summary>The 1×1 kernel (1, 1, C, C): output channel o reads input channel C−1−o (or o), times the scale.</summary>
    private float[] PermutationKernel(int channels)
    {
        var kernel = new float[channels * channels];
        for (int o = 0; o < channels; o++)
        {
            int source = ReverseChannels ? channels - 1 - o : o;
            kernel[source * channels + o] = (float)Scale;   // HWIO: [0, 0, in, out]
        }
        return kernel;
    }

    private Conv2DGeometry GeometryFor(Tensor x)
    {
        if (_geometry.N != x.Shape[0] || _geometry.C == 0)
            _geometry = Conv2DGeometry.Create($"ImagePreprocessing '{Name}'", x.Shape, new TensorShape(1, 1, x.Shape[3], x.Shape[3]), new Conv2DOptions());
        return _geometry;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var backend = x.Backend;
        int channels = x.Shape[3];
        var mean = Mean?.Value ?? throw new InvalidOperationException($"ImagePreprocessing '{Name}' has no mean yet: initialize the model or load its weights.");
        if (_kernel is null || !ReferenceEquals(_kernel.Backend, backend))
        {
            _kernel = Workspace("permutation", backend, new TensorShape(1, 1, channels, channels));
            backend.Upload(PermutationKernel(channels), _kernel.Buffer);
            _tiledMeanBatch = 0;
        }
        DeviceBuffer? bias = null;
        if (PerChannelMean)
        {
            // The bias is −mean, recomputed every pass (C values) since the mean may have been reloaded.
            var negativeMean = Workspace("negative_mean", backend, new TensorShape(channels));
            backend.Fill(negativeMean.Buffer, 0f, channels);
            backend.Axpy(-1f, mean.Buffer, negativeMean.Buffer, channels);
            bias = negativeMean.Buffer;
        }
        var output = Workspace("output", backend, x.Shape);
        backend.Conv2D(x.Buffer, _kernel.Buffer, bias, output.Buffer, GeometryFor(x), Kernels.KernelActivation.None);
        if (!PerChannelMean)
        {
            // The backend has no broadcasting subtraction: the mean image is tiled once per batch size (and again
            // whenever the mean's values change, which the host copy detects).
            int batch = x.Shape[0];
            var tiled = Workspace("tiled_mean", backend, x.Shape);
            var current = mean.ToArray();
            if (_tiledMeanBatch != batch || _tiledMean is null || !current.AsSpan().SequenceEqual(_tiledMean))
            {
                var copies = new float[tiled.Length];
                for (int n = 0; n < batch; n++) current.CopyTo(copies, n * current.Length);
                backend.Upload(copies, tiled.Buffer);
                _tiledMeanBatch = batch;
                _tiledMean = current;
            }
            backend.Axpy(-1f, tiled.Buffer, output.Buffer, output.Length);
        }
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.Conv2DBackwardData(gradOutput.Buffer, _kernel!.Buffer, gradInput.Buffer, GeometryFor(x));
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["reverse_channels"] = ReverseChannels;
        config["scale"] = Scale;
        config["mean_shape"] = new JsonArray(_meanShape.Select(d => (JsonNode?)d).ToArray());
        return config;
    }

    /// <summary>Builds the layer from its config (registered in <see cref="LayerRegistry"/> by <see cref="TransferLayers.Register"/>).</summary>
    public static ImagePreprocessing FromConfig(JsonObject c)
    {
        string Where(string key) => $"ImagePreprocessing config: '{key}'";
        bool reverse = c["reverse_channels"] is JsonValue r && r.TryGetValue(out bool b) ? b : throw new FormatException($"{Where("reverse_channels")} must be true or false.");
        double scale = c["scale"] is JsonValue s && s.TryGetValue(out double d) ? d : throw new FormatException($"{Where("scale")} must be a number.");
        var shape = (c["mean_shape"] as JsonArray ?? throw new FormatException($"{Where("mean_shape")} must be a list of integers."))
            .Select(n => n is JsonValue v && v.TryGetValue(out int i) ? i : throw new FormatException($"{Where("mean_shape")} must be a list of integers.")).ToArray();
        string? name = c["name"] is JsonValue nv && nv.TryGetValue(out string? text) ? text : null;
        return new ImagePreprocessing(reverse, scale, shape, name);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name} (ImagePreprocessing: {(ReverseChannels ? "RGB→BGR, " : "")}×{Scale:G6} − mean{SymbolicTensor.FormatShape(_meanShape)[5..]})");
}
