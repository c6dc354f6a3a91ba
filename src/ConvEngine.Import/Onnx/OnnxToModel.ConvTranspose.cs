using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;

namespace ConvEngine.Import.Onnx;

public static partial class OnnxToModel
{
    private sealed partial class Builder
    {
        /// <summary>ConvTranspose → Conv2DTranspose with explicit pads, so every ONNX size rule (pads, output_shape, auto_pad) carries over exactly.</summary>
        private void ConvTranspose()
        {
            var x = Image(0);
            var w = Constant(1, "weight");
            if (w.Dims.Length != 4)
                throw Unsupported($"a weight of dims ({string.Join(", ", w.Dims)}); only 2-D transposed convolutions convert.");
            var b = _node.Input(2) is null ? null : Constant(2, "bias");
            var shape = x.Tensor.Shape;
            var spec = OnnxConvTransposeSpec.Read(_node, [1, shape[2], shape[0], shape[1]], w, Invalid, (why, attribute) => Unsupported(why, attribute));
            var options = spec.Options();
            var layer = new Conv2DTranspose(spec.OutputChannels, new Size2D(spec.Kernel[0], spec.Kernel[1]), new Size2D(spec.Strides[0], spec.Strides[1]),
                options.Padding, new Size2D(spec.OutputPadding[0], spec.OutputPadding[1]), new Size2D(spec.Dilations[0], spec.Dilations[1]),
                spec.Groups, useBias: b is not null, name: LayerName());
            var y = Apply(layer, x.Tensor);
            _weights.Add((layer, "kernel", spec.EngineFilter(w)));
            if (b is not null) _weights.Add((layer, "bias", b.ToFloats()));
            Set(new Value(y, ValueKind.Image));
        }
    }
}
