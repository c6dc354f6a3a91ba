using System.Text.Json.Nodes;
using ConvEngine.Import.Keras;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using NUnit.Framework;

namespace ConvEngine.Tests.Augment;

/// <summary>The preprocessing layers in model configs: the engine's own round trip, Keras 2 / Keras 3 / tf.keras 2.3–2.5 spellings, and bad arguments.</summary>
public class AugmentConfigTests
{
    private static Sequential EveryLayer() => new(name: "augmented", seed: 1)
    {
        new InputLayer(32, 40, 3),
        new Resizing(30, 36, "nearest", cropToAspectRatio: true),
        new CenterCrop(28, 34),
        new RandomCrop(26, 30, seed: 4),
        new RandomFlip("horizontal", seed: 7),
        new RandomContrast((0.2, 0.6)),
        new RandomContrast(0.5, semantics: KerasSemantics.Keras3, valueRange: (0, 1)),
        new RandomBrightness(0.2, (0, 255)),
        new RandomRotation((-0.1, 0.3), "constant", "nearest", fillValue: 0.5),
        new RandomTranslation(0.1, (-0.2, 0.1), "wrap"),
        new RandomZoom(0.2, -0.1, "nearest"),
        new RandomZoom((0.1, 0.3)),
        new RandomWidth(0.15),
        new RandomHeight((-0.1, 0.2), "nearest"),
        new Rescaling(1 / 255.0),
        new Conv2D(2, 3),
    };

    [Test]
    public void EngineConfig_RoundTripsEveryLayerAndArgument()
    {
        using var model = EveryLayer();
        var json = ModelConfig.ToJson(model);
        using var back = ModelConfig.FromJson((JsonObject)json.DeepClone());
        Assert.That(ModelConfig.ToJson(back).ToJsonString(), Is.EqualTo(json.ToJsonString()));
        Assert.That(back.Layers.Select(l => l.ClassName), Is.EqualTo(model.Layers.Select(l => l.ClassName)));
        var contrast = back.Layers.OfType<RandomContrast>().ToArray();
        Assert.That(contrast.Select(c => c.Semantics), Is.EqualTo(new[] { KerasSemantics.Keras2, KerasSemantics.Keras3 }));
        Assert.That(contrast[1].ValueRange, Is.EqualTo((0.0, 1.0)));
        Assert.That(((RandomFlip)back.Layers[3]).Seed, Is.EqualTo(7UL));
        Assert.That(back.OutputShape, Is.EqualTo(new[] { 24, 28, 2 }));
    }

    /// <summary>tf.keras 2.15's Sequential.to_json() of the course's augmentation (the keys its get_config writes).</summary>
    private const string Keras2Json = """
    {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 28, 28, 1], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "registered_name": null},
      {"module": "keras.layers", "class_name": "RandomFlip", "config": {"name": "random_flip", "trainable": true, "dtype": "float32", "mode": "horizontal", "seed": null}, "registered_name": null, "build_config": {"input_shape": [null, 28, 28, 1]}},
      {"module": "keras.layers", "class_name": "RandomContrast", "config": {"name": "random_contrast", "trainable": true, "dtype": "float32", "factor": 0.5, "seed": null}, "registered_name": null},
      {"module": "keras.layers", "class_name": "RandomWidth", "config": {"name": "random_width", "trainable": true, "dtype": "float32", "factor": 0.15, "interpolation": "bilinear", "seed": null}, "registered_name": null},
      {"module": "keras.layers", "class_name": "RandomRotation", "config": {"name": "random_rotation", "trainable": true, "dtype": "float32", "factor": 0.2, "fill_mode": "reflect", "fill_value": 0.0, "interpolation": "bilinear", "seed": null}, "registered_name": null},
      {"module": "keras.layers", "class_name": "RandomTranslation", "config": {"name": "random_translation", "trainable": true, "dtype": "float32", "height_factor": 0.1, "width_factor": 0.1, "fill_mode": "reflect", "fill_value": 0.0, "interpolation": "bilinear", "seed": null}, "registered_name": null},
      {"module": "keras.layers", "class_name": "RandomBrightness", "config": {"name": "random_brightness", "trainable": true, "dtype": "float32", "factor": [-0.2, 0.2], "value_range": [0, 255], "seed": null}, "registered_name": null}
    ]}, "keras_version": "2.15.0", "backend": "tensorflow"}
    """;

