using ConvEngine.Import.Keras;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Graph;
using ConvEngine.Tests.Training;
using ConvEngine.Training;
using NUnit.Framework;
using Activation = ConvEngine.Layers.Activation;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// keras.applications architectures as their Keras versions wrote them: Keras 2.2.4's MobileNet ("Model" class,
/// list-style inbound_nodes, ReLU(6.), DepthwiseConv2D, ((0, 1), (0, 1)) padding), tf.keras 2.x's EfficientNet,
/// Xception, InceptionV3 and DenseNet blocks, and Keras 3's spelling (batch_shape, args/kwargs inbound_nodes, its
/// own hard_sigmoid). Shapes and parameter counts are the ones Keras's summary gives (kh·kw·C for a depthwise kernel,
/// 4·C for a BatchNormalization, 3·C without scale or center).
/// </summary>
public class KerasApplicationConfigTests
{
    private static string Entry(string className, string name, string config, params string[] inbound)
    {
        string references = inbound.Length == 0 ? "" : "[" + string.Join(", ", inbound.Select(i => $"[\"{i}\", 0, 0, {{}}]")) + "]";
        return "{\"name\": \"" + name + "\", \"class_name\": \"" + className + "\", \"config\": {\"name\": \"" + name + "\", \"trainable\": true" +
            (config.Length > 0 ? ", " + config : "") + "}, \"inbound_nodes\": [" + references + "]}";
    }

    private const string Bn = "\"axis\": -1, \"momentum\": 0.99, \"epsilon\": 0.001, \"center\": true, \"scale\": true, \"beta_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}, " +
        "\"gamma_initializer\": {\"class_name\": \"Ones\", \"config\": {}}, \"moving_mean_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}, " +
        "\"moving_variance_initializer\": {\"class_name\": \"Ones\", \"config\": {}}, \"beta_regularizer\": null, \"gamma_regularizer\": null, \"beta_constraint\": null, \"gamma_constraint\": null";
    private const string Relu6 = "\"max_value\": 6.0, \"negative_slope\": 0.0, \"threshold\": 0.0";
    private const string NoPadding = "\"data_format\": \"channels_last\"";

    private static string Dw(string padding, int stride) =>
        $"\"kernel_size\": [3, 3], \"strides\": [{stride}, {stride}], \"padding\": \"{padding}\", \"data_format\": \"channels_last\", \"dilation_rate\": [1, 1], " +
        "\"activation\": \"linear\", \"use_bias\": false, \"bias_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}, \"bias_regularizer\": null, " +
        "\"activity_regularizer\": null, \"bias_constraint\": null, \"depth_multiplier\": 1, \"depthwise_initializer\": {\"class_name\": \"VarianceScaling\", " +
        "\"config\": {\"scale\": 1.0, \"mode\": \"fan_avg\", \"distribution\": \"uniform\", \"seed\": null}}, \"depthwise_regularizer\": null, \"depthwise_constraint\": null";

    private static string Conv(int filters, int kernel, int stride, string padding, bool bias, string activation = "linear") =>
        $"\"filters\": {filters}, \"kernel_size\": [{kernel}, {kernel}], \"strides\": [{stride}, {stride}], \"padding\": \"{padding}\", \"data_format\": \"channels_last\", " +
        $"\"dilation_rate\": [1, 1], \"activation\": \"{activation}\", \"use_bias\": {(bias ? "true" : "false")}, \"kernel_regularizer\": null, \"bias_regularizer\": null";

