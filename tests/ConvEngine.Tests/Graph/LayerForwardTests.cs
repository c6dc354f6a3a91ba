using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Graph;

/// <summary>Each new layer's inference output (Model.Predict) against a double-precision computation written here.</summary>
public class LayerForwardTests
{
    private static Model Build(InputLayer input, SymbolicTensor output) => new(input, output, backend: TestBackend.Instance, seed: 1);

    private static void AssertClose(float[] got, IReadOnlyList<double> expected, double tolerance = 1e-5)
    {
        Assert.That(got, Has.Length.EqualTo(expected.Count));
        for (int i = 0; i < got.Length; i++)
            Assert.That(got[i], Is.EqualTo(expected[i]).Within(tolerance * (1 + Math.Abs(expected[i]))), $"element {i}");
    }

    // keras.layers.Add: the elementwise sum of all inputs.
    [Test]
    public void Add_ThreeInputs_IsTheElementwiseSum()
    {
        var input = new InputLayer([2, 2, 3], "x");
        var a = new Rescaling(2.0, name: "twice").Apply(input);
        var b = new Rescaling(-0.5, 1.0, name: "shifted").Apply(input);
        using var model = Build(input, new Add(name: "sum").Apply(input, a, b));
        float[] x = GraphReference.Uniform(2 * 12, 1);
        // x + 2x + (−0.5x + 1) = 2.5x + 1
        AssertClose(model.Predict(x), x.Select(v => 2.5 * v + 1).ToArray());
    }

