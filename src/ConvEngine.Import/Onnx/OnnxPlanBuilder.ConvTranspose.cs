using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Import.Onnx;

/// <summary>ConvTranspose (1-D and 2-D; strides, pads, auto_pad, output_padding, output_shape, dilations, group), run by the backend's transposed conv.</summary>
internal sealed partial class OnnxPlanBuilder
{
    private void ConvTranspose()
    {
        var x = SpatialInput("ConvTranspose");
        var w = Constant(1, "weight");
        var b = Optional(2) is null ? null : Constant(2, "bias");
        var spec = OnnxConvTransposeSpec.Read(_node, x.Dims, w, Invalid, (why, attribute) => Unsupported(why, attribute));
        int oc = spec.OutputChannels;
        if (b is not null && (b.Dims.Length != 1 || b.Dims[0] != oc))
            throw Invalid($"bias dims ({string.Join(", ", b.Dims)}) must be ({oc}).");
        var options = spec.Options();
        var (kh, kw) = spec.Window;
        var g = ConvTranspose2DGeometry.Create($"ConvTranspose ({_node.Name})", new TensorShape(TensorDims(x.Dims)),
            new TensorShape(kh, kw, spec.OutputChannelsPerGroup, spec.InputChannels), options);
        var filter = _weights.Get(w, "IOHW→HWOI", () => (spec.EngineFilter(w), [kh, kw, spec.OutputChannelsPerGroup, spec.InputChannels]));
        var bias = b is null ? null : _weights.Get(b, "vector", () => (b.ToFloats(), [oc]));
        var output = g.OutputShape;
        int[] outDims = spec.Spatial == 1 ? [output[0], oc, output[2]] : [output[0], oc, output[1], output[2]];
        Set(0, Emit(outDims, [x], a => Ops.ConvTranspose2D(a[0], filter, bias, options)));
    }
}
