using ConvEngine.Import.Keras;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Graph;
using ConvEngine.Tests.Import;
using ConvEngine.Tests.OpTests;
using NUnit.Framework;
using PureHDF;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// The front of tf.keras's EfficientNet (applications/efficientnet.py): Rescaling(1/255), Normalization(axis=3) with
/// weights mean, variance and an int64 count, Rescaling by 1/√stddev per channel (the imagenet variant), then the
/// strided stem. Keras's Normalization computes (x − mean)/max(√variance, 1e-7), or mean + x·max(√variance, 1e-7)
/// inverted; both are checked on cpu and ilgpu-cpu, and the weights load from a Keras HDF5 file, count included.
/// </summary>
public class EfficientNetStemTests
{
    private static IEnumerable<TestCaseData> BothFamilies() =>
    [
        new TestCaseData(BackendCase.Cpu(SimdSupport.Detected)).SetArgDisplayNames("cpu"),
        new TestCaseData(BackendCase.IlgpuCpu()).SetArgDisplayNames("ilgpu-cpu"),
    ];

    [TestCaseSource(nameof(BothFamilies))]
    public void Normalization_AndItsInverse_FollowKeras(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        float[] mean = [0.485f, 0.456f, -2f], variance = [0.052f, 0f, 4f];   // a zero variance meets the 1e-7 floor
        float[] x = GraphReference.Uniform(2 * 5 * 3, 81, -2f, 2f);
        foreach (bool invert in new[] { false, true })
        {
            var input = new InputLayer([5, 3], "x");
            var layer = new Normalization(invert: invert, name: "norm");
            using var model = new Model(input, layer.Apply(input), backend: backend, seed: 1);
            model.Initialize();
            layer.Mean!.Assign(mean);
            layer.Variance!.Assign(variance);
            var expected = x.Select((v, i) =>
            {
                double deviation = Math.Max(Math.Sqrt(variance[i % 3]), 1e-7);
                return invert ? mean[i % 3] + v * deviation : (v - mean[i % 3]) / deviation;
            }).ToArray();
            Approx.AssertClose(expected, model.Predict(x, 2), 1, $"Normalization invert={invert}");
            Assert.That(layer.Parameters.Select(p => (p.Name, p.Trainable)), Is.EqualTo(new[] { ("mean", false), ("variance", false), ("count", false) }));
        }
    }

    private const string StemJson = """
    {"class_name": "Functional", "config": {"name": "efficientnetb0_stem", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 9, 9, 3], "dtype": "float32", "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
      {"class_name": "Rescaling", "config": {"name": "rescaling", "scale": 0.00392156862745098, "offset": 0.0}, "name": "rescaling", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
      {"class_name": "Normalization", "config": {"name": "normalization", "axis": [3], "invert": false, "mean": null, "variance": null}, "name": "normalization", "inbound_nodes": [[["rescaling", 0, 0, {}]]]},
      {"class_name": "Rescaling", "config": {"name": "rescaling_1", "scale": [2.0896918976428642, 2.1128856368212916, 2.1081851067789197], "offset": 0.0}, "name": "rescaling_1", "inbound_nodes": [[["normalization", 0, 0, {}]]]},
      {"class_name": "ZeroPadding2D", "config": {"name": "stem_conv_pad", "padding": [[0, 1], [0, 1]], "data_format": "channels_last"}, "name": "stem_conv_pad", "inbound_nodes": [[["rescaling_1", 0, 0, {}]]]},
      {"class_name": "Conv2D", "config": {"name": "stem_conv", "filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "valid", "use_bias": false, "activation": "linear"}, "name": "stem_conv", "inbound_nodes": [[["stem_conv_pad", 0, 0, {}]]]},
      {"class_name": "BatchNormalization", "config": {"name": "stem_bn", "axis": 3, "momentum": 0.99, "epsilon": 0.001}, "name": "stem_bn", "inbound_nodes": [[["stem_conv", 0, 0, {}]]]},
      {"class_name": "Activation", "config": {"name": "stem_activation", "activation": "swish"}, "name": "stem_activation", "inbound_nodes": [[["stem_bn", 0, 0, {}]]]}
    ], "input_layers": [["input_1", 0, 0]], "output_layers": [["stem_activation", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}
    """;

