using ConvEngine.Import.Keras;
using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>Keras model.to_json() configs and full-model HDF5 files becoming engine models.</summary>
public class KerasModelConfigTests
{
    private TempFolder _temp = null!;

    [SetUp] public void SetUp() => _temp = new TempFolder("convengine-keras-config-");
    [TearDown] public void TearDown() => _temp.Dispose();

    /// <summary>
    /// The fixture README's MNIST CNN as tf.keras 2.15's Sequential.to_json() spells it: an InputLayer entry,
    /// "module"/"registered_name"/"build_config" keys, initializer objects and null regularizers the engine ignores.
    /// </summary>
    private const string MnistSequentialJson = """
    {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 28, 28, 1], "dtype": "float32", "sparse": false, "ragged": false, "name": "conv2d_input"}, "registered_name": null},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": "float32", "batch_input_shape": [null, 28, 28, 1], "filters": 32, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null}, "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
        "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "registered_name": null, "build_config": {"input_shape": [null, 28, 28, 1]}},
      {"module": "keras.layers", "class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": true, "dtype": "float32", "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}, "registered_name": null},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d_1", "trainable": true, "dtype": "float32", "filters": 64, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true}, "registered_name": null},
      {"module": "keras.layers", "class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1", "trainable": true, "dtype": "float32", "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}, "registered_name": null},
      {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"}, "registered_name": null},
      {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 128, "activation": "relu", "use_bias": true, "kernel_regularizer": null}, "registered_name": null},
      {"module": "keras.layers", "class_name": "Dropout", "config": {"name": "dropout", "trainable": true, "dtype": "float32", "rate": 0.5, "noise_shape": null, "seed": null}, "registered_name": null},
      {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 10, "activation": "softmax", "use_bias": true}, "registered_name": null}
    ]}, "keras_version": "2.15.0", "backend": "tensorflow"}
    """;

    [Test]
    public void SequentialJson_BecomesTheReadmeModel_WithKerasParameterCounts()
    {
        using var model = KerasModels.FromJson(MnistSequentialJson);

        Assert.That(model, Is.InstanceOf<Sequential>());
        Assert.That(model.Name, Is.EqualTo("sequential"));
        Assert.That(model.Layers.Select(l => (l.Name, l.ClassName)), Is.EqualTo(new[]
        {
            ("conv2d", "Conv2D"), ("max_pooling2d", "MaxPooling2D"), ("conv2d_1", "Conv2D"), ("max_pooling2d_1", "MaxPooling2D"),
            ("flatten", "Flatten"), ("dense", "Dense"), ("dropout", "Dropout"), ("dense_1", "Dense"),
        }));
        // Valid 3×3 convs and 2×2 pools (floor): 28 → 26 → 13 → 11 → 5; 5·5·64 = 1600 features.
        Assert.That(model.Layers.Select(l => l.OutputShape), Is.EqualTo(new[]
            { new[] { 26, 26, 32 }, [13, 13, 32], [11, 11, 64], [5, 5, 64], [1600], [128], [128], [10] }));
        // Keras's summary: 320, 18,496, 204,928 and 1,290 parameters, 225,034 in all.
        Assert.That(model.Layers.Select(l => l.ParameterCount), Is.EqualTo(new long[] { 320, 0, 18_496, 0, 0, 204_928, 0, 1_290 }));
        Assert.That(model.Summary(), Does.Contain("Total params: 225034"));
        var dense = (Dense)model.GetLayer("dense_1");
        Assert.That(dense.Activation.IsSoftmax, Is.True);
        Assert.That(((Dropout)model.GetLayer("dropout")).Rate, Is.EqualTo(0.5));
    }

    [Test]
    public void SequentialJson_ThenTheRealWeights_PredictsLikeTheReadmeModelBuiltByHand()
    {
        using var imported = KerasModels.FromJson(MnistSequentialJson);
        KerasWeights.Load(imported, KerasTestFiles.MnistCnnWeights);
        using var byHand = new Sequential([new InputLayer(28, 28, 1), new Conv2D(32, 3, activation: "relu", name: "c1"), new MaxPool2D(2, name: "p1"),
            new Conv2D(64, 3, activation: "relu", name: "c2"), new MaxPool2D(2, name: "p2"), new Flatten("f"), new Dense(128, "relu", name: "d1"),
            new Dropout(0.5, name: "do"), new Dense(10, "softmax", name: "d2")]);
        KerasWeights.Load(byHand, KerasTestFiles.MnistCnnWeights);
        var image = KerasTestFiles.Uniform(28 * 28, seed: 7, scale: 0.5f).Select(v => v + 0.5f).ToArray();

        Assert.That(imported.Predict(image, 1), Is.EqualTo(byHand.Predict(image, 1)));
    }

