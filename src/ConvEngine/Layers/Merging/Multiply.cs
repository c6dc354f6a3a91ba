using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Multiply: the elementwise product of two or more inputs of one shape, or of two inputs where one is
/// broadcast over the other's positions, as Keras's merge layers broadcast axes of size 1: (None, 1, 1, C) ×
/// (None, H, W, C) gates channels in squeeze-and-excite blocks (EfficientNet, MobileNetV3), and (None, 1, 1, 1)
/// scales whole samples. The gradient of each input is the product of the others (summed over the broadcast axes).
/// </summary>
public sealed class Multiply : Layer
{
    /// <summary>Which input is broadcast (−1 when all have one shape), and its last axis (1 or the channels).</summary>
    private int _broadcastInput = -1, _scaleChannels;

    /// <summary>The elementwise product of its inputs, which must have one shape.</summary>
    public Multiply(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string ClassName => "Multiply";

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        if (inputs.Count < 2)
            throw new ArgumentException($"Multiply '{Name}' multiplies at least two inputs; got {inputs.Count} ({string.Join(", ", inputs.Select(i => $"'{i.Layer.Name}'"))}).");
        if (inputs.All(i => i.Shape.SequenceEqual(inputs[0].Shape)))
        {
            _broadcastInput = -1;
            return inputs[0].Shape;
        }
        if (inputs.Count == 2)
            for (int small = 0; small < 2; small++)
                if (Broadcasts(inputs[small].Shape, inputs[1 - small].Shape))
                {
                    _broadcastInput = small;
                    _scaleChannels = inputs[small].Shape[^1];
                    return inputs[1 - small].Shape;
                }
        throw ShapeError(inputs[1], $"multiplies inputs of one shape, or one of (None, 1, …, 1, C) or (None, 1, …, 1) broadcast over the other: '{inputs[0].Layer.Name}' outputs {inputs[0].ShapeText},");
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var backend = inputs[0].Backend;
        if (_broadcastInput >= 0)
        {
            var full = inputs[1 - _broadcastInput];
            var output = Workspace("output", backend, full.Shape);
            var (n, spatial, channels) = Layout(full);
            backend.MultiplyBroadcast(full.Buffer, inputs[_broadcastInput].Buffer, output.Buffer, n, spatial, channels, _scaleChannels);
            return output;
        }
        var product = Workspace("output", backend, inputs[0].Shape);
        backend.Multiply(inputs[0].Buffer, inputs[1].Buffer, product.Buffer, product.Length);
        for (int i = 2; i < inputs.Count; i++) backend.Multiply(product.Buffer, inputs[i].Buffer, product.Buffer, product.Length);
        return product;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        var backend = gradOutput.Backend;
        var gradients = new Tensor?[LastInputs.Count];
        if (_broadcastInput >= 0)
        {
            int fullIndex = 1 - _broadcastInput;
            var full = LastInputs[fullIndex];
            var scale = LastInputs[_broadcastInput];
            var (n, spatial, channels) = Layout(full);
            if (needInputGradient[fullIndex])
            {
                var gradFull = Workspace($"grad_input_{fullIndex}", backend, full.Shape);
                backend.MultiplyBroadcast(gradOutput.Buffer, scale.Buffer, gradFull.Buffer, n, spatial, channels, _scaleChannels);
                gradients[fullIndex] = gradFull;
            }
            if (needInputGradient[_broadcastInput])
            {
                var gradScale = Workspace($"grad_input_{_broadcastInput}", backend, scale.Shape);
                backend.MultiplyBroadcastBackward(full.Buffer, gradOutput.Buffer, gradScale.Buffer, n, spatial, channels, _scaleChannels);
                gradients[_broadcastInput] = gradScale;
            }
            return gradients;
        }
        long length = gradOutput.Length;
        for (int i = 0; i < LastInputs.Count; i++)
        {
            if (!needInputGradient[i]) continue;
            var grad = Workspace($"grad_input_{i}", backend, gradOutput.Shape);
            backend.Copy(gradOutput.Buffer, grad.Buffer, length);
            for (int j = 0; j < LastInputs.Count; j++)
                if (j != i) backend.Multiply(grad.Buffer, LastInputs[j].Buffer, grad.Buffer, length);
            gradients[i] = grad;
        }
        return gradients;
    }

    /// <summary>Whether <paramref name="scale"/> is (1, …, 1, C) or (1, …, 1, 1) against <paramref name="full"/> (…, C).</summary>
    private static bool Broadcasts(int[] scale, int[] full) =>
        scale.Length == full.Length && scale[..^1].All(d => d == 1) && (scale[^1] == 1 || scale[^1] == full[^1]);

    /// <summary>(samples, positions, channels) of the full-size input.</summary>
    private static (int N, int Spatial, int Channels) Layout(Tensor full)
    {
        int n = full.Shape[0], channels = full.Shape[-1];
        return (n, (int)(full.Length / n / channels), channels);
    }

    internal static Multiply FromConfig(JsonObject c) =>
        new(JsonConfig.String(c, "Multiply", "name")) { Trainable = JsonConfig.Bool(c, "Multiply", "trainable", true) };
}
