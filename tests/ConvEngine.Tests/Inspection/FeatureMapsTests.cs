using ConvEngine.Inspection;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using ConvEngine.Tests.Graph;
using ConvEngine.Tests.Training;
using TestData = ConvEngine.Tests.OpTests.TestData;
using NUnit.Framework;

namespace ConvEngine.Tests.Inspection;

/// <summary>FeatureMaps.Of returns what each layer outputs: checked against the reference convolution, Keras's sub-model recipe and Predict.</summary>
public class FeatureMapsTests
{
    /// <summary>Rescaling → Conv2D relu → MaxPool → Conv2D → Flatten → Dense sigmoid, on 6×6×2.</summary>
    private static Sequential SmallConvnet(IBackend backend) => new(backend: backend, seed: 11, name: "small")
    {
        new InputLayer([6, 6, 2], "image"),
        new Rescaling(0.5f, name: "scale"),
        new Conv2D(3, 3, padding: "same", activation: "relu", name: "conv_a"),
        new MaxPool2D(name: "pool"),
        new Conv2D(4, 2, name: "conv_b"),
        new Flatten(name: "flat"),
        new Dense(1, activation: "sigmoid", name: "out"),
    };

    [Test]
    public void FirstConv_EqualsTheReferenceConvolutionOfTheRescaledInput()
    {
        using var model = SmallConvnet(TestBackend.Instance);
        model.Initialize();
        var x = GraphReference.Uniform(2 * 72, 5, 0f, 4f);
        var maps = FeatureMaps.Of(model, x, 2, "conv_a");
        using var map = maps.Single();

        var conv = (Conv2D)model.GetLayer("conv_a");
        var scaled = Nd.FromFloats(x.Select(v => v * 0.5f).ToArray(), 2, 6, 6, 2);
        var expected = DoubleReference.Conv2D(scaled, Nd.FromFloats(conv.Kernel!.ToArray(), 3, 3, 2, 3), TestData.Widen(conv.Bias!.ToArray()),
            new Conv2DOptions { Padding = Padding.Same, Activation = ConvEngine.Kernels.KernelActivation.Relu });
        Assert.That(map.Values.Shape.ToArray(), Is.EqualTo(new[] { 2, 6, 6, 3 }));
        Approx.AssertClose(expected.Data, map.Values.ToArray(), 18, "conv_a");
        Assert.That(map.ShapeText, Is.EqualTo("(None, 6, 6, 3)"));
        Assert.That(map.Layer, Is.SameAs(conv));
    }

    // Keras's recipe for intermediate outputs: Model(inputs=model.input, outputs=layer.output).predict(x).
    [Test]
    public void EveryLayer_EqualsTheKerasSubModelOutput_AndTheLastEqualsPredict()
    {
        using var model = SmallConvnet(TestBackend.Instance);
        var x = GraphReference.Uniform(3 * 72, 6, -2f, 2f);
        string[] layers = ["scale", "conv_a", "pool", "conv_b", "flat", "out"];
        var maps = FeatureMaps.Of(model, x, 3, layers);
        try
        {
            Assert.That(maps.Select(m => m.Path), Is.EqualTo(layers), "in the order asked");
            foreach (var map in maps)
            {
                // Not disposed: the sub-model shares the model's layers, which the model disposes.
                var sub = new Model(model.Input, model.GetLayer(map.Path).Node!.Output, "sub_" + map.Path, TestBackend.Instance);
                Assert.That(map.Values.ToArray(), Is.EqualTo(sub.Predict(x, batchSize: 3)), map.Path);
            }
            Assert.That(maps[^1].Values.ToArray(), Is.EqualTo(model.Predict(x)), "the last layer is the model's output");
        }
        finally
        {
            foreach (var map in maps) map.Dispose();
        }
    }

    // A frozen base inside a classifier (transfer learning): its layers are "base/layer".
    [Test]
    public void NestedModel_LayersAreReachedByPath()
    {
        var inner = new Sequential(backend: TestBackend.Instance, seed: 3, name: "base")
        {
            new InputLayer([4, 4, 1], "base_in"),
            new Conv2D(2, 3, activation: "relu", name: "base_conv"),
        };
        using var outer = new Sequential(backend: TestBackend.Instance, seed: 4, name: "classifier")
        {
            new InputLayer([4, 4, 1], "pixels"),
            inner,
            new GlobalAveragePooling2D(name: "gap"),
            new Dense(1, name: "score"),
        };
        Assert.That(FeatureMaps.LayerPaths(outer), Does.Contain("base/base_conv").And.Contain("gap"));
        var x = GraphReference.Uniform(16, 8);
        var maps = FeatureMaps.Of(outer, x, 1, "base/base_conv", "gap");
        try
        {
            Assert.That(maps[0].Values.ToArray(), Is.EqualTo(inner.Predict(x)));
            var conv = maps[0].Values.ToArray();
            var mean = Enumerable.Range(0, 2).Select(c => Enumerable.Range(0, 4).Average(p => (double)conv[p * 2 + c])).ToArray();
            Assert.That(maps[1].Values.ToArray().Select(v => (double)v), Is.EqualTo(mean).Within(1e-6), "gap averages the nested conv's output");
        }
        finally
        {
            foreach (var map in maps) map.Dispose();
        }
    }

    [Test]
    public void UnknownLayer_IsAnErrorListingTheModelsLayers()
    {
        using var model = SmallConvnet(TestBackend.Instance);
        var e = Assert.Throws<ArgumentException>(() => FeatureMaps.Of(model, new float[72], 1, "conv_z"));
        Assert.That(e!.Message, Does.Contain("'conv_z'").And.Contain("image, scale, conv_a, pool, conv_b, flat, out"));
    }

    [Test]
    public void InputOfTheWrongShape_IsAShapeErrorNamingBoth()
    {
        using var model = SmallConvnet(TestBackend.Instance);
        using var input = Tensor.FromArray(TestBackend.Instance, new float[50], 1, 5, 5, 2);
        var e = Assert.Throws<ShapeException>(() => FeatureMaps.Of(model, input, "conv_a"));
        Assert.That(e!.Message, Does.Contain("(None, 6, 6, 2)").And.Contain("(1, 5, 5, 2)"));
    }
}
