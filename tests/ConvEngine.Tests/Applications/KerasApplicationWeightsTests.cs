using ConvEngine.Import.Keras;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Graph;
using ConvEngine.Tests.Import;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using ConvEngine.Tests.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// Keras HDF5 weights of the new layers, in tf.keras 2's layout (layer/layer/depthwise_kernel:0 …): each weight goes
/// to the engine weight of the same role, in Keras's order, and the model then computes what the reference computes
/// with the file's values. A file whose roles disagree with the model (a BatchNormalization saved without its
/// scale loaded into one without its center) is refused before anything is assigned.
/// </summary>
public class KerasApplicationWeightsTests
{
    private TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder("convengine-applications-weights-");
    [TearDown] public void TearDown() => _temp.Dispose();

    private static TestWeight Weight(string layer, string role, int[] shape, ulong seed, float scale = 0.5f) =>
        KerasTestFiles.Random($"{layer}/{role}:0", shape, seed, scale);

    private static Model Block(out DepthwiseConv2D dw, out SeparableConv2D sep, bool bnScale = false)
    {
        var input = new InputLayer([5, 5, 3], "input_1");
        dw = new DepthwiseConv2D(3, padding: "same", depthMultiplier: 2, name: "dw");
        var x = dw.Apply(input);
        x = new BatchNormalization(scale: bnScale, center: !bnScale, epsilon: 0.001, name: "bn").Apply(x);
        sep = new SeparableConv2D(4, 3, strides: 2, padding: "valid", name: "sep");
        return new Model(input, sep.Apply(x), "block", TestBackend.Instance, 1);
    }

    [Test]
    public void DepthwiseSeparableAndScalelessBatchNorm_LoadByRole_AndComputeTheReference()
    {
        var layers = new List<TestLayer>
        {
            new("input_1"),
            new("dw", Weight("dw", "depthwise_kernel", [3, 3, 3, 2], 1), Weight("dw", "bias", [6], 2)),
            new("bn", Weight("bn", "beta", [6], 3), Weight("bn", "moving_mean", [6], 4),
                KerasTestFiles.Random("bn/moving_variance:0", [6], 5, 0.4f) with { Values = KerasTestFiles.Uniform(6, 5, 0.4f).Select(v => v + 1f).ToArray() }),
            new("sep", Weight("sep", "depthwise_kernel", [3, 3, 6, 1], 6), Weight("sep", "pointwise_kernel", [1, 1, 6, 4], 7), Weight("sep", "bias", [4], 8)),
        };
        string path = _temp.File("block.weights.h5");
        KerasTestFiles.Write(path, layers);

        using var model = Block(out var dw, out var sep);
        var report = KerasWeights.Load(model, path);
        Assert.That(report.Loaded.Select(l => (l.FileLayer, l.WeightCount)), Is.EqualTo(new[] { ("dw", 2), ("bn", 3), ("sep", 3) }));

        var file = layers.ToDictionary(l => l.Name, l => l.Weights.ToDictionary(w => w.Name.Split('/')[1].Split(':')[0], w => w));
        Nd W(string layer, string role) => Nd.FromFloats(file[layer][role].Values, file[layer][role].Shape);
        var x = Nd.FromFloats(GraphReference.Uniform(2 * 75, 80), 2, 5, 5, 3);
        var d = DoubleReference.DepthwiseConv2D(x, W("dw", "depthwise_kernel"), W("dw", "bias").Data, 1, 1, PaddingMode.Same);
        var mean = W("bn", "moving_mean").Data;
        var variance = W("bn", "moving_variance").Data;
        var normalized = d.WithData(GraphReference.Normalize(d.Data, 6, mean, variance, 0.001, null, W("bn", "beta").Data));
        var expected = DoubleReference.SeparableConv2D(normalized, W("sep", "depthwise_kernel"), W("sep", "pointwise_kernel"), W("sep", "bias").Data, 2, 2, PaddingMode.Valid);
        Approx.AssertClose(expected.Data, model.Predict(Array.ConvertAll(x.Data, v => (float)v), 2), 54, "block with the file's weights");
        Assert.That(dw.DepthwiseKernel!.ToArray(), Is.EqualTo(file["dw"]["depthwise_kernel"].Values));
        Assert.That(sep.PointwiseKernel!.ToArray(), Is.EqualTo(file["sep"]["pointwise_kernel"].Values));
    }

    [Test]
    public void BatchNormRolesThatDisagree_AreRefused_NamingBothSides()
    {
        // Saved with scale=False (beta, moving_mean, moving_variance); the model has center=False (gamma, …).
        var layers = new List<TestLayer>
        {
            new("input_1"),
            new("dw", Weight("dw", "depthwise_kernel", [3, 3, 3, 2], 1), Weight("dw", "bias", [6], 2)),
            new("bn", Weight("bn", "beta", [6], 3), Weight("bn", "moving_mean", [6], 4), Weight("bn", "moving_variance", [6], 5)),
            new("sep", Weight("sep", "depthwise_kernel", [3, 3, 6, 1], 6), Weight("sep", "pointwise_kernel", [1, 1, 6, 4], 7), Weight("sep", "bias", [4], 8)),
        };
        string path = _temp.File("roles.weights.h5");
        KerasTestFiles.Write(path, layers);
        using var model = Block(out var dw, out _, bnScale: true);
        model.Initialize();
        var before = dw.DepthwiseKernel!.ToArray();

        var e = Assert.Throws<KerasImportException>(() => KerasWeights.Load(model, path))!;
        Assert.That(e.Message, Does.Contain("roles.weights.h5").And.Contain("'bn/beta:0'").And.Contain("'gamma'"));
        Assert.That(dw.DepthwiseKernel.ToArray(), Is.EqualTo(before), "nothing is assigned when a layer is refused");
    }
}
