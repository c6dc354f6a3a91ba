using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

public class LayerTests
{
    [Test]
    public void DenseShapeMismatch_NamesBothLayersAndShapes()
    {
        var dense = new Dense(10, name: "dense_1");
        dense.Apply(new InputLayer(1600));
        var flat = new Flatten(name: "flatten").Apply(new InputLayer(28, 28, 2));   // 28·28·2 = 1568
        var error = Assert.Throws<ShapeException>(() => dense.Apply(flat))!;
        Assert.That(error.Message, Does.StartWith("Dense 'dense_1' expects 1600 features but 'flatten' outputs (None, 1568)"));
    }

    [Test]
    public void ConvOnFlatInput_NamesBothLayers()
    {
        var flat = new Flatten(name: "flat").Apply(new InputLayer(4, 4, 1));
        var error = Assert.Throws<ShapeException>(() => new Conv2D(8, 3, name: "conv").Apply(flat))!;
        Assert.That(error.Message, Does.Contain("Conv2D 'conv' expects a 4-D input (None, H, W, C) but 'flat' outputs (None, 16)"));
    }

    [Test]
    public void KernelLargerThanInput_NamesLayerAndProducer()
    {
        var error = Assert.Throws<ShapeException>(() => new Sequential
        {
            new InputLayer([8, 8, 1], "pixels"),
            new MaxPool2D(4, name: "pool"),
            new Conv2D(4, 3, name: "too_big"),
        })!;
        Assert.That(error.Message, Does.Contain("Conv2D 'too_big'").And.Contain("'pool'").And.Contain("(None, 2, 2, 1)"));
    }

    [Test]
    public void ApplyingALayerTwice_IsRejected()
    {
        var dense = new Dense(2, name: "once");
        dense.Apply(new InputLayer(3));
        var error = Assert.Throws<InvalidOperationException>(() => dense.Apply(new InputLayer(3)))!;
        Assert.That(error.Message, Does.Contain("'once' is already applied"));
    }

    // keras-semantics.md A: same → ceil(n/s); valid → ceil((n − dk + 1)/s); pooling strides default to the pool size.
    [Test]
    public void OutputShapes_FollowKerasFormulas()
    {
        var x = new InputLayer(28, 28, 3);
        Assert.That(new Conv2D(8, 3, strides: 2, padding: "same").Apply(x).Shape, Is.EqualTo(new[] { 14, 14, 8 }));
        Assert.That(new Conv2D(8, 5, strides: 2).Apply(x).Shape, Is.EqualTo(new[] { 12, 12, 8 }));
        Assert.That(new Conv2D(8, 3, dilationRate: 2).Apply(x).Shape, Is.EqualTo(new[] { 24, 24, 8 }));
        Assert.That(new Conv2D(8, (3, 1)).Apply(x).Shape, Is.EqualTo(new[] { 26, 28, 8 }));
        Assert.That(new MaxPool2D(3).Apply(x).Shape, Is.EqualTo(new[] { 9, 9, 3 }));
        Assert.That(new AveragePooling2D(2, padding: "same").Apply(new InputLayer(5, 5, 1)).Shape, Is.EqualTo(new[] { 3, 3, 1 }));
        Assert.That(new GlobalAveragePooling2D().Apply(x).Shape, Is.EqualTo(new[] { 3 }));
        Assert.That(new Dense(4).Apply(new InputLayer(7, 5)).Shape, Is.EqualTo(new[] { 7, 4 }));
        var series = new InputLayer(10, 2);
        Assert.That(new Conv1D(4, 3).Apply(series).Shape, Is.EqualTo(new[] { 8, 4 }));
        Assert.That(new Conv1D(4, 3, padding: "causal", dilationRate: 2).Apply(series).Shape, Is.EqualTo(new[] { 10, 4 }));
    }

    // keras-semantics.md A: glorot_uniform limit √(6/(fan_in+fan_out)), for conv kernels fan_in = kh·kw·in, fan_out = kh·kw·out.
    [Test]
    public void ConvKernel_IsGlorotUniformWithConvFans_BiasIsZero()
    {
        var x = new InputLayer([16, 16, 8], "x");
        var conv = new Conv2D(16, 3, name: "c");
        using var model = new Model(x, conv.Apply(x), backend: TestBackend.Instance, seed: 3);
        model.Initialize();
        double limit = Math.Sqrt(6.0 / (3 * 3 * 8 + 3 * 3 * 16));
        var kernel = conv.Kernel!.ToArray();
        Assert.That(kernel.Max(), Is.LessThanOrEqualTo(limit).And.GreaterThan(0.9 * limit));
        Assert.That(kernel.Min(), Is.GreaterThanOrEqualTo(-limit).And.LessThan(-0.9 * limit));
        Assert.That(kernel.Average(), Is.EqualTo(0).Within(0.05 * limit));
        Assert.That(conv.Bias!.ToArray(), Is.All.EqualTo(0f));
    }