    // A full-model H5 as Keras writes EfficientNet's: normalization/mean:0, variance:0 and the int64 scalar count:0.
    [Test]
    public void EfficientNetStem_FullModelH5_LoadsNormalizationWeightsIncludingTheInt64Count()
    {
        using var temp = new TempFolder("convengine-efficientnet-");
        string path = temp.File("efficientnet_stem.h5");
        float[] mean = [0.485f, 0.456f, 0.406f], variance = [0.229f * 0.229f, 0.224f * 0.224f, 0.225f * 0.225f];
        var kernel = KerasTestFiles.Uniform(3 * 3 * 3 * 4, 5, 0.5f);
        var weights = new H5Group();
        void Layer(string name, params (string Weight, H5Dataset Data)[] datasets)
        {
            var group = new H5Group();
            group.Attributes["weight_names"] = datasets.Length == 0 ? new H5Attribute(Array.Empty<double>(), dimensions: [0]) : datasets.Select(d => $"{name}/{d.Weight}:0").ToArray();
            if (datasets.Length > 0)
            {
                var inner = new H5Group();
                foreach (var (weight, data) in datasets) inner[$"{weight}:0"] = data;
                group[name] = inner;
            }
            weights[name] = group;
        }
        string[] order = ["input_1", "rescaling", "normalization", "rescaling_1", "stem_conv_pad", "stem_conv", "stem_bn", "stem_activation"];
        foreach (string name in order)
            switch (name)
            {
                case "normalization":
                    Layer(name, ("mean", new H5Dataset(mean, fileDims: [3])), ("variance", new H5Dataset(variance, fileDims: [3])), ("count", new H5Dataset(1_281_167L)));
                    break;
                case "stem_conv":
                    Layer(name, ("kernel", new H5Dataset(kernel, fileDims: [3, 3, 3, 4])));
                    break;
                case "stem_bn":
                    Layer(name, ("gamma", new H5Dataset(new[] { 1f, 2f, 0.5f, 1f }, fileDims: [4])), ("beta", new H5Dataset(new[] { 0f, 0.1f, -0.1f, 0.2f }, fileDims: [4])),
                        ("moving_mean", new H5Dataset(new float[4], fileDims: [4])), ("moving_variance", new H5Dataset(new[] { 1f, 1f, 1f, 1f }, fileDims: [4])));
                    break;
                default:
                    Layer(name);
                    break;
            }
        weights.Attributes["layer_names"] = order;
        weights.Attributes["keras_version"] = "2.15.0";
        weights.Attributes["backend"] = "tensorflow";
        var file = new H5File { ["model_weights"] = weights };
        file.Attributes["model_config"] = StemJson;
        file.Write(path);

        using var model = KerasModels.LoadH5(path, new CpuBackend());
        var normalization = (Normalization)model.GetLayer("normalization");
        Assert.That(normalization.Mean!.ToArray(), Is.EqualTo(mean));
        Assert.That(normalization.Count!.ToArray(), Is.EqualTo(new[] { 1_281_167f }));
        Assert.That(((Rescaling)model.GetLayer("rescaling_1")).PerChannel, Is.True);
        // 9 padded to 10, 3×3 valid stride 2: ⌊(10 − 3)/2⌋ + 1 = 4.
        Assert.That(model.GetLayer("stem_conv").OutputShape, Is.EqualTo(new[] { 4, 4, 4 }));

        // The first three layers are the ImageNet normalisation (x/255 − mean)/std · 1/√std, per channel.
        // A second graph over the same layers (not disposed: the layers belong to the imported model).
        var front = new Model(model.Input, model.GetLayer("rescaling_1").Node!.Output, "front", model.Backend, 1);
        var pixels = GraphReference.Uniform(9 * 9 * 3, 82, 0f, 255f);
        double[] scale1 = [2.0896918976428642, 2.1128856368212916, 2.1081851067789197];
        var expected = pixels.Select((v, i) => (v / 255.0 - mean[i % 3]) / Math.Sqrt(variance[i % 3]) * scale1[i % 3]).ToArray();
        Approx.AssertClose(expected, front.Predict(pixels, 1), 1, "EfficientNet's input normalisation");
    }
}
