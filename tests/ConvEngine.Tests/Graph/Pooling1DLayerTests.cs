using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using ConvEngine.Tests.Training;
using TestData = ConvEngine.Tests.OpTests.TestData;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Graph;

/// <summary>
/// MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D and GlobalMaxPooling1D: the 2-D pool kernels with a height of
/// 1, checked against the reference's own 1-D window loop (DoubleReference.Pool1D), on both kernel families, by finite
/// differences through a model, and through their Keras configs.
/// </summary>
public class Pooling1DLayerTests
{
    public sealed record Pool1DCase(int N, int L, int C, int Pool, int? Stride, PaddingMode Mode, PoolKind Kind)
    {
        public override string ToString() => $"{Kind} n{N} L{L}x{C} p{Pool} s{Stride?.ToString() ?? "="} {Mode.ToString().ToLowerInvariant()}";
    }

    private static readonly Pool1DCase[] Cases =
    [
        new(2, 9, 3, 2, null, PaddingMode.Valid, PoolKind.Max),       // Keras defaults: pool 2, strides = pool, valid → floor(9/2) = 4
        new(2, 9, 3, 2, null, PaddingMode.Valid, PoolKind.Average),
        new(1, 10, 2, 3, 2, PaddingMode.Same, PoolKind.Max),          // same: ceil(10/2) = 5, pad 1 before? (4·2+3−10 = 1 → 0 before, 1 after)
        new(1, 10, 2, 3, 2, PaddingMode.Same, PoolKind.Average),      // the padded cell leaves the divisor (TF)
        new(3, 7, 4, 3, 1, PaddingMode.Valid, PoolKind.Average),
        new(1, 5, 1, 5, null, PaddingMode.Same, PoolKind.Max),
    ];

    private static IEnumerable<TestCaseData> ForwardCases() => BackendCases.Cross("pool2d", Cases, _ => true);

    [TestCaseSource(nameof(ForwardCases))]
    public void Ops_And_Layer_MatchThe1DReference(BackendCase backendCase, Pool1DCase c)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(TestData.For(c), c.N * c.L * c.C);
        var expected = DoubleReference.Pool1D(Nd.FromFloats(x, c.N, c.L, c.C), c.Pool, c.Stride ?? c.Pool, c.Mode, c.Kind);

        using var input = Tensor.FromArray(backend, x, c.N, c.L, c.C);
        var padding = new Padding(c.Mode);
        using var op = c.Kind == PoolKind.Max ? Ops.MaxPool1D(input, c.Pool, c.Stride, padding) : Ops.AveragePool1D(input, c.Pool, c.Stride, padding);
        Assert.That(op.Shape.ToArray(), Is.EqualTo(expected.Shape));
        Approx.AssertClose(expected.Data, op.ToArray(), c.Pool, $"Ops {c}");

