using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// The base of Keras's image preprocessing layers (Resizing, CenterCrop, the Random* layers): one batch of images
/// (N, H, W, C) in, one out. They have no weights and pass no gradient back, so they must come before any layer
/// with weights (on the model's input, as the Keras guide and the course place them); building one elsewhere,
/// or on an input that is not an image batch, is an error naming the layer and its input.
/// </summary>
public abstract class ImagePreprocessingLayer : Layer
{
    private float[] _host = [];

    /// <summary>A preprocessing layer named <paramref name="name"/>.</summary>
    protected ImagePreprocessingLayer(string? name) : base(name) { }

    /// <inheritdoc/>
    protected sealed override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3)
            throw ShapeError(input, "takes a batch of images (None, height, width, channels)");
        if (FirstUpstreamWithWeights(input) is { } weighted)
            throw new ArgumentException(
                $"{ClassName} '{Name}' comes after '{weighted.Name}' ({weighted.ClassName}), which has weights; preprocessing layers pass no " +
                "gradient back, so they go before every layer with weights, on the model's input.");
        return ImageOutputShape(input, input.Shape[0], input.Shape[1], input.Shape[2]);
    }

    /// <summary>One image's output shape (H, W, C); where a layer needs a minimum size it checks it here.</summary>
    protected virtual int[] ImageOutputShape(SymbolicTensor input, int height, int width, int channels) => [height, width, channels];

    /// <inheritdoc/>
    protected sealed override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) => needInputGradient[0]
        ? throw new InvalidOperationException($"{ClassName} '{Name}' passes no gradient back; it must sit before every layer with weights.")
        : [null];

    /// <summary>A host array of at least <paramref name="length"/> floats for this step's parameters, reused between steps.</summary>
    protected float[] HostParameters(int length)
    {
        if (_host.Length < length) _host = new float[length];
        return _host;
    }

    /// <summary>Copies this step's per-image parameters (a few floats, not the images) into a device buffer of the layer.</summary>
    protected DeviceBuffer UploadParameters(IBackend backend, string slot, ReadOnlySpan<float> values)
    {
        var buffer = Workspace(slot, backend, new TensorShape(values.Length));
        backend.Upload(values, buffer.Buffer);
        return buffer.Buffer;
    }

    /// <summary>The output buffer of this step for (N, H, W, C) images.</summary>
    protected Tensor Output(IBackend backend, int n, int height, int width, int channels) =>
        Workspace("output", backend, new TensorShape(n, height, width, channels));

    private static Layer? FirstUpstreamWithWeights(SymbolicTensor input)
    {
        var seen = new HashSet<Node>();
        var pending = new Stack<Node>([input.Producer]);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (!seen.Add(node)) continue;
            if (node.Layer.Parameters.Count > 0) return node.Layer;
            foreach (var t in node.Inputs) pending.Push(t.Producer);
        }
        return null;
    }
}
