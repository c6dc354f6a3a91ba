using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>The argument checks and geometry that DepthwiseConv2D, SeparableConv2D and Conv2DTranspose share with Conv2D.</summary>
internal static class ConvolutionSettings
{
    /// <summary>Checks kernel size, strides and dilation (positive) and parses the padding ("valid" or "same").</summary>
    public static Padding Check(string className, string name, Size2D kernelSize, Size2D strides, Size2D dilation, string padding)
    {
        if (kernelSize.Height <= 0 || kernelSize.Width <= 0) throw new ArgumentException($"{className} '{name}': kernel_size must be positive, got {kernelSize}.");
        if (strides.Height <= 0 || strides.Width <= 0) throw new ArgumentException($"{className} '{name}': strides must be positive, got {strides}.");
        if (dilation.Height <= 0 || dilation.Width <= 0) throw new ArgumentException($"{className} '{name}': dilation_rate must be positive, got {dilation}.");
        var parsed = Padding.Parse(padding);
        if (parsed.Mode is not (PaddingMode.Valid or PaddingMode.Same))
            throw new ArgumentException($"{className} '{name}': padding must be 'valid' or 'same', got '{padding}'.");
        return parsed;
    }

    /// <summary>The conv geometry for one sample; a shape error names the layer and the layer feeding it.</summary>
    public static Conv2DGeometry Geometry(Layer layer, SymbolicTensor input, TensorShape inputShape, TensorShape filterShape, Conv2DOptions options)
    {
        try
        {
            return Conv2DGeometry.Create($"{layer.ClassName} '{layer.Name}'", inputShape, filterShape, options);
        }
        catch (ShapeException e)
        {
            throw new ShapeException($"{e.Message} The input comes from '{input.Layer.Name}', which outputs {input.ShapeText}.");
        }
    }

    public static JsonObject GlorotUniformJson() => new() { ["class_name"] = "GlorotUniform", ["config"] = new JsonObject { ["seed"] = null } };
}