    /// <summary>keras 2.2.4 applications/mobilenet.py at alpha 1/128 of its width (8 filters): the stem, two depthwise blocks and the top.</summary>
    internal static string MobileNetKeras224Json()
    {
        string[] layers =
        [
            """{"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 32, 32, 3], "dtype": "float32", "sparse": false, "name": "input_1"}, "inbound_nodes": []}""",
            Entry("ZeroPadding2D", "conv1_pad", "\"padding\": [[0, 1], [0, 1]], " + NoPadding, "input_1"),
            Entry("Conv2D", "conv1", Conv(8, 3, 2, "valid", false), "conv1_pad"),
            Entry("BatchNormalization", "conv1_bn", Bn, "conv1"),
            Entry("ReLU", "conv1_relu", Relu6, "conv1_bn"),
            Entry("DepthwiseConv2D", "conv_dw_1", Dw("same", 1), "conv1_relu"),
            Entry("BatchNormalization", "conv_dw_1_bn", Bn, "conv_dw_1"),
            Entry("ReLU", "conv_dw_1_relu", Relu6, "conv_dw_1_bn"),
            Entry("Conv2D", "conv_pw_1", Conv(16, 1, 1, "same", false), "conv_dw_1_relu"),
            Entry("BatchNormalization", "conv_pw_1_bn", Bn, "conv_pw_1"),
            Entry("ReLU", "conv_pw_1_relu", Relu6, "conv_pw_1_bn"),
            Entry("ZeroPadding2D", "conv_pad_2", "\"padding\": [[0, 1], [0, 1]], " + NoPadding, "conv_pw_1_relu"),
            Entry("DepthwiseConv2D", "conv_dw_2", Dw("valid", 2), "conv_pad_2"),
            Entry("BatchNormalization", "conv_dw_2_bn", Bn, "conv_dw_2"),
            Entry("ReLU", "conv_dw_2_relu", Relu6, "conv_dw_2_bn"),
            Entry("Conv2D", "conv_pw_2", Conv(32, 1, 1, "same", false), "conv_dw_2_relu"),
            Entry("BatchNormalization", "conv_pw_2_bn", Bn, "conv_pw_2"),
            Entry("ReLU", "conv_pw_2_relu", Relu6, "conv_pw_2_bn"),
            Entry("GlobalAveragePooling2D", "global_average_pooling2d_1", NoPadding, "conv_pw_2_relu"),
            Entry("Reshape", "reshape_1", "\"target_shape\": [1, 1, 32]", "global_average_pooling2d_1"),
            Entry("Dropout", "dropout", "\"rate\": 0.001, \"noise_shape\": null, \"seed\": null", "reshape_1"),
            Entry("Conv2D", "conv_preds", Conv(10, 1, 1, "same", true), "dropout"),
            Entry("Activation", "act_softmax", "\"activation\": \"softmax\"", "conv_preds"),
            Entry("Reshape", "reshape_2", "\"target_shape\": [10]", "act_softmax"),
        ];
        return "{\"class_name\": \"Model\", \"config\": {\"name\": \"mobilenet_0.01_32\", \"layers\": [" + string.Join(",\n", layers) +
            "], \"input_layers\": [[\"input_1\", 0, 0]], \"output_layers\": [[\"reshape_2\", 0, 0]]}, \"keras_version\": \"2.2.4\", \"backend\": \"tensorflow\"}";
    }

