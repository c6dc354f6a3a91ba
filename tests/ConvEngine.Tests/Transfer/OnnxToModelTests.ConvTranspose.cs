using ConvEngine.Import.Onnx;
using ConvEngine.Layers;
using ConvEngine.Tests.Import;
using NUnit.Framework;

namespace ConvEngine.Tests.Transfer;

/// <summary>ConvTranspose becoming a Conv2DTranspose layer computes what ONNX Runtime computes, and trains.</summary>
public partial class OnnxToModelTests
{
    [Test]
    public void ConvTranspose_BecomesConv2DTranspose_AndMatchesOnnxRuntime()
    {
        var m = new OnnxTestModel().InputWithBatch("X", 0, 4, 3, 5).Random("W", 1, 4, 3, 3, 2).Random("B", 2, 6).Random("W2", 3, 6, 2, 2, 2)
            .Node("ConvTranspose", ["X", "W", "B"], ["Y"], ("group", 2L), ("strides", new long[] { 2, 3 }), ("pads", new long[] { 1, 0, 0, 1 }),
                ("output_padding", new long[] { 1, 2 }), ("dilations", new long[] { 1, 2 }))
            .Node("Relu", ["Y"], ["R"])
            .Node("ConvTranspose", ["R", "W2"], ["Z"], ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_LOWER"))
            .Output("Z");
        using var model = MatchesOnnxRuntime(m, [2, 4, 3, 5]);
        var layers = model.Layers.OfType<Conv2DTranspose>().ToList();
        Assert.That(layers, Has.Count.EqualTo(2));
        Assert.That((layers[0].Groups, layers[0].OutputPadding, layers[0].Padding.Top, layers[0].Padding.Right), Is.EqualTo((2, new Size2D(1, 2), 1, 1)));
    }
}