    /// <summary>A small functional model as tf.keras 2.15 writes it: Rescaling, strided same conv, average and global pooling, Dense.</summary>
    private const string FunctionalJson = """
    {"class_name": "Functional", "config": {"name": "small_net", "trainable": true, "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 32, 32, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "registered_name": null, "name": "input_1", "inbound_nodes": []},
      {"module": "keras.layers", "class_name": "Rescaling", "config": {"name": "rescaling", "trainable": true, "dtype": "float32", "scale": 0.00392156862745098, "offset": 0.0}, "registered_name": null, "name": "rescaling", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv", "filters": 8, "kernel_size": [5, 5], "strides": [2, 2], "padding": "same", "dilation_rate": [1, 1], "activation": "relu", "use_bias": true}, "registered_name": null, "name": "conv", "inbound_nodes": [[["rescaling", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "AveragePooling2D", "config": {"name": "avg", "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}, "registered_name": null, "name": "avg", "inbound_nodes": [[["conv", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "dilated", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "dilation_rate": [2, 2], "activation": "linear", "use_bias": false}, "registered_name": null, "name": "dilated", "inbound_nodes": [[["avg", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Activation", "config": {"name": "act", "activation": "sigmoid"}, "registered_name": null, "name": "act", "inbound_nodes": [[["dilated", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "config": {"name": "gap", "data_format": "channels_last", "keepdims": false}, "registered_name": null, "name": "gap", "inbound_nodes": [[["act", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid", "use_bias": true}, "registered_name": null, "name": "out", "inbound_nodes": [[["gap", 0, 0, {}]]]}
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["out", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}
    """;