    [Test]
    public void MobileNet_Keras224Config_BuildsWithKerasShapesAndParameterCounts()
    {
        using var model = KerasModels.FromJson(MobileNetKeras224Json(), TestBackend.Instance, source: "mobilenet.json");
        var shapes = model.Layers.Skip(1).ToDictionary(l => l.Name, l => l.OutputShape);
        // 32 padded to 33 × 33; 3×3 valid stride 2 → 16; same stride 1 keeps 16; padded to 17; valid stride 2 → 8.
        Assert.That(shapes["conv1_pad"], Is.EqualTo(new[] { 33, 33, 3 }));
        Assert.That(shapes["conv1"], Is.EqualTo(new[] { 16, 16, 8 }));
        Assert.That(shapes["conv_dw_1"], Is.EqualTo(new[] { 16, 16, 8 }));
        Assert.That(shapes["conv_pad_2"], Is.EqualTo(new[] { 17, 17, 16 }));
        Assert.That(shapes["conv_dw_2"], Is.EqualTo(new[] { 8, 8, 16 }));
        Assert.That(shapes["reshape_1"], Is.EqualTo(new[] { 1, 1, 32 }));
        Assert.That(shapes["reshape_2"], Is.EqualTo(new[] { 10 }));
        var counts = model.Layers.ToDictionary(l => l.Name, l => l.ParameterCount);
        Assert.That(counts["conv1"], Is.EqualTo(3 * 3 * 3 * 8));
        Assert.That(counts["conv_dw_1"], Is.EqualTo(3 * 3 * 8));
        Assert.That(counts["conv_dw_2"], Is.EqualTo(3 * 3 * 16));
        Assert.That(counts["conv_dw_2_bn"], Is.EqualTo(4 * 16));
        Assert.That(counts["conv_preds"], Is.EqualTo(32 * 10 + 10));
        Assert.That(model.ParameterCount, Is.EqualTo(216 + 32 + 72 + 32 + 128 + 64 + 144 + 64 + 512 + 128 + 330));
        Assert.That(((ReLU)model.GetLayer("conv1_relu")).Activation.Kernel, Is.EqualTo(KernelActivation.Relu6));
        var pad = (ZeroPadding2D)model.GetLayer("conv1_pad");
        Assert.That((pad.Top, pad.Bottom, pad.Left, pad.Right), Is.EqualTo((0, 1, 0, 1)));
        var probabilities = model.Predict(GraphReference.Uniform(2 * 32 * 32 * 3, 70, 0f, 1f), 2);
        Assert.That(probabilities.Chunk(10).Select(p => p.Sum()), Is.All.EqualTo(1f).Within(1e-5f));
    }

    /// <summary>The layers of tf.keras 2.x's EfficientNet block (applications/efficientnet.py block()), as its to_json writes them.</summary>
    private const string EfficientNetBlockJson = """
    {"class_name": "Functional", "config": {"name": "efficientnet_block", "trainable": true, "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 8, 8, 16], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "registered_name": null, "name": "input_1", "inbound_nodes": []},
      {"module": "keras.layers", "class_name": "DepthwiseConv2D", "config": {"name": "block2a_dwconv", "trainable": true, "dtype": "float32", "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "linear", "use_bias": false, "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "bias_regularizer": null, "activity_regularizer": null, "bias_constraint": null, "depth_multiplier": 1, "depthwise_initializer": {"module": "keras.initializers", "class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal", "seed": null}, "registered_name": null}, "depthwise_regularizer": null, "depthwise_constraint": null}, "registered_name": null, "build_config": {"input_shape": [null, 8, 8, 16]}, "name": "block2a_dwconv", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "block2a_bn", "trainable": true, "dtype": "float32", "axis": 3, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true}, "registered_name": null, "name": "block2a_bn", "inbound_nodes": [[["block2a_dwconv", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Activation", "config": {"name": "block2a_activation", "trainable": true, "dtype": "float32", "activation": "swish"}, "registered_name": null, "name": "block2a_activation", "inbound_nodes": [[["block2a_bn", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "GlobalAveragePooling2D", "config": {"name": "block2a_se_squeeze", "trainable": true, "dtype": "float32", "data_format": "channels_last", "keepdims": false}, "registered_name": null, "name": "block2a_se_squeeze", "inbound_nodes": [[["block2a_activation", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Reshape", "config": {"name": "block2a_se_reshape", "trainable": true, "dtype": "float32", "target_shape": [1, 1, 16]}, "registered_name": null, "name": "block2a_se_reshape", "inbound_nodes": [[["block2a_se_squeeze", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "block2a_se_reduce", "trainable": true, "dtype": "float32", "filters": 4, "kernel_size": [1, 1], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "swish", "use_bias": true}, "registered_name": null, "name": "block2a_se_reduce", "inbound_nodes": [[["block2a_se_reshape", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "block2a_se_expand", "trainable": true, "dtype": "float32", "filters": 16, "kernel_size": [1, 1], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "sigmoid", "use_bias": true}, "registered_name": null, "name": "block2a_se_expand", "inbound_nodes": [[["block2a_se_reduce", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Multiply", "config": {"name": "block2a_se_excite", "trainable": true, "dtype": "float32"}, "registered_name": null, "name": "block2a_se_excite", "inbound_nodes": [[["block2a_activation", 0, 0, {}], ["block2a_se_expand", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "block2a_project_conv", "trainable": true, "dtype": "float32", "filters": 16, "kernel_size": [1, 1], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "linear", "use_bias": false}, "registered_name": null, "name": "block2a_project_conv", "inbound_nodes": [[["block2a_se_excite", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "block2a_project_bn", "trainable": true, "dtype": "float32", "axis": 3, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true}, "registered_name": null, "name": "block2a_project_bn", "inbound_nodes": [[["block2a_project_conv", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Dropout", "config": {"name": "block2a_drop", "trainable": true, "dtype": "float32", "rate": 0.2, "noise_shape": [null, 1, 1, 1], "seed": null}, "registered_name": null, "name": "block2a_drop", "inbound_nodes": [[["block2a_project_bn", 0, 0, {}]]]},
      {"module": "keras.layers", "class_name": "Add", "config": {"name": "block2a_add", "trainable": true, "dtype": "float32"}, "registered_name": null, "name": "block2a_add", "inbound_nodes": [[["block2a_drop", 0, 0, {}], ["input_1", 0, 0, {}]]]}
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["block2a_add", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}
    """;

