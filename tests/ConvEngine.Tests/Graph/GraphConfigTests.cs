using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using ConvEngine.Tests.Training;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Graph;

/// <summary>The graph layers in Keras-like JSON configs: save/load round trips and configs as Keras 2.15 writes them.</summary>
public class GraphConfigTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDir() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "convengine-graph-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    /// <summary>A functional graph that uses every new layer, Caffe-style pooling included.</summary>
    private static Model EveryLayer()
    {
        var image = new InputLayer([6, 6, 3], "image");
        var padded = new ZeroPadding2D(1, name: "pad").Apply(image);
        var conv = new Conv2D(4, 3, name: "conv").Apply(padded);
        var normalized = new BatchNormalization(momentum: 0.5, name: "bn").Apply(conv);
        var lrn = new LRN(3, alpha: 0.1f, name: "lrn").Apply(normalized);
        var left = new Conv2D(2, 1, name: "left").Apply(lrn);
        var right = new Conv2D(2, 3, padding: "same", name: "right").Apply(lrn);
        var joined = new Add(name: "sum").Apply(new Concatenate(name: "cat").Apply(left, right), lrn);
        var pooled = new MaxPool2D(3, 2, name: "pool_ceil") { CeilMode = true }.Apply(joined);
        var averaged = new AveragePooling2D(2, 1, name: "avg_pad") { Padding = Padding.Explicit(1, 0, 0, 1), CountIncludePad = true }.Apply(pooled);
        var features = new GlobalAveragePooling2D(name: "gap").Apply(averaged);
        var probabilities = new Softmax(name: "probs").Apply(new Dense(3, name: "scores").Apply(features));
        return new Model(image, probabilities, "every_layer", TestBackend.Instance, 11);
    }

    // A model saved (config.json + model.safetensors) and loaded predicts exactly what it did, BN moving statistics included.
    [Test]
    public void FunctionalGraph_SavedAndLoaded_PredictsIdentically()
    {
        using var model = EveryLayer();
        model.Compile("adam", "sparse_categorical_crossentropy");
        var batch = new Batch(GraphReference.Uniform(4 * 108, 70, -1f, 2f), [4, 6, 6, 3], [0f, 1f, 2f, 1f], [4]);
        for (int step = 0; step < 2; step++) model.TrainOnBatch(batch);
        Assert.That(((BatchNormalization)model.GetLayer("bn")).MovingMean!.ToArray(), Is.Not.EqualTo(new float[4]), "training moved the statistics");

        string path = Path.Combine(_dir, "saved");
        model.Save(path);
        using var loaded = Model.Load(path, TestBackend.Instance);

        float[] x = GraphReference.Uniform(3 * 108, 71, -1f, 2f);
        Assert.That(loaded.Predict(x), Is.EqualTo(model.Predict(x)));
        Assert.That(loaded.ToJson(), Is.EqualTo(model.ToJson()));
        Assert.That(loaded.Summary(), Is.EqualTo(model.Summary()));
        var pool = (MaxPool2D)loaded.GetLayer("pool_ceil");
        var average = (AveragePooling2D)loaded.GetLayer("avg_pad");
        Assert.That((pool.CeilMode, average.CountIncludePad, average.Padding), Is.EqualTo((true, true, Padding.Explicit(1, 0, 0, 1))));
    }

    // The architecture alone (model_from_json) plus the weights file give the same model.
    [Test]
    public void FunctionalGraph_FromJsonAndWeights_PredictsIdentically()
    {
        using var model = EveryLayer();
        string weights = Path.Combine(_dir, "w.safetensors");
        model.SaveWeights(weights);
        using var rebuilt = Model.FromJson(model.ToJson(), TestBackend.Instance);
        rebuilt.LoadWeights(weights);
        float[] x = GraphReference.Uniform(2 * 108, 72);
        Assert.That(rebuilt.Predict(x), Is.EqualTo(model.Predict(x)));
        Assert.That(rebuilt.Nodes.Single(n => n.Layer.Name == "sum").Inputs.Select(t => t.Layer.Name), Is.EqualTo(new[] { "cat", "lrn" }));
    }

    // keras/layers/normalization/batch_normalization.py get_config (v2.15); axis is the list Keras holds once built.
    [Test]
    public void BatchNormalization_Config_HasKerasKeys()
    {
        var image = new InputLayer([4, 4, 3], "image");
        var bn = new BatchNormalization(name: "bn");
        bn.Apply(image);
        var config = bn.GetConfig();
        Assert.That(config.Select(p => p.Key), Is.EquivalentTo(new[]
        {
            "name", "trainable", "dtype", "axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
            "moving_mean_initializer", "moving_variance_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
        }));
        Assert.That(config["axis"]!.ToJsonString(), Is.EqualTo("[3]"));
        Assert.That((double)config["momentum"]!, Is.EqualTo(0.99));
        Assert.That((double)config["epsilon"]!, Is.EqualTo(0.001));
        Assert.That(config["moving_variance_initializer"]!.ToJsonString(), Is.EqualTo("""{"class_name":"Ones","config":{}}"""));
    }

    /// <summary>What tf-keras 2.15's model.to_json() writes for a small graph of these layers (trimmed of keys the engine ignores).</summary>
    private const string KerasJson = """
        {"class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "registered_name": null, "name": "input_1", "inbound_nodes": []},
          {"module": "keras.layers", "class_name": "ZeroPadding2D", "config": {"name": "zero_padding2d", "trainable": true, "dtype": "float32", "padding": [[1, 1], [2, 2]], "data_format": "channels_last"}, "registered_name": null, "build_config": {"input_shape": [null, 4, 4, 3]}, "name": "zero_padding2d", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": "float32", "filters": 3, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "linear", "use_bias": false, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null}, "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "registered_name": null, "name": "conv2d", "inbound_nodes": [[["zero_padding2d", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "batch_normalization", "trainable": true, "dtype": "float32", "axis": [3], "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": false, "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null}, "moving_mean_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "moving_variance_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null}, "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null}, "registered_name": null, "name": "batch_normalization", "inbound_nodes": [[["conv2d", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d_1", "trainable": true, "dtype": "float32", "filters": 3, "kernel_size": [1, 1], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true}, "registered_name": null, "name": "conv2d_1", "inbound_nodes": [[["batch_normalization", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "Add", "config": {"name": "add", "trainable": true, "dtype": "float32"}, "registered_name": null, "name": "add", "inbound_nodes": [[["batch_normalization", 0, 0, {}], ["conv2d_1", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "Concatenate", "config": {"name": "concatenate", "trainable": true, "dtype": "float32", "axis": -1}, "registered_name": null, "name": "concatenate", "inbound_nodes": [[["add", 0, 0, {}], ["batch_normalization", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "config": {"name": "global_average_pooling2d", "trainable": true, "dtype": "float32", "data_format": "channels_last", "keepdims": false}, "registered_name": null, "name": "global_average_pooling2d", "inbound_nodes": [[["concatenate", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 2, "activation": "linear", "use_bias": true}, "registered_name": null, "name": "dense", "inbound_nodes": [[["global_average_pooling2d", 0, 0, {}]]]},
          {"module": "keras.layers", "class_name": "Softmax", "config": {"name": "softmax", "trainable": true, "dtype": "float32", "axis": -1}, "registered_name": null, "name": "softmax", "inbound_nodes": [[["dense", 0, 0, {}]]]}
        ], "input_layers": [["input_1", 0, 0]], "output_layers": [["softmax", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}
        """;

    [Test]
    public void KerasWrittenGraph_Loads_WithItsShapesAndWeights()
    {
        using var model = Model.FromJson(KerasJson, TestBackend.Instance);
        Assert.That(model.Layers.Select(l => l.ClassName), Is.EqualTo(new[]
        {
            "InputLayer", "ZeroPadding2D", "Conv2D", "BatchNormalization", "Conv2D", "Add", "Concatenate", "GlobalAveragePooling2D", "Dense", "Softmax",
        }));
        Assert.That(model.GetLayer("zero_padding2d").OutputShape, Is.EqualTo(new[] { 6, 8, 3 }));
        Assert.That(model.GetLayer("concatenate").OutputShape, Is.EqualTo(new[] { 4, 6, 6 }));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 2 }));
        var bn = (BatchNormalization)model.GetLayer("batch_normalization");
        Assert.That((bn.Scale, bn.Center, bn.Momentum, bn.Epsilon), Is.EqualTo((false, true, 0.99, 0.001)));
        Assert.That(model.NamedParameters.Where(p => p.Path.StartsWith("batch_normalization/", StringComparison.Ordinal)).Select(p => p.Path),
            Is.EqualTo(new[] { "batch_normalization/beta", "batch_normalization/moving_mean", "batch_normalization/moving_variance" }));
        Assert.That(model.NonTrainableParameterCount, Is.EqualTo(6));
    }

    // Keras's ZeroPadding2D padding: an int, (symmetric height, symmetric width), or ((top, bottom), (left, right)).
    [TestCase("2", 2, 2, 2, 2)]
    [TestCase("[1, 3]", 1, 1, 3, 3)]
    [TestCase("[[0, 1], [2, 3]]", 0, 1, 2, 3)]
    public void ZeroPadding2D_ReadsEveryKerasPaddingForm(string padding, int top, int bottom, int left, int right)
    {
        var config = JsonNode.Parse($$"""{"name": "pad", "padding": {{padding}}, "data_format": "channels_last"}""")!.AsObject();
        var layer = (ZeroPadding2D)LayerRegistry.Create("ZeroPadding2D", config);
        Assert.That((layer.Top, layer.Bottom, layer.Left, layer.Right), Is.EqualTo((top, bottom, left, right)));
        Assert.That(layer.GetConfig()["padding"]!.ToJsonString(), Is.EqualTo($"[[{top},{bottom}],[{left},{right}]]"));
    }

    [Test]
    public void BatchNormalization_WithARegularizer_IsRefusedNamingTheKey()
    {
        var config = JsonNode.Parse("""{"name": "bn", "axis": -1, "gamma_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}}""")!.AsObject();
        var e = Assert.Throws<FormatException>(() => LayerRegistry.Create("BatchNormalization", config));
        Assert.That(e!.Message, Does.Contain("BatchNormalization").And.Contain("gamma_regularizer"));
    }

    [Test]
    public void Concatenate_OnAnotherAxis_IsRefusedByName()
    {
        var input = new InputLayer([4, 4, 3], "x");
        var e = Assert.Throws<NotSupportedException>(() => new Concatenate(axis: 1, name: "rows").Apply(input, input));
        Assert.That(e!.Message, Does.Contain("Concatenate 'rows'").And.Contain("axis 1"));
    }

    // Every graph layer is known to the registry under its Keras (or ONNX, for LRN) class name.
    [Test]
    public void Registry_KnowsEveryGraphLayer()
    {
        Assert.That(LayerRegistry.ClassNames, Is.SupersetOf(new[] { "Add", "Concatenate", "BatchNormalization", "LRN", "ZeroPadding2D", "Softmax" }));
    }
}