        string mode = c.Mode.ToString().ToLowerInvariant();
        Layer layer = c.Kind == PoolKind.Max ? new MaxPooling1D(c.Pool, c.Stride, mode) : new AveragePooling1D(c.Pool, c.Stride, mode);
        var inputLayer = new InputLayer(c.L, c.C);
        using var model = new Model(inputLayer, layer.Apply(inputLayer), "pool1d", backend, 1);
        Assert.That(model.OutputShape, Is.EqualTo(expected.Shape[1..]), "Keras's output length");
        Approx.AssertClose(expected.Data, model.Predict(x, batchSize: c.N), c.Pool, $"layer {c}");
    }

    private static IEnumerable<TestCaseData> GlobalCases() =>
        from b in BackendCases.For("global-pool")
        from kind in new[] { PoolKind.Average, PoolKind.Max }
        select new TestCaseData(b, kind).SetArgDisplayNames(b.ToString(), kind.ToString());

    [TestCaseSource(nameof(GlobalCases))]
    public void GlobalPooling1D_IsTheMeanOrMaxOverTheSteps(BackendCase backendCase, PoolKind kind)
    {
        var backend = backendCase.Acquire();
        var x = TestData.Uniform(new Random(7), 2 * 6 * 3);
        var expected = DoubleReference.GlobalPool(Nd.FromFloats(x, 2, 6, 3), kind);
        var inputLayer = new InputLayer(6, 3);
        Layer layer = kind == PoolKind.Max ? new GlobalMaxPooling1D() : new GlobalAveragePooling1D();
        using var model = new Model(inputLayer, layer.Apply(inputLayer), "gp1d", backend, 1);
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 3 }));
        Approx.AssertClose(expected.Data, model.Predict(x, batchSize: 2), 6, $"{kind} layer");
        using var input = Tensor.FromArray(backend, x, 2, 6, 3);
        using var op = kind == PoolKind.Max ? Ops.GlobalMaxPool1D(input) : Ops.GlobalAveragePool1D(input);
        Approx.AssertClose(expected.Data, op.ToArray(), 6, $"{kind} op");
    }

    // Every pool sits between trained layers, so a wrong backward (a gradient to the wrong step, a wrong divisor) shows in
    // the weights' gradients, compared with central differences of the loss.
    [TestCase("max")]
    [TestCase("average")]
    public void Backward_ThroughEveryPool1D_MatchesFiniteDifferences(string kind)
    {
        var series = new InputLayer(12, 2);
        var conv = new Conv1D(3, 3, padding: "causal", activation: "tanh", name: "conv").Apply(series);
        var pooled = (kind == "max" ? (Layer)new MaxPooling1D(3, 2, "same", name: "pool") : new AveragePooling1D(3, 2, "same", name: "pool")).Apply(conv);
        var conv2 = new Conv1D(4, 2, name: "conv2").Apply(pooled);
        var global = (kind == "max" ? (Layer)new GlobalMaxPooling1D(name: "global") : new GlobalAveragePooling1D(name: "global")).Apply(conv2);
        using var model = new Model(series, new Dense(1, name: "out").Apply(global), "series", TestBackend.Instance, 5);
        model.Compile("sgd", "mse");
        var batch = new Batch(GraphReference.Uniform(3 * 24, 41, -1f, 1f), [3, 12, 2], [0.4f, -0.2f, 0.9f], [3, 1]);
        GraphGradientTests.CheckTrainableWeights(model, batch);
    }

    // Keras writes pool_size and strides of 1-D layers as lists of one, strides null for "the pool size".
    [Test]
    public void KerasConfigs_BuildTheLayers_AndRoundTrip()
    {
        var max = LayerRegistry.Create("MaxPooling1D", JsonNode.Parse("""{"name": "m", "pool_size": [3], "strides": null, "padding": "same", "data_format": "channels_last"}""")!.AsObject());
        Assert.That(max, Is.TypeOf<MaxPooling1D>());
        Assert.That(((MaxPooling1D)max).PoolSize, Is.EqualTo(3));
        Assert.That(((MaxPooling1D)max).Strides, Is.EqualTo(3));
        Assert.That(LayerRegistry.Create("AvgPool1D", JsonNode.Parse("""{"name": "a", "pool_size": 2, "strides": 1}""")!.AsObject()), Is.TypeOf<AveragePooling1D>());
        Assert.That(LayerRegistry.Create("GlobalAvgPool1D", JsonNode.Parse("""{"name": "g"}""")!.AsObject()), Is.TypeOf<GlobalAveragePooling1D>());
        Assert.That(LayerRegistry.Create("GlobalMaxPool1D", JsonNode.Parse("""{"name": "h"}""")!.AsObject()), Is.TypeOf<GlobalMaxPooling1D>());
        Assert.Throws<FormatException>(() => LayerRegistry.Create("GlobalMaxPooling1D", JsonNode.Parse("""{"name": "k", "keepdims": true}""")!.AsObject()));

        var series = new InputLayer(10, 2);
        var y = new MaxPooling1D(3, 2, "same", name: "pool").Apply(series);
        y = new AveragePooling1D(name: "avg").Apply(y);
        y = new GlobalMaxPooling1D(name: "gmax").Apply(y);
        using var model = new Model(series, new Dense(2, name: "d").Apply(y), "pools", TestBackend.Instance, 3);
        var x = GraphReference.Uniform(20, 9);
        float[] before = model.Predict(x);
        string dir = Path.Combine(Path.GetTempPath(), $"convengine-pool1d-{Guid.NewGuid():N}");
        try
        {
            model.Save(dir);
            using var loaded = Model.Load(dir, TestBackend.Instance);
            Assert.That(loaded.Layers.Select(l => l.ClassName), Does.Contain("MaxPooling1D").And.Contain("AveragePooling1D").And.Contain("GlobalMaxPooling1D"));
            Assert.That(loaded.Predict(x), Is.EqualTo(before));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void PoolLongerThanTheSeries_WithValidPadding_IsANamedShapeError()
    {
        var series = new InputLayer([3, 1], "short");
        var e = Assert.Throws<ShapeException>(() => new MaxPooling1D(4, name: "wide").Apply(series));
        Assert.That(e!.Message, Does.Contain("MaxPooling1D 'wide'").And.Contain("short"));
    }
}
