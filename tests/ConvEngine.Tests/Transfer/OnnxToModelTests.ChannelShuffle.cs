using ConvEngine.Import.Onnx;
using ConvEngine.Layers;
using ConvEngine.Tests.Import;
using NUnit.Framework;

namespace ConvEngine.Tests.Transfer;

/// <summary>ShuffleNet's channel shuffle (Reshape to rank 5, Transpose, Reshape) becomes Reshape → Permute → Reshape layers that compute what ONNX Runtime computes.</summary>
public partial class OnnxToModelTests
{
    /// <param name="inferred">The shapes as PyTorch's exporter writes them, with 0 (copy) and −1 (infer).</param>
    private static OnnxTestModel ShuffleBetweenConvs(bool inferred) => new OnnxTestModel().InputWithBatch("X", 0, 6, 3, 5)
        .Random("W1", 21, 6, 3, 1, 1).Random("B1", 22, 6).Random("W2", 23, 4, 6, 3, 3)
        .Ints("to5", inferred ? [0, 3, -1, 3, 5] : [2, 3, 2, 3, 5], 5).Ints("to4", inferred ? [0, -1, 3, 5] : [2, 6, 3, 5], 4)
        .Node("Conv", ["X", "W1", "B1"], ["c1"], ("group", 2L))
        .Node("Relu", ["c1"], ["r1"])
        .Node("Reshape", ["r1", "to5"], ["r5"])
        .Node("Transpose", ["r5"], ["t5"], ("perm", new long[] { 0, 2, 1, 3, 4 }))
        .Node("Reshape", ["t5", "to4"], ["shuffled"])
        .Node("Conv", ["shuffled", "W2"], ["Y"], ("pads", new long[] { 1, 1, 1, 1 }))
        .Output("Y");

    [TestCase(false)]
    [TestCase(true)]
    public void ChannelShuffle_BecomesReshapePermuteReshape_AndMatchesOnnxRuntime(bool inferred)
    {
        using var model = MatchesOnnxRuntime(ShuffleBetweenConvs(inferred), [2, 6, 3, 5]);
        Assert.That(model.Layers.Select(l => l.ClassName), Is.EqualTo(new[] { "InputLayer", "Conv2D", "Reshape", "Permute", "Reshape", "Conv2D" }));
        Assert.That(model.Layers.OfType<Permute>().Single().Dims, Is.EqualTo(new[] { 1, 3, 2 }));
    }

    // Any other use of a rank-5 value is refused by name, not guessed.
    [Test]
    public void OtherTransposeOfTheSplitChannels_IsRefusedNamingTheNode()
    {
        var m = new OnnxTestModel().InputWithBatch("X", 0, 6, 3, 5).Ints("to5", [0, 3, 2, 3, 5], 5)
            .Node("Reshape", ["X", "to5"], ["r5"])
            .Node("Transpose", ["r5"], ["Y"], ("perm", new long[] { 0, 1, 2, 4, 3 }))
            .Output("Y");
        var e = Assert.Throws<OnnxUnsupportedException>(() => OnnxToModel.Convert(Save(m), backend: _cpu).Dispose())!;
        Assert.That(e.Message, Does.Contain("Transpose").And.Contain("(0, 1, 2, 4, 3)"));
    }

    // ONNX's LeakyRelu (default alpha 0.01) fused into a Conv, and on its own: LeakyReLU layers of that slope, not the 0.2 "leaky_relu".
    [Test]
    public void LeakyRelu_BecomesLeakyReLULayers_OfTheNodesSlope()
    {
        var m = new OnnxTestModel().InputWithBatch("X", 0, 3, 4, 5).Random("W", 31, 4, 3, 3, 3).Random("B", 32, 4)
            .Node("Conv", ["X", "W", "B"], ["c"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("LeakyRelu", ["c"], ["l1"])
            .Node("Add", ["l1", "l1"], ["s"])
            .Node("LeakyRelu", ["s"], ["Y"], ("alpha", 0.25f))
            .Output("Y");
        using var model = MatchesOnnxRuntime(m, [2, 3, 4, 5]);
        Assert.That(model.Layers.OfType<LeakyReLU>().Select(l => l.NegativeSlope), Is.EqualTo(new[] { 0.01, 0.25 }).Within(1e-7));
        Assert.That(model.Layers.OfType<Conv2D>().Single().Activation.IsLinear, "the conv's own activation stays linear");
    }
}
