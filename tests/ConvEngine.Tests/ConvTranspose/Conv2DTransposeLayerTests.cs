using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Serialization;
using ConvEngine.Tests.Graph;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using ConvEngine.Tests.Training;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.ConvTranspose;

/// <summary>
/// Keras Conv2DTranspose as a layer: Keras's output sizes (deconv_output_length) and TensorFlow's cropping against the
/// double reference, on cpu and ilgpu-cpu; trainable (every weight's gradient against finite differences, and cpu ≡
/// ilgpu-cpu); its config written and read back.
/// </summary>
public class Conv2DTransposeLayerTests
{
    private static IEnumerable<TestCaseData> BothFamilies() =>
    [
        new TestCaseData(BackendCase.Cpu(SimdSupport.Detected)).SetArgDisplayNames("cpu"),
        new TestCaseData(BackendCase.IlgpuCpu()).SetArgDisplayNames("ilgpu-cpu"),
    ];

    [TestCaseSource(nameof(BothFamilies))]
    public void KerasPadding_SizesAndCropsAsTensorFlow(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        foreach (var (kernel, stride, same, outputPadding, seed) in new (int, int, bool, int?, int)[]
                 { (3, 2, true, null, 1), (3, 2, false, null, 2), (1, 2, false, null, 3), (4, 2, true, null, 4), (3, 3, true, 1, 5), (2, 3, false, 2, 6) })
        {
            var input = new InputLayer([4, 5, 3], "x");
            var layer = new Conv2DTranspose(2, kernel, stride, same ? "same" : "valid", outputPadding, name: "up");
            using var model = new Model(input, layer.Apply(input), backend: backend, seed: 7);
            model.Initialize();
            var x = GraphReference.Uniform(2 * 60, seed);
            var kernelValues = GraphReference.Uniform(kernel * kernel * 2 * 3, seed + 10);
            var bias = GraphReference.Uniform(2, seed + 20);
            layer.Kernel!.Assign(kernelValues);
            layer.Bias!.Assign(bias);

            // Keras's kernel (kh, kw, filters, in) as the reference's ONNX-layout (in, filters, kh, kw).
            var onnx = new double[kernelValues.Length];
            for (int di = 0; di < kernel; di++) for (int dj = 0; dj < kernel; dj++) for (int f = 0; f < 2; f++) for (int c = 0; c < 3; c++)
                onnx[((c * 2 + f) * kernel + di) * kernel + dj] = kernelValues[((di * kernel + dj) * 2 + f) * 3 + c];
            var (lengthH, beforeH) = DoubleReference.KerasDeconvLength(4, kernel, stride, 1, same, outputPadding);
            var (lengthW, beforeW) = DoubleReference.KerasDeconvLength(5, kernel, stride, 1, same, outputPadding);
            // TensorFlow crops `before` from the full (n − 1)s + k output and pads or crops the end to the length.
            int extraH = lengthH - ((4 - 1) * stride + kernel - beforeH), extraW = lengthW - ((5 - 1) * stride + kernel - beforeW);
            var expected = DoubleReference.ConvTranspose2D(Nd.FromFloats(x, 2, 4, 5, 3), new Nd(onnx, 3, 2, kernel, kernel), OpTests.TestData.Widen(bias),
                (stride, stride), (1, 1), (beforeH, Math.Max(0, -extraH), beforeW, Math.Max(0, -extraW)), (Math.Max(0, extraH), Math.Max(0, extraW)));
            string what = $"Conv2DTranspose k{kernel} s{stride} {(same ? "same" : "valid")} output_padding {outputPadding?.ToString() ?? "None"}";
            Assert.That(layer.OutputShape, Is.EqualTo(new[] { lengthH, lengthW, 2 }), what);
            Approx.AssertClose(expected.Data, model.Predict(x, 2), kernel * kernel * 3, what);
        }
    }

    internal static Model Upsampler(IBackend backend, ulong seed)
    {
        var image = new InputLayer([3, 4, 2], "image");
        var x = new Conv2DTranspose(4, 3, 2, "same", name: "up1").Apply(image);                                        // (6, 8, 4)
        x = new Conv2DTranspose(4, (2, 3), (1, 2), padding: "valid", outputPadding: (0, 1), dilationRate: 1, activation: "tanh", name: "up2").Apply(x);
        x = new Conv2DTranspose(4, (3, 2), (2, 1), Padding.Explicit(1, 0, 2, 1), outputPadding: (1, 0), dilationRate: (1, 2), groups: 2, activation: "swish", name: "grouped").Apply(x);
        var pooled = new GlobalAveragePooling2D("gap").Apply(x);
        return new Model(image, new Dense(2, activation: "softmax", name: "probs").Apply(pooled), "upsampler", backend, seed);
    }

    private static Batch Batch() => new(GraphReference.Uniform(2 * 24, 90), [2, 3, 4, 2], [1f, 0f], [2]);

    [Test]
    public void Upsampler_EveryWeightGradient_MatchesFiniteDifferences()
    {
        using var model = Upsampler(TestBackend.Instance, 41);
        model.Compile("sgd", "sparse_categorical_crossentropy");
        GraphGradientTests.CheckTrainableWeights(model, Batch());
    }

    [Test]
    public void UpsamplerGradients_CpuAndIlgpuCpu_Agree()
    {
        Dictionary<string, float[]> Gradients(IBackend backend)
        {
            using var model = Upsampler(backend, 42);
            model.Compile("sgd", "sparse_categorical_crossentropy");
            model.ComputeGradients(Batch());
            return model.NamedParameters.Where(p => p.Parameter.Trainable).ToDictionary(p => p.Path, p => p.Parameter.Gradient!.ToArray());
        }

        using var cpuBackend = new CpuBackend();
        var cpu = Gradients(cpuBackend);
        var ilgpu = Gradients(BackendCase.IlgpuCpu().Acquire());
        Assert.That(ilgpu.Keys, Is.EquivalentTo(cpu.Keys));
        foreach (var (path, gradient) in cpu) Approx.AssertClose(gradient, ilgpu[path], 48, path);
    }

    [Test]
    public void Config_RoundTrips_KerasKeysAndExplicitPads()
    {
        using var model = Upsampler(TestBackend.Instance, 43);
        var json = ModelConfig.ToJson(model);
        var up2 = json["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "up2")!["config"]!;
        Assert.That(up2["output_padding"]!.ToJsonString(), Is.EqualTo("[0,1]"));
        Assert.That(up2["padding"]!.GetValue<string>(), Is.EqualTo("valid"));
        var grouped = json["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "grouped")!["config"]!;
        Assert.That(grouped["padding"]!.ToJsonString(), Is.EqualTo("[[1,0],[2,1]]"));
        using var rebuilt = ModelConfig.FromJson(json, TestBackend.Instance, 44);
        Assert.That(rebuilt.Layers.Select(l => l.OutputShape), Is.EqualTo(model.Layers.Select(l => l.OutputShape)));
        Assert.That(ModelConfig.ToJson(rebuilt).ToJsonString(), Is.EqualTo(json.ToJsonString()));
    }
}