    // keras-semantics.md A: Conv1D "causal" pads dilation·(k−1) on the left only, so output t sees inputs up to t.
    [Test]
    public void Conv1DCausal_OutputAtTSeesOnlyThePast()
    {
        var series = new InputLayer([5, 1], "series");
        var conv = new Conv1D(1, 2, padding: "causal", useBias: false, name: "causal");
        using var model = new Model(series, conv.Apply(series), backend: TestBackend.Instance, seed: 1);
        model.Initialize();
        conv.Kernel!.Assign(TestBackend.Instance, [10f, 1f]);   // kernel (k, in, out): tap 0 on x[t−1], tap 1 on x[t]
        var y = model.Predict([1f, 2f, 3f, 4f, 5f], batchSize: 1);
        Assert.That(y, Is.EqualTo(new[] { 1f, 10f + 2f, 20f + 3f, 30f + 4f, 40f + 5f }));
    }

    [Test]
    public void Sequential_WithoutInput_SaysToAddOne()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new Sequential { new Dense(3, name: "first") })!;
        Assert.That(error.Message, Does.Contain("add an Input(...) before Dense 'first'"));
    }

    [Test]
    public void UnknownActivationAndPadding_AreNamedErrors()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new Dense(3, activation: "swishy"))!.Message, Does.Contain("Unknown activation 'swishy'"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Conv2D(3, 3, padding: "causal", name: "c2"))!.Message, Does.Contain("Conv2D 'c2'"));
    }

    [Test]
    public void ModelJson_RoundTrip_RebuildsTheSameArchitecture()
    {
        var model = new Sequential(name: "roundtrip", backend: TestBackend.Instance, seed: 1)
        {
            new InputLayer([12, 12, 3], "img"),
            new Rescaling(1.0 / 255, name: "scale"),
            new Conv2D(4, (3, 2), strides: (1, 2), padding: "same", activation: "relu", name: "c"),
            new AveragePooling2D(2, name: "avg"),
            new Dropout(0.25, name: "drop"),
            new GlobalAveragePooling2D(name: "gap"),
            new Activation("tanh", name: "act"),
            new Dense(3, activation: "softmax", useBias: false, name: "probs"),
        };
        model.Layers[1].Trainable = false;
        var rebuilt = Model.FromJson(model.ToJson(), TestBackend.Instance, seed: 1);
        Assert.That(rebuilt, Is.InstanceOf<Sequential>());
        Assert.That(rebuilt.Summary(), Is.EqualTo(model.Summary()));
        Assert.That(rebuilt.ToJson(), Is.EqualTo(model.ToJson()));
        var conv = (Conv2D)rebuilt.GetLayer("c");
        Assert.That((conv.KernelSize, conv.Strides, conv.Padding, conv.Activation.Name, conv.Trainable),
            Is.EqualTo(((Size2D)(3, 2), (Size2D)(1, 2), Padding.Same, "relu", false)));
    }

    [Test]
    public void FunctionalJson_RoundTrip_KeepsTheGraph()
    {
        var input = new InputLayer([4], "in");
        var a = new Dense(3, activation: "tanh", name: "a").Apply(input);
        var b = new Dense(3, name: "b").Apply(a);
        var sum = new SumOfTwo("sum").Apply(a, b);
        using var model = new Model(input, new Dense(1, name: "out").Apply(sum), "graph", TestBackend.Instance, 1);
        LayerRegistry.Register("SumOfTwo", c => new SumOfTwo(c["name"]!.GetValue<string>()));
        var rebuilt = Model.FromJson(model.ToJson(), TestBackend.Instance);
        Assert.That(rebuilt.Nodes.Select(n => $"{n.Layer.Name}<{string.Join(",", n.Inputs.Select(i => i.Layer.Name))}"),
            Is.EqualTo(model.Nodes.Select(n => $"{n.Layer.Name}<{string.Join(",", n.Inputs.Select(i => i.Layer.Name))}")));
        Assert.That(model.ToJson(), Does.Contain("\"inbound_nodes\"").And.Contain("\"output_layers\""));
    }
}
