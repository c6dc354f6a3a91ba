using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine;

/// <summary>Transposed convolution.</summary>
public static partial class Ops
{
    /// <summary>
    /// ConvTranspose2D: input (N,H,W,Cin), filter (KH,KW,Cout/groups,Cin) as Keras's Conv2DTranspose stores it, bias (Cout)
    /// or null; output (N,OH,OW,Cout) sized as <see cref="ConvTranspose2DGeometry.OutputLength"/> says.
    /// </summary>
    public static Tensor ConvTranspose2D(Tensor input, Tensor filter, Tensor? bias, ConvTranspose2DOptions? options = null)
    {
        options ??= new ConvTranspose2DOptions();
        var g = ConvTranspose2DGeometry.Create("ConvTranspose2D", input.Shape, filter.Shape, options);
        SameBackend("ConvTranspose2D", input, filter, bias);
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != g.OutputChannels))
            throw new ShapeException($"ConvTranspose2D: bias must be ({g.OutputChannels}); got {bias.Shape} with filter {filter.Shape}.");
        var output = Tensor.Zeros(input.Backend, g.OutputShape);
        input.Backend.ConvTranspose2D(input.Buffer, filter.Buffer, bias?.Buffer, output.Buffer, g, options.Activation);
        return output;
    }
}