    // keras.layers.Concatenate(axis=-1): channels of the first input, then of the second, at every pixel.
    [Test]
    public void Concatenate_JoinsChannelsInInputOrder()
    {
        var input = new InputLayer([2, 3, 2], "x");
        var doubled = new Rescaling(2.0, name: "doubled").Apply(input);
        var negated = new Rescaling(-1.0, name: "negated").Apply(input);
        using var model = Build(input, new Concatenate(name: "cat").Apply(doubled, input, negated));
        float[] x = GraphReference.Uniform(6 * 2, 2);
        var expected = new List<double>();
        for (int p = 0; p < 6; p++)
        {
            expected.AddRange(x[(2 * p)..(2 * p + 2)].Select(v => 2.0 * v));
            expected.AddRange(x[(2 * p)..(2 * p + 2)].Select(v => (double)v));
            expected.AddRange(x[(2 * p)..(2 * p + 2)].Select(v => -(double)v));
        }
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 2, 3, 6 }));
        AssertClose(model.Predict(x), expected);
    }

    // Keras BatchNormalization at inference: gamma·(x − moving_mean)/√(moving_variance + ε) + beta.
    [TestCase(true, true)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    public void BatchNormalization_Inference_UsesTheMovingStatistics(bool scale, bool center)
    {
        var input = new InputLayer([3, 2, 4], "x");
        var bn = new BatchNormalization(epsilon: 0.01, scale: scale, center: center, name: "bn");
        using var model = Build(input, bn.Apply(input));
        model.Initialize();
        float[] gamma = GraphReference.Uniform(4, 3, 0.5f, 2f), beta = GraphReference.Uniform(4, 4);
        float[] mean = GraphReference.Uniform(4, 5), variance = GraphReference.Uniform(4, 6, 0.1f, 2f);
        bn.Gamma?.Assign(gamma);
        bn.Beta?.Assign(beta);
        bn.MovingMean!.Assign(mean);
        bn.MovingVariance!.Assign(variance);
        float[] x = GraphReference.Uniform(2 * 24, 7, -3f, 3f);
        var expected = x.Select((v, i) =>
        {
            int c = i % 4;
            return (scale ? gamma[c] : 1.0) * (v - mean[c]) / Math.Sqrt(variance[c] + 0.01) + (center ? beta[c] : 0.0);
        }).ToArray();
        AssertClose(model.Predict(x), expected);
        Assert.That(bn.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "gamma", "beta", "moving_mean", "moving_variance" }.Where(n => (n != "gamma" || scale) && (n != "beta" || center))));
    }

    // In training Keras normalises with the batch's own mean and biased variance. The MSE loss against zero targets
    // is the mean of y², so the training loss pins down the training-mode output.
    [Test]
    public void BatchNormalization_Training_NormalisesWithBatchStatistics()
    {
        var input = new InputLayer([2, 2, 3], "x");
        var bn = new BatchNormalization(name: "bn");
        using var model = Build(input, bn.Apply(input));
        model.Compile("sgd", "mse");
        float[] gamma = [0.5f, 2f, -1f], beta = [0.1f, -0.2f, 0.3f];
        bn.Gamma!.Assign(gamma);
        bn.Beta!.Assign(beta);
        float[] x = GraphReference.Uniform(3 * 12, 8, -2f, 4f);
        double[] y = GraphReference.BatchNormTraining(GraphReference.Widen(x), 3, 1e-3, GraphReference.Widen(gamma), GraphReference.Widen(beta));
        double expectedLoss = y.Sum(v => v * v) / y.Length;
        double loss = model.ComputeGradients(new ConvEngine.Training.Batch(x, [3, 2, 2, 3], new float[36], [3, 2, 2, 3]));
        Assert.That(loss, Is.EqualTo(expectedLoss).Within(1e-5 * expectedLoss));
    }

    // ONNX LRN / Caffe ACROSS_CHANNELS with GoogLeNet's settings.
    [Test]
    public void Lrn_MatchesTheOnnxDefinition()
    {
        var input = new InputLayer([2, 3, 7], "x");
        using var model = Build(input, new LRN(5, alpha: 0.3f, beta: 0.75f, bias: 2f, name: "lrn").Apply(input));
        float[] x = GraphReference.Uniform(2 * 42, 9, -3f, 3f);
        AssertClose(model.Predict(x), GraphReference.Lrn(GraphReference.Widen(x), 7, 5, 0.3, 0.75, 2));
    }

    // keras.layers.ZeroPadding2D(((1, 0), (2, 1))): one zero row on top, two zero columns left, one right.
    [Test]
    public void ZeroPadding2D_AsymmetricPadding_PlacesZerosAroundTheImage()
    {
        var input = new InputLayer([2, 2, 1], "x");
        var pad = new ZeroPadding2D((1, 0), (2, 1), name: "pad");
        using var model = Build(input, pad.Apply(input));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 3, 5, 1 }));
        float[] got = model.Predict([1f, 2f, 3f, 4f]);
        Assert.That(got, Is.EqualTo(new float[]
        {
            0, 0, 0, 0, 0,
            0, 0, 1, 2, 0,
            0, 0, 3, 4, 0,
        }));
    }

    [Test]
    public void ZeroPadding2D_IntPadding_PadsEverySide()
    {
        var input = new InputLayer([1, 2, 3], "x");
        using var model = Build(input, new ZeroPadding2D(2, name: "pad").Apply(input));
        Assert.That(model.OutputShape, Is.EqualTo(new[] { 5, 6, 3 }));
    }

    // keras.layers.Softmax(): exp(x − max) / Σ exp(x − max) over the last axis.
    [Test]
    public void Softmax_NormalisesTheLastAxis()
    {
        var input = new InputLayer([2, 4], "x");
        using var model = Build(input, new Softmax(name: "probs").Apply(input));
        float[] x = GraphReference.Uniform(3 * 8, 10, -5f, 5f);
        var expected = new double[x.Length];
        for (int row = 0; row < 6; row++)
        {
            double max = x[(4 * row)..(4 * row + 4)].Max();
            double sum = x[(4 * row)..(4 * row + 4)].Sum(v => Math.Exp(v - max));
            for (int c = 0; c < 4; c++) expected[4 * row + c] = Math.Exp(x[4 * row + c] - max) / sum;
        }
        AssertClose(model.Predict(x), expected);
    }

    // Caffe/ONNX ceil_mode: 6 wide, window 3, stride 2 → ⌈(6 − 3)/2⌉ + 1 = 3 outputs (floor mode: 2); the last window hangs over.
    [Test]
    public void MaxPool2D_CeilMode_AddsTheOverhangingWindow()
    {
        var input = new InputLayer([1, 6, 1], "x");
        var floor = new MaxPool2D((1, 3), (1, 2), name: "floor");
        var ceil = new MaxPool2D((1, 3), (1, 2), name: "ceil") { CeilMode = true };
        using var floorModel = Build(input, floor.Apply(input));
        var input2 = new InputLayer([1, 6, 1], "x2");
        using var ceilModel = Build(input2, ceil.Apply(input2));
        float[] x = [1, 5, 2, 0, 3, 7];
        Assert.That(floorModel.Predict(x), Is.EqualTo(new float[] { 5, 3 }));
        // Windows [1 5 2], [2 0 3], [3 7 |pad].
        Assert.That(ceilModel.Predict(x), Is.EqualTo(new float[] { 5, 3, 7 }));
    }

    // Caffe average pooling divides by the whole window, pads included (count_include_pad); TensorFlow would not.
    [Test]
    public void AveragePooling2D_ExplicitPadsCountingPad_DividesByTheWholeWindow()
    {
        var input = new InputLayer([1, 3, 1], "x");
        var pool = new AveragePooling2D((1, 2), (1, 2), name: "avg") { Padding = Padding.Explicit(0, 0, 1, 0), CountIncludePad = true };
        using var model = Build(input, pool.Apply(input));
        // Padded row [0 | 2 4 6]: windows [0 2] → 2/2 = 1, [4 6] → 5.
        Assert.That(model.Predict([2f, 4f, 6f]), Is.EqualTo(new float[] { 1, 5 }));
    }

    [Test]
    public void Add_ShapeMismatch_NamesBothLayersAndShapes()
    {
        var input = new InputLayer([4, 4, 3], "x");
        var conv = new Conv2D(5, 1, name: "wide").Apply(input);
        var e = Assert.Throws<ShapeException>(() => new Add(name: "join").Apply(input, conv));
        Assert.That(e!.Message, Does.Contain("Add 'join'").And.Contain("'x' outputs (None, 4, 4, 3)").And.Contain("'wide' outputs (None, 4, 4, 5)"));
    }

    [Test]
    public void Concatenate_SpatialMismatch_NamesBothLayersAndShapes()
    {
        var input = new InputLayer([4, 4, 3], "x");
        var pooled = new MaxPool2D(name: "pooled").Apply(input);
        var e = Assert.Throws<ShapeException>(() => new Concatenate(name: "cat").Apply(input, pooled));
        Assert.That(e!.Message, Does.Contain("Concatenate 'cat'").And.Contain("(None, 4, 4, 3)").And.Contain("'pooled' outputs (None, 2, 2, 3)"));
    }

    [Test]
    public void BatchNormalization_OtherThanTheChannelAxis_IsRefusedByName()
    {
        var input = new InputLayer([4, 4, 3], "x");
        var e = Assert.Throws<NotSupportedException>(() => new BatchNormalization(axis: 1, name: "bn_h").Apply(input));
        Assert.That(e!.Message, Does.Contain("BatchNormalization 'bn_h'").And.Contain("axis 1"));
        Assert.That(new BatchNormalization(axis: 3, name: "bn_c").Apply(input).Shape, Is.EqualTo(new[] { 4, 4, 3 }));
    }
}
