using ConvEngine.Import.Keras;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Import;
using ConvEngine.Tests.OpTests;
using NUnit.Framework;

namespace ConvEngine.Tests.Augment;

/// <summary>
/// Full-model Keras HDF5 files (model.save("m.h5")) whose model_config holds preprocessing layers: the layers import
/// with their arguments, the weights of the layers after them load by name, and the model predicts as the same model
/// without the Random* layers. tf.keras saves a weightless layer as a group with an empty weight_names, so the Random*
/// layers' groups hold nothing (tf.keras 2.3–2.5 kept their tf.random.Generator as an attribute, not a layer weight).
/// </summary>
public class AugmentH5ImportTests
{
    private TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder("convengine-augment-h5-");
    [TearDown] public void TearDown() => _temp.Dispose();

    /// <summary>The course's model with tf.keras 2.4's config keys (RandomFlip/RandomContrast/RandomRotation as 2.4's get_config writes them).</summary>
    private const string CourseModelConfig = """
    {"class_name": "Sequential", "config": {"name": "course", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 9, 7, 1], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
      {"class_name": "RandomFlip", "config": {"name": "random_flip", "trainable": true, "dtype": "float32", "mode": "horizontal", "seed": null}},
      {"class_name": "RandomContrast", "config": {"name": "random_contrast", "trainable": true, "dtype": "float32", "factor": 0.5, "seed": null}},
      {"class_name": "RandomRotation", "config": {"name": "random_rotation", "trainable": true, "dtype": "float32", "factor": [-0.1, 0.2], "fill_mode": "nearest", "interpolation": "bilinear", "seed": 3, "fill_value": 0.0}},
      {"class_name": "Rescaling", "config": {"name": "rescaling", "trainable": true, "dtype": "float32", "scale": 0.00392156862745098, "offset": 0.0}},
      {"class_name": "Conv2D", "config": {"name": "conv", "trainable": true, "filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "activation": "relu", "use_bias": true}},
      {"class_name": "Flatten", "config": {"name": "flatten"}},
      {"class_name": "Dense", "config": {"name": "head", "units": 1, "activation": "sigmoid", "use_bias": true}}
    ]}, "keras_version": "2.4.0", "backend": "tensorflow"}
    """;

    private static List<TestLayer> CourseModelWeights() =>
    [
        new("random_flip"), new("random_contrast"), new("random_rotation"), new("rescaling"),
        new("conv", KerasTestFiles.Random("conv/kernel:0", [3, 3, 1, 2], 31), KerasTestFiles.Random("conv/bias:0", [2], 32)),
        new("flatten"),
        new("head", KerasTestFiles.Random("head/kernel:0", [7 * 5 * 2, 1], 33), KerasTestFiles.Random("head/bias:0", [1], 34)),
    ];

    [Test]
    public void FullModelH5_WithRandomLayers_Imports_LoadsTheWeights_AndPredictsAsWithoutThem()
    {
        string path = _temp.File("course.h5");
        var weights = CourseModelWeights();
        KerasTestFiles.Write(path, weights, modelConfig: CourseModelConfig, kerasVersion: "2.4.0");
        var cpu = new CpuBackend(threads: 1);

        using var model = KerasModels.LoadH5(path, cpu, seed: 5);

        Assert.That(model.Layers.Select(l => l.ClassName),
            Is.EqualTo(new[] { "RandomFlip", "RandomContrast", "RandomRotation", "Rescaling", "Conv2D", "Flatten", "Dense" }));
        Assert.That(((RandomFlip)model.GetLayer("random_flip")).Mode, Is.EqualTo("horizontal"));
        var contrast = (RandomContrast)model.GetLayer("random_contrast");
        Assert.That((contrast.Semantics, contrast.Lower, contrast.Upper), Is.EqualTo((KerasSemantics.Keras2, 0.5, 0.5)), "a Keras 2 file: one factor per batch");
        var rotation = (RandomRotation)model.GetLayer("random_rotation");
        Assert.That((rotation.Lower, rotation.Upper, rotation.Seed), Is.EqualTo((-0.1, 0.2, (ulong?)3)));
        Assert.That(((Conv2D)model.GetLayer("conv")).Kernel!.ToArray(), Is.EqualTo(weights[4].Weights[0].Values));
        Assert.That(((Dense)model.GetLayer("head")).Kernel!.ToArray(), Is.EqualTo(weights[6].Weights[0].Values));

        // The same weights in the model without augmentation: identity at inference means the same predictions, bit for bit.
        using var plain = new Sequential(backend: cpu, seed: 5)
        {
            new InputLayer(9, 7, 1), new Rescaling(1 / 255.0), new Conv2D(2, 3, activation: "relu", name: "conv"), new Flatten(),
            new Dense(1, activation: "sigmoid", name: "head"),
        };
        var conv = (Conv2D)plain.GetLayer("conv");
        var head = (Dense)plain.GetLayer("head");
        conv.Kernel!.Assign(cpu, weights[4].Weights[0].Values);
        conv.Bias!.Assign(cpu, weights[4].Weights[1].Values);
        head.Kernel!.Assign(cpu, weights[6].Weights[0].Values);
        head.Bias!.Assign(cpu, weights[6].Weights[1].Values);
        var images = TestData.Uniform(new Random(35), 6 * 9 * 7, 0, 255);
        var predicted = model.Predict(images, 6);
        Assert.That(predicted, Is.EqualTo(plain.Predict(images, 6)));
        Assert.That(predicted.Distinct().Count(), Is.GreaterThan(1), "the predictions depend on the image");
    }

    [Test]
    public void FullModelH5_WithTfKeras24Spellings_Imports()
    {
        // tf.keras 2.2–2.5 exported the layers under layers.experimental.preprocessing; files written through that path name them so.
        string config = CourseModelConfig
            .Replace("\"class_name\": \"RandomFlip\"", "\"class_name\": \"keras.layers.experimental.preprocessing.RandomFlip\"")
            .Replace("\"class_name\": \"RandomContrast\"", "\"class_name\": \"preprocessing.RandomContrast\"")
            .Replace(", \"fill_value\": 0.0", "");   // tf.keras 2.3's RandomRotation has no fill_value
        string path = _temp.File("course-24.h5");
        KerasTestFiles.Write(path, CourseModelWeights(), modelConfig: config, kerasVersion: "2.4.0");

        using var model = KerasModels.LoadH5(path, new CpuBackend(threads: 1));

        Assert.That(model.Layers.Take(3).Select(l => l.ClassName), Is.EqualTo(new[] { "RandomFlip", "RandomContrast", "RandomRotation" }));
        Assert.That(((RandomRotation)model.GetLayer("random_rotation")).FillValue, Is.EqualTo(0));
    }
}