    [Test]
    public void EfficientNetBlock_Config_BuildsTheSqueezeExciteAndStochasticDepth()
    {
        using var model = KerasModels.FromJson(EfficientNetBlockJson, TestBackend.Instance, source: "efficientnet.json");
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 8, 8, 16 }));
        Assert.That(((Activation)model.GetLayer("block2a_activation")).Activation.Kernel, Is.EqualTo(KernelActivation.Swish));
        Assert.That(((Dropout)model.GetLayer("block2a_drop")).NoiseShape, Is.EqualTo(new[] { 1, 1, 1 }));
        Assert.That(model.GetLayer("block2a_dwconv").ParameterCount, Is.EqualTo(3 * 3 * 16));
        Assert.That(model.GetLayer("block2a_se_reduce").ParameterCount, Is.EqualTo(16 * 4 + 4));
        var x = GraphReference.Uniform(2 * 8 * 8 * 16, 71);
        Assert.That(model.Predict(x, 2).All(float.IsFinite));
    }

    // Stochastic depth (noise_shape (None, 1, 1, 1)) keeps or drops a whole sample, scaled by 1/(1 − rate), in training only.
    // On all-ones images a Dense of ones after it gets, for every weight j, dL/dW_j = (2/N)·Σ_b y_b·m_b = (2/N)·36·Σ_b m_b²:
    // the same for every j only if each sample's mask is one value (per-value masks would differ from weight to weight).
    [Test]
    public void Dropout_WithPerSampleNoiseShape_DropsWholeSamples()
    {
        var input = new InputLayer([3, 3, 4], "x");
        var dropped = new Dropout(0.25, [1, 1, 1], name: "drop").Apply(input);
        var dense = new Dense(1, useBias: false, name: "sum");
        using var model = new Model(input, dense.Apply(new Reshape([36], name: "flat").Apply(dropped)), backend: TestBackend.Instance, seed: 5);
        model.Compile("sgd", "mse");
        model.Initialize();
        dense.Kernel!.Assign(Enumerable.Repeat(1f, 36).ToArray());
        const int n = 16;
        var ones = Enumerable.Repeat(1f, n * 36).ToArray();
        Assert.That(model.Predict(ones, n), Is.All.EqualTo(36f));
        model.ComputeGradients(new Batch(ones, [n, 3, 3, 4], new float[n], [n, 1]));
        var gradient = dense.Kernel.Gradient!.ToArray();
        Assert.That(gradient, Is.All.EqualTo(gradient[0]).Within(1e-4f));
        double scale = 1 / 0.75, keptSamples = gradient[0] * n / (72 * scale * scale);
        Assert.That(keptSamples, Is.EqualTo(Math.Round(keptSamples)).Within(1e-3));
        Assert.That(keptSamples, Is.InRange(4, 15.5));
    }

    private const string Keras3Json = """
    {"module": "keras", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 3], "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null, "name": "input_layer", "inbound_nodes": []},
      {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "filters": 2, "kernel_size": [1, 1], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "hard_sigmoid", "use_bias": true}, "registered_name": null, "build_config": {"input_shape": [null, 4, 4, 3]}, "name": "conv2d", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4, 4, 3], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]},
      {"module": "keras.layers", "class_name": "Activation", "config": {"name": "act", "trainable": true, "dtype": "float32", "activation": "hard_sigmoid"}, "registered_name": null, "name": "act", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4, 4, 2], "dtype": "float32", "keras_history": ["conv2d", 0, 0]}}], "kwargs": {}}]}
    ], "input_layers": [["input_layer", 0, 0]], "output_layers": [["act", 0, 0]]}, "registered_name": "Functional"}
    """;

    // Keras 3: hard_sigmoid(x) = relu6(x + 3)/6 (keras/src/activations); Keras 2 and TF.js: clip(0.2x + 0.5, 0, 1).
    [Test]
    public void HardSigmoid_InKeras3Config_IsKeras3s_AndInKeras2Config_IsKeras2s()
    {
        using var keras3 = KerasModels.FromJson(Keras3Json, TestBackend.Instance);
        Assert.That(((Conv2D)keras3.GetLayer("conv2d")).Activation.Kernel, Is.EqualTo(KernelActivation.HardSigmoidKeras3));
        Assert.That(((Activation)keras3.GetLayer("act")).Activation.Kernel, Is.EqualTo(KernelActivation.HardSigmoidKeras3));

        string keras2 = MobileNetKeras224Json().Replace("\"activation\": \"softmax\"", "\"activation\": \"hard_sigmoid\"");
        using var old = KerasModels.FromJson(keras2, TestBackend.Instance);
        Assert.That(((Activation)old.GetLayer("act_softmax")).Activation.Kernel, Is.EqualTo(KernelActivation.HardSigmoid));
    }

    /// <summary>Xception's entry-flow residual (SeparableConv2D twice, MaxPooling2D same, a strided 1×1 shortcut), InceptionV3's conv2d_bn (BN without scale), DenseNet's conv_block (BN, relu, 1×1, concat).</summary>
    private const string XceptionInceptionDenseNetJson = """
    {"class_name": "Functional", "config": {"name": "mixed", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 9, 9, 6], "dtype": "float32", "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
      {"class_name": "SeparableConv2D", "config": {"name": "block2_sepconv1", "filters": 8, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "depth_multiplier": 1, "activation": "linear", "use_bias": false, "depthwise_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "pointwise_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}}, "name": "block2_sepconv1", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
      {"class_name": "BatchNormalization", "config": {"name": "block2_sepconv1_bn", "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true}, "name": "block2_sepconv1_bn", "inbound_nodes": [[["block2_sepconv1", 0, 0, {}]]]},
      {"class_name": "Activation", "config": {"name": "block2_sepconv2_act", "activation": "relu"}, "name": "block2_sepconv2_act", "inbound_nodes": [[["block2_sepconv1_bn", 0, 0, {}]]]},
      {"class_name": "SeparableConv2D", "config": {"name": "block2_sepconv2", "filters": 8, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "depth_multiplier": 1, "activation": "linear", "use_bias": false}, "name": "block2_sepconv2", "inbound_nodes": [[["block2_sepconv2_act", 0, 0, {}]]]},
      {"class_name": "MaxPooling2D", "config": {"name": "block2_pool", "pool_size": [3, 3], "padding": "same", "strides": [2, 2], "data_format": "channels_last"}, "name": "block2_pool", "inbound_nodes": [[["block2_sepconv2", 0, 0, {}]]]},
      {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 8, "kernel_size": [1, 1], "strides": [2, 2], "padding": "same", "activation": "linear", "use_bias": false}, "name": "conv2d", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
      {"class_name": "Add", "config": {"name": "add"}, "name": "add", "inbound_nodes": [[["block2_pool", 0, 0, {}], ["conv2d", 0, 0, {}]]]},
      {"class_name": "Conv2D", "config": {"name": "conv2d_1", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "activation": "linear", "use_bias": false}, "name": "conv2d_1", "inbound_nodes": [[["add", 0, 0, {}]]]},
      {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "axis": 3, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": false}, "name": "batch_normalization", "inbound_nodes": [[["conv2d_1", 0, 0, {}]]]},
      {"class_name": "Activation", "config": {"name": "activation", "activation": "relu"}, "name": "activation", "inbound_nodes": [[["batch_normalization", 0, 0, {}]]]},
      {"class_name": "BatchNormalization", "config": {"name": "conv2_block1_0_bn", "axis": 3, "momentum": 0.99, "epsilon": 1.001e-05, "center": true, "scale": true}, "name": "conv2_block1_0_bn", "inbound_nodes": [[["activation", 0, 0, {}]]]},
      {"class_name": "Activation", "config": {"name": "conv2_block1_0_relu", "activation": "relu"}, "name": "conv2_block1_0_relu", "inbound_nodes": [[["conv2_block1_0_bn", 0, 0, {}]]]},
      {"class_name": "Conv2D", "config": {"name": "conv2_block1_1_conv", "filters": 3, "kernel_size": [1, 1], "strides": [1, 1], "padding": "valid", "activation": "linear", "use_bias": false}, "name": "conv2_block1_1_conv", "inbound_nodes": [[["conv2_block1_0_relu", 0, 0, {}]]]},
      {"class_name": "Concatenate", "config": {"name": "conv2_block1_concat", "axis": 3}, "name": "conv2_block1_concat", "inbound_nodes": [[["activation", 0, 0, {}], ["conv2_block1_1_conv", 0, 0, {}]]]},
      {"class_name": "ZeroPadding2D", "config": {"name": "pad", "padding": [[1, 1], [1, 1]], "data_format": "channels_last"}, "name": "pad", "inbound_nodes": [[["conv2_block1_concat", 0, 0, {}]]]},
      {"class_name": "AveragePooling2D", "config": {"name": "pool", "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}, "name": "pool", "inbound_nodes": [[["pad", 0, 0, {}]]]},
      {"class_name": "GlobalMaxPooling2D", "config": {"name": "max_pool", "data_format": "channels_last", "keepdims": true}, "name": "max_pool", "inbound_nodes": [[["pool", 0, 0, {}]]]}
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["max_pool", 0, 0]]}}
    """;

    [Test]
    public void XceptionInceptionAndDenseNetBlocks_Config_BuildWithKerasShapes()
    {
        using var model = KerasModels.FromJson(XceptionInceptionDenseNetJson, TestBackend.Instance);
        Assert.That(model.GetLayer("block2_sepconv1").ParameterCount, Is.EqualTo(3 * 3 * 6 + 6 * 8));
        Assert.That(model.GetLayer("batch_normalization").ParameterCount, Is.EqualTo(3 * 4));
        Assert.That(model.GetLayer("add").OutputShape, Is.EqualTo(new[] { 5, 5, 8 }));
        Assert.That(model.GetLayer("conv2_block1_concat").OutputShape, Is.EqualTo(new[] { 3, 3, 7 }));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 1, 1, 7 }));
        Assert.That(model.Predict(GraphReference.Uniform(9 * 9 * 6, 72), 1).All(float.IsFinite));
    }
}