    [Test]
    public void Keras2Json_Imports_WithKeras2Semantics()
    {
        using var model = KerasModels.FromJson(Keras2Json);
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "random_flip", "random_contrast", "random_width", "random_rotation", "random_translation", "random_brightness" }));
        var contrast = (RandomContrast)model.GetLayer("random_contrast");
        Assert.That((contrast.Semantics, contrast.Lower, contrast.Upper), Is.EqualTo((KerasSemantics.Keras2, 0.5, 0.5)));
        Assert.That(((RandomRotation)model.GetLayer("random_rotation")).Lower, Is.EqualTo(-0.2));
        Assert.That(((RandomBrightness)model.GetLayer("random_brightness")).Upper, Is.EqualTo(0.2));
    }

    /// <summary>
    /// Keras 3 (3.8+) writes value_range for RandomContrast, its factor as the (0, f) pair, data_format, a DTypePolicy
    /// object for dtype and dict-style inbound nodes; the contrast layer then follows Keras 3 (a factor per image).
    /// </summary>
    private const string Keras3Json = """
    {"module": "keras", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 16, 16, 3], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
      {"module": "keras.layers", "class_name": "RandomContrast", "config": {"name": "random_contrast", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "factor": [0, 0.5], "value_range": [0, 255], "seed": null}, "registered_name": null, "build_config": {"input_shape": [null, 16, 16, 3]}, "name": "random_contrast",
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 16, 3], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {"training": false}}]},
      {"module": "keras.layers", "class_name": "RandomRotation", "config": {"name": "random_rotation", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "factor": [-0.2, 0.2], "data_format": "channels_last", "fill_mode": "reflect", "fill_value": 0.0, "interpolation": "bilinear", "seed": null}, "registered_name": null, "name": "random_rotation",
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 16, 16, 3], "dtype": "float32", "keras_history": ["random_contrast", 0, 0]}}], "kwargs": {"training": false}}]}
    ], "input_layers": ["input_layer", 0, 0], "output_layers": ["random_rotation", 0, 0]}, "registered_name": null}
    """;

    [Test]
    public void Keras3Json_Imports_WithKeras3Contrast()
    {
        using var model = KerasModels.FromJson(Keras3Json);
        var contrast = (RandomContrast)model.GetLayer("random_contrast");
        Assert.That((contrast.Semantics, contrast.Lower, contrast.Upper, contrast.PerImage), Is.EqualTo((KerasSemantics.Keras3, 0.0, 0.5, true)));
        var rotation = (RandomRotation)model.GetLayer("random_rotation");
        Assert.That((rotation.Lower, rotation.Upper), Is.EqualTo((-0.2, 0.2)));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 16, 16, 3 }));
    }

    /// <summary>tf.keras 2.3–2.5 configs: the layers as tf.keras.layers.experimental.preprocessing named them, without the later keys (fill_value, offset).</summary>
    [TestCase("RandomFlip")]
    [TestCase("preprocessing.RandomFlip")]
    [TestCase("keras.layers.experimental.preprocessing.RandomFlip")]
    public void OldPreprocessingSpellings_Import(string className)
    {
        string json = $$$"""
        {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
          {"class_name": "{{{className}}}", "config": {"name": "random_flip", "trainable": true, "batch_input_shape": [null, 28, 28, 1], "dtype": "float32", "mode": "horizontal", "seed": null}},
          {"class_name": "experimental.preprocessing.RandomRotation", "config": {"name": "random_rotation", "trainable": true, "dtype": "float32", "factor": 0.1, "fill_mode": "reflect", "interpolation": "bilinear", "seed": null}},
          {"class_name": "Rescaling", "config": {"name": "rescaling", "trainable": true, "dtype": "float32", "scale": 0.00392156862745098}}
        ]}, "keras_version": "2.4.0", "backend": "tensorflow"}
        """;
        using var model = KerasModels.FromJson(json);
        Assert.That(model.Layers.Select(l => l.ClassName), Is.EqualTo(new[] { "RandomFlip", "RandomRotation", "Rescaling" }));
        Assert.That(((RandomRotation)model.Layers[1]).FillValue, Is.EqualTo(0));
    }

    private static IEnumerable<TestCaseData> BadLayers()
    {
        yield return new TestCaseData(() => new RandomContrast(1.5), "RandomContrast", "1.5");
        yield return new TestCaseData(() => new RandomContrast((-0.1, 0.2)), "RandomContrast", "(-0.1, 0.2)");
        yield return new TestCaseData(() => new RandomBrightness(1.2), "RandomBrightness", "1.2");
        yield return new TestCaseData(() => new RandomTranslation(0.1, 1.5), "width_factor 1.5", "[-1, 1]");
        yield return new TestCaseData(() => new RandomRotation((0.3, 0.1)), "RandomRotation", "(0.3, 0.1)");
        yield return new TestCaseData(() => new RandomZoom(1.2), "height_factor 1.2", "[-1, 1]");
        yield return new TestCaseData(() => new RandomWidth(-1.5), "RandomWidth", "-1.5");
        yield return new TestCaseData(() => new RandomFlip("diagonal"), "RandomFlip", "diagonal");
        yield return new TestCaseData(() => new RandomRotation(0.1, "mirror"), "fill_mode 'mirror'", "reflect, wrap, constant, nearest");
        yield return new TestCaseData(() => new Resizing(8, 8, "bicubic"), "interpolation 'bicubic'", "bilinear or nearest");
    }

    [TestCaseSource(nameof(BadLayers))]
    public void OutOfRangeArguments_AreRefused_NamingTheLayerAndValue(Func<Layer> create, string names, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => create())!;
        Assert.That(e.Message, Does.Contain(names).And.Contain(value));
    }

    [Test]
    public void CropLargerThanTheImage_IsRefusedWhenBuilt()
    {
        var e = Assert.Throws<ArgumentException>(() => _ = new Sequential { new InputLayer(28, 28, 1), new RandomCrop(32, 20) })!;
        Assert.That(e.Message, Does.Contain("RandomCrop 'random_crop").And.Contain("32x20").And.Contain("28x28"));
        var center = Assert.Throws<ArgumentException>(() => _ = new Sequential { new InputLayer(28, 28, 1), new CenterCrop(20, 30) })!;
        Assert.That(center.Message, Does.Contain("CenterCrop").And.Contain("20x30"));
    }

    [Test]
    public void RandomLayerOnAnInputThatIsNotAnImageBatch_IsRefused()
    {
        var e = Assert.Throws<ConvEngine.Kernels.Geometry.ShapeException>(() => _ = new Sequential { new InputLayer(28, 28, 1), new Flatten(), new RandomFlip() })!;
        Assert.That(e.Message, Does.Contain("RandomFlip 'random_flip").And.Contain("(None, height, width, channels)").And.Contain("(None, 784)"));
        var after = Assert.Throws<ArgumentException>(() => _ = new Sequential { new InputLayer(28, 28, 1), new Conv2D(4, 3), new RandomRotation(0.1) })!;
        Assert.That(after.Message, Does.Contain("RandomRotation").And.Contain("'conv2d").And.Contain("has weights"));
    }
}
