using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Graph;
using ConvEngine.Tests.OpTests;
using ConvEngine.Tests.Reference;
using NUnit.Framework;
using Activation = ConvEngine.Layers.Activation;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// The layers of keras.applications bases at inference (Model.Predict) on cpu and on ILGPU's CPU accelerator,
/// against the double reference: DepthwiseConv2D, SeparableConv2D, Cropping2D, Reshape, Multiply with broadcasting,
/// GlobalMaxPooling2D and keepdims, ReLU with max_value / negative_slope / threshold.
/// </summary>
public class ApplicationLayerTests
{
    private static IEnumerable<TestCaseData> BothFamilies() =>
    [
        new TestCaseData(BackendCase.Cpu(SimdSupport.Detected)).SetArgDisplayNames("cpu"),
        new TestCaseData(BackendCase.IlgpuCpu()).SetArgDisplayNames("ilgpu-cpu"),
    ];

    private static Nd Sample(int seed, params int[] shape) =>
        Nd.FromFloats(GraphReference.Uniform(shape.Aggregate(1, (a, d) => a * d), seed), shape);

    private static float[] Floats(Nd x) => Array.ConvertAll(x.Data, v => (float)v);

    private static float[] Predict(IBackend backend, InputLayer input, SymbolicTensor output, Nd x, Action<Model>? weights = null)
    {
        using var model = new Model(input, output, backend: backend, seed: 3);
        model.Initialize();
        weights?.Invoke(model);
        return model.Predict(Floats(x), x.Shape[0]);
    }

    // tf.nn.depthwise_conv2d with Keras's (kh, kw, C, depth_multiplier) kernel: output channel c·M + m.
    [TestCaseSource(nameof(BothFamilies))]
    public void DepthwiseConv2D_MatchesTheReference_AcrossStridesPaddingDilationAndMultiplier(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        foreach (var (stride, padding, multiplier, dilation, seed) in new[] { (1, "same", 1, 1, 10), (2, "same", 2, 1, 11), (2, "valid", 3, 1, 12), (1, "valid", 2, 2, 13), (3, "same", 1, 1, 14) })
        {
            var x = Sample(seed, 2, 7, 8, 3);
            var kernel = Sample(seed + 100, 3, 3, 3, multiplier);
            var bias = Sample(seed + 200, 3 * multiplier);
            var input = new InputLayer([7, 8, 3], "x");
            var layer = new DepthwiseConv2D(3, stride, padding, multiplier, dilation, name: "dw");
            var got = Predict(backend, input, layer.Apply(input), x, _ =>
            {
                layer.DepthwiseKernel!.Assign(Floats(kernel));
                layer.Bias!.Assign(Floats(bias));
            });
            var mode = padding == "same" ? PaddingMode.Same : PaddingMode.Valid;
            var expected = DoubleReference.DepthwiseConv2D(x, kernel, bias.Data, stride, stride, mode, dilation, dilation);
            Assert.That(layer.OutputShape, Is.EqualTo(expected.Shape[1..]), $"stride {stride} {padding} ×{multiplier} dilation {dilation}");
            Approx.AssertClose(expected.Data, got, 9, $"DepthwiseConv2D stride {stride} {padding} ×{multiplier} dilation {dilation}");
        }
    }

    // tf.nn.separable_conv2d: depthwise (strides, padding, dilation) then a 1×1 pointwise with the bias and activation.
    [TestCaseSource(nameof(BothFamilies))]
    public void SeparableConv2D_IsDepthwiseThenPointwise(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = Sample(20, 2, 6, 5, 4);
        var depthwise = Sample(21, 3, 3, 4, 2);
        var pointwise = Sample(22, 1, 1, 8, 5);
        var bias = Sample(23, 5);
        var input = new InputLayer([6, 5, 4], "x");
        var layer = new SeparableConv2D(5, 3, strides: 2, padding: "same", depthMultiplier: 2, activation: "swish", name: "sep");
        var got = Predict(backend, input, layer.Apply(input), x, _ =>
        {
            layer.DepthwiseKernel!.Assign(Floats(depthwise));
            layer.PointwiseKernel!.Assign(Floats(pointwise));
            layer.Bias!.Assign(Floats(bias));
        });
        var linear = DoubleReference.SeparableConv2D(x, depthwise, pointwise, bias.Data, 2, 2, PaddingMode.Same);
        var expected = DoubleReference.Activate(linear.Data, KernelActivation.Swish);
        Assert.That(layer.Parameters.Select(p => (p.Name, p.Shape.ToString())), Is.EqualTo(new[]
            { ("depthwise_kernel", "(3, 3, 4, 2)"), ("pointwise_kernel", "(1, 1, 8, 5)"), ("bias", "(5)") }));
        Approx.AssertClose(expected, got, 9 * 8, "SeparableConv2D");
    }