    [Test]
    public void FunctionalJson_BecomesAGraphWithKerasShapesAndSettings()
    {
        using var model = KerasModels.FromJson(FunctionalJson);

        Assert.That(model.ClassName, Is.EqualTo("Functional"));
        Assert.That(model.Name, Is.EqualTo("small_net"));
        var conv = (Conv2D)model.GetLayer("conv");
        Assert.That((conv.Filters, conv.KernelSize, conv.Strides, conv.Padding.ToString()), Is.EqualTo((8, new Size2D(5, 5), new Size2D(2, 2), "same")));
        var dilated = (Conv2D)model.GetLayer("dilated");
        Assert.That((dilated.DilationRate, dilated.UseBias), Is.EqualTo((new Size2D(2, 2), false)));
        Assert.That(((Rescaling)model.GetLayer("rescaling")).Scale, Is.EqualTo(1 / 255.0).Within(1e-15));
        // same, stride 2: ceil(32/2) = 16; avg 2×2 → 8; 3×3 dilated 2 → dk 5, valid: 8 − 5 + 1 = 4.
        Assert.That(conv.OutputShape, Is.EqualTo(new[] { 16, 16, 8 }));
        Assert.That(model.GetLayer("avg").OutputShape, Is.EqualTo(new[] { 8, 8, 8 }));
        Assert.That(dilated.OutputShape, Is.EqualTo(new[] { 4, 4, 4 }));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 1 }));
        // 5·5·3·8 + 8 = 608; 3·3·8·4 = 288 (no bias); 4 + 1 = 5.
        Assert.That(model.TrainableParameterCount, Is.EqualTo(608 + 288 + 5));
    }

    [Test]
    public void Keras3Spelling_BatchShapeAndDictInboundNodes_IsRead()
    {
        const string json = """
        {"module": "keras", "class_name": "Functional", "config": {"name": "k3", "trainable": true, "layers": [
          {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 2], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
          {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "filters": 3, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true},
           "registered_name": null, "build_config": {"input_shape": [null, 8, 8, 2]}, "name": "conv2d",
           "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 8, 8, 2], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]}
        ], "input_layers": ["input_layer", 0, 0], "output_layers": ["conv2d", 0, 0]}}
        """;

        using var model = KerasModels.FromJson(json);

        Assert.That(model.InputShape, Is.EqualTo(new[] { 8, 8, 2 }));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 6, 6, 3 }));
    }

    [Test]
    public void OldSequentialConfig_ABareListOfLayers_IsRead()
    {
        // Keras ≤ 2.2.4 wrote Sequential's config as the list itself, the input shape on the first layer.
        const string json = """
        {"class_name": "Sequential", "config": [
          {"class_name": "Dense", "config": {"name": "hidden", "units": 5, "activation": "tanh", "use_bias": true, "batch_input_shape": [null, 3]}},
          {"class_name": "Dense", "config": {"name": "output", "units": 2, "activation": "softmax", "use_bias": true}}
        ], "keras_version": "2.2.4", "backend": "tensorflow"}
        """;

        using var model = KerasModels.FromJson(json);

        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[] { "hidden", "output" }));
        Assert.That(model.InputShape, Is.EqualTo(new[] { 3 }));
        Assert.That(model.TrainableParameterCount, Is.EqualTo(3 * 5 + 5 + 5 * 2 + 2));
    }

    [Test]
    public void Conv1DJson_KeepsCausalPaddingAndDilation()
    {
        // keras-semantics.md A: causal pads dilation·(k−1) on the left, so the length stays 10; kernel (k, in, filters).
        const string json = """
        {"class_name": "Sequential", "config": {"name": "series", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 10, 2], "name": "input_1"}},
          {"class_name": "Conv1D", "config": {"name": "conv1d", "filters": 4, "kernel_size": [3], "strides": [1], "padding": "causal", "dilation_rate": [2], "activation": "tanh", "use_bias": true}},
          {"class_name": "Flatten", "config": {"name": "flatten"}}
        ]}}
        """;

        using var model = KerasModels.FromJson(json);

        var conv = (Conv1D)model.GetLayer("conv1d");
        Assert.That(conv.OutputShape, Is.EqualTo(new[] { 10, 4 }));
        Assert.That((conv.KernelSize.Width, conv.DilationRate.Width, conv.Padding.ToString(), conv.Activation.Name), Is.EqualTo((3, 2, "causal", "tanh")));
        Assert.That(conv.ParameterCount, Is.EqualTo(3 * 2 * 4 + 4));
    }

    [Test]
    public void UnsupportedLayer_NamesTheLayerItsClassAndTheModel()
    {
        string json = FunctionalJson.Replace(
            """{"module": "keras.layers", "class_name": "AveragePooling2D", "config": {"name": "avg",""",
            """{"module": "keras.layers", "class_name": "LSTM", "config": {"name": "avg",""");

        var e = Assert.Throws<UnsupportedLayerException>(() => KerasModels.FromJson(json))!;

        Assert.That((e.LayerName, e.ClassName, e.ModelName), Is.EqualTo(("avg", "LSTM", "small_net")));
        Assert.That(e.Message, Does.Contain("'avg'").And.Contain("LSTM").And.Contain("'small_net'"));
    }

    [Test]
    public void UnsupportedSetting_NamesTheLayerAndTheModel()
    {
        string json = MnistSequentialJson.Replace("\"activation\": \"relu\", \"use_bias\": true, \"kernel_regularizer\": null", "\"activation\": \"hard_tanh\", \"use_bias\": true");

        var e = Assert.Throws<FormatException>(() => KerasModels.FromJson(json, source: "mnist.json"))!;

        Assert.That(e.Message, Does.Contain("mnist.json").And.Contain("'dense'").And.Contain("Dense").And.Contain("'sequential'").And.Contain("hard_tanh"));
    }

    [Test]
    public void FullModelH5_BuildsTheModelFromModelConfig_AndLoadsItsWeights()
    {
        // model.save("m.h5"): root attribute model_config, weights under model_weights/ in the usual layout.
        string path = _temp.File("full-model.h5");
        const string config = """
        {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 1], "name": "input_1"}},
          {"class_name": "Conv2D", "config": {"name": "conv", "filters": 2, "kernel_size": [3, 3], "padding": "same", "activation": "relu"}},
          {"class_name": "Flatten", "config": {"name": "flat"}},
          {"class_name": "Dense", "config": {"name": "head", "units": 3, "activation": "softmax"}}
        ]}}
        """;
        var layers = new List<TestLayer>
        {
            new("conv", KerasTestFiles.Random("conv/kernel:0", [3, 3, 1, 2], 20), KerasTestFiles.Random("conv/bias:0", [2], 21)),
            new("flat"),
            new("head", KerasTestFiles.Random("head/kernel:0", [72, 3], 22), KerasTestFiles.Random("head/bias:0", [3], 23)),
        };
        KerasTestFiles.Write(path, layers, modelConfig: config, kerasVersion: "2.15.0");

        using var model = KerasModels.LoadH5(path);

        Assert.That(model.Name, Is.EqualTo("tiny"));
        Assert.That(((Dense)model.GetLayer("head")).Kernel!.ToArray(), Is.EqualTo(layers[2].Weights[0].Values));
        Assert.That(((Conv2D)model.GetLayer("conv")).Bias!.ToArray(), Is.EqualTo(layers[0].Weights[1].Values));
    }

    [Test]
    public void WeightsOnlyH5_AsAFullModel_SaysToBuildTheModelFirst()
    {
        var e = Assert.Throws<KerasImportException>(() => KerasModels.LoadH5(KerasTestFiles.MnistCnnWeights))!;
        Assert.That(e.Message, Does.Contain("model_config").And.Contain("weights only"));
    }
}