    // Keras Cropping2D(((top, bottom), (left, right))).
    [TestCaseSource(nameof(BothFamilies))]
    public void Cropping2D_KeepsTheInteriorWindow(BackendCase backendCase)
    {
        var x = Sample(30, 2, 6, 7, 3);
        var input = new InputLayer([6, 7, 3], "x");
        var got = Predict(backendCase.Acquire(), input, new Cropping2D((2, 1), (0, 3), name: "crop").Apply(input), x);
        Approx.AssertClose(DoubleReference.Crop2D(x, 2, 1, 0, 3).Data, got, 1, "Cropping2D");
    }

    // Squeeze-and-excite as Keras's EfficientNet builds it: GAP → Reshape((1, 1, C)) → … → Multiply([x, se]);
    // and the same gate with keepdims and a (None, 1, 1, 1) per-sample scale, operands in either order.
    [TestCaseSource(nameof(BothFamilies))]
    public void Multiply_BroadcastsASqueezeExciteGateOverThePositions(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = Sample(40, 3, 4, 5, 6);
        var pooled = DoubleReference.GlobalPool(x, PoolKind.Average);

        var input = new InputLayer([4, 5, 6], "x");
        var gate = new Reshape([1, 1, 6], name: "se_reshape").Apply(new GlobalAveragePooling2D("se_squeeze").Apply(input));
        var got = Predict(backend, input, new Multiply(name: "se_excite").Apply(input, gate), x);
        Approx.AssertClose(DoubleReference.MultiplyBroadcast(x.Data, pooled.Data, 3, 20, 6, 6), got, 20, "Multiply (N,H,W,C) × (N,1,1,C)");

        var input2 = new InputLayer([4, 5, 6], "x");
        var keep = new GlobalMaxPooling2D("gmp", keepDims: true).Apply(input2);
        var perSample = new Reshape([1, 1, 1], name: "one").Apply(new GlobalMaxPooling2D("gmp_all").Apply(new Reshape([1, 120, 1], name: "flat").Apply(input2)));
        var both = new Multiply(name: "m").Apply(perSample, new Multiply(name: "m2").Apply(keep, input2));
        var max = DoubleReference.GlobalPool(x, PoolKind.Max);
        var sampleMax = Enumerable.Range(0, 3).Select(b => x.Data.Skip(b * 120).Take(120).Max()).ToArray();
        var gated = DoubleReference.MultiplyBroadcast(DoubleReference.MultiplyBroadcast(x.Data, max.Data, 3, 20, 6, 6), sampleMax, 3, 20, 6, 1);
        Assert.That(keep.Shape, Is.EqualTo(new[] { 1, 1, 6 }));
        Approx.AssertClose(gated, Predict(backend, input2, both, x), 20, "Multiply by keepdims max and a per-sample max");
    }

    // Keras ReLU(max_value, negative_slope, threshold) as a layer, and ReLU(6.0) as MobileNet uses it.
    [TestCaseSource(nameof(BothFamilies))]
    public void ReLU_Layer_ClipsAndLeaksAsKerasDefinesIt(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = Nd.FromFloats(GraphReference.Uniform(2 * 30, 50, -9f, 9f), 2, 30);
        foreach (var (max, slope, threshold) in new (double?, double, double)[] { (6.0, 0, 0), (null, 0.2, 0), (4.0, 0.1, 1.5), (null, 0, 0) })
        {
            var input = new InputLayer([30], "x");
            var relu = new ReLU(max, slope, threshold, name: "relu");
            var got = Predict(backend, input, relu.Apply(input), x);
            var expected = x.Data.Select(v => Math.Min(Math.Max(v > threshold ? v : 0, 0), max ?? double.PositiveInfinity) - slope * Math.Max(threshold - v, 0)).ToArray();
            Approx.AssertClose(expected, got, 1, $"ReLU(max_value {max}, negative_slope {slope}, threshold {threshold})");
        }
    }
}
