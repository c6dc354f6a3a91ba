using ConvEngine.Kernels;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// The fused loss kernel: each row's loss against the double reference formulas of keras-semantics.md A,
/// and d(mean loss over rows)/d(prediction) against both the hand-derived gradient and finite differences.
/// </summary>
public class LossKernelTests
{
    public sealed record LossCase(LossKind Kind, int Rows, int Cols)
    {
        public override string ToString() => $"{Kind} {Rows}x{Cols}";
    }

    private static readonly (int Rows, int Cols)[] Shapes = [(1, 1), (4, 1), (5, 7), (3, 10), (2, 37)];

    private static IEnumerable<LossCase> Cases() =>
        from kind in Enum.GetValues<LossKind>()
        from shape in Shapes
        where !(shape.Cols == 1 && kind is LossKind.SoftmaxCategoricalCrossEntropy or LossKind.SoftmaxSparseCategoricalCrossEntropy or LossKind.CategoricalCrossEntropy)
        select new LossCase(kind, shape.Rows, shape.Cols);

    private static IEnumerable<TestCaseData> LossCases() => BackendCases.Cross("loss", Cases(), c => true);

    /// <summary>Predictions and targets in each loss's domain, kept away from its clipping bounds.</summary>
    private static (float[] Prediction, float[] Target) Problem(LossCase c, Random random)
    {
        int length = c.Rows * c.Cols;
        switch (c.Kind)
        {
            case LossKind.SigmoidBinaryCrossEntropy:
                // Odd row counts get soft labels in [0, 1], which the logit form accepts as well.
                return (TestData.Uniform(random, length, -4, 4), c.Rows % 2 == 1 ? TestData.Uniform(random, length, 0, 1) : Labels(random, length));
            case LossKind.BinaryCrossEntropy:
                return (TestData.Uniform(random, length, 0.05f, 0.95f), Labels(random, length));
            case LossKind.MeanSquaredError:
                return (TestData.Uniform(random, length, -2, 2), TestData.Uniform(random, length, -2, 2));
            case LossKind.SoftmaxCategoricalCrossEntropy:
                // Odd row counts get soft target distributions (as label smoothing makes them).
                return (TestData.Uniform(random, length, -3, 3), c.Rows % 2 == 1
                    ? Array.ConvertAll(DoubleReference.Softmax(TestData.Widen(TestData.Uniform(random, length)), c.Rows, c.Cols, log: false), v => (float)v)
                    : OneHotRows(random, c.Rows, c.Cols));
            case LossKind.SoftmaxSparseCategoricalCrossEntropy:
                return (TestData.Uniform(random, length, -3, 3),
                    Enumerable.Range(0, c.Rows).Select(_ => (float)random.Next(c.Cols)).ToArray());
            case LossKind.CategoricalCrossEntropy:
            {
                // Probabilities from a softmax, as a Keras softmax output hands them over.
                var p = DoubleReference.Softmax(TestData.Widen(TestData.Uniform(random, length, -1, 1)), c.Rows, c.Cols, log: false);
                return (Array.ConvertAll(p, v => (float)v), OneHotRows(random, c.Rows, c.Cols));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(c));
        }
    }

    private static float[] Labels(Random random, int length) => Enumerable.Range(0, length).Select(_ => (float)random.Next(2)).ToArray();

    private static float[] OneHotRows(Random random, int rows, int cols)
    {
        var t = new float[rows * cols];
        for (int r = 0; r < rows; r++) t[r * cols + random.Next(cols)] = 1;
        return t;
    }

    private static int TargetLength(LossCase c) => c.Kind == LossKind.SoftmaxSparseCategoricalCrossEntropy ? c.Rows : c.Rows * c.Cols;

    private static (float[] Loss, float[] Grad) RunLoss(IBackend backend, LossKind kind, float[] prediction, float[] target, int rows, int cols)
    {
        using var p = Device.Put(backend, prediction);
        using var t = Device.Put(backend, target);
        using var loss = Device.Garbage(backend, rows);
        using var grad = Device.Garbage(backend, prediction.Length);
        backend.Loss(kind, p.Buffer, t.Buffer, loss.Buffer, grad.Buffer, rows, cols);
        return (loss.ToArray(), grad.ToArray());
    }

    [TestCaseSource(nameof(LossCases))]
    public void Loss_PerRowAndGradient_MatchDoubleReference(BackendCase backendCase, LossCase c)
    {
        var backend = backendCase.Acquire();
        var (prediction, target) = Problem(c, TestData.For(c));
        Assert.That(target, Has.Length.EqualTo(TargetLength(c)));
        double[] p = TestData.Widen(prediction), t = TestData.Widen(target);
        var expectedLoss = DoubleReference.LossPerRow(c.Kind, p, t, c.Rows, c.Cols);
        var expectedGrad = DoubleReference.LossGradient(c.Kind, p, t, c.Rows, c.Cols);
        var numericGrad = FiniteDifference.Gradient(v => DoubleReference.MeanLoss(c.Kind, v, t, c.Rows, c.Cols), p, step: 1e-6);

        // The hand-derived gradient and the finite differences of the loss formula agree: the reference is consistent.
        for (int i = 0; i < p.Length; i++)
            Assert.That(expectedGrad[i], Is.EqualTo(numericGrad[i]).Within(1e-7 + 1e-6 * Math.Abs(numericGrad[i])), $"reference gradient {i}");

        var (loss, grad) = RunLoss(backend, c.Kind, prediction, target, c.Rows, c.Cols);
        Approx.AssertClose(expectedLoss, loss, c.Cols, $"loss per row, {c}");
        Approx.AssertClose(numericGrad, grad, c.Cols, $"gradient, {c}");
    }

    /// <summary>
    /// keras-semantics.md A: with a sigmoid output Keras 2 uses the logits, max(z,0) − z·t + log(1 + e^−|z|),
    /// with no clipping: a confident wrong logit of ±60 costs 60, not the clipped −log(1e−7) ≈ 16.1.
    /// The gradient σ(z) − t stays finite; at z = 60, t = 1 it is 0 within float precision.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "loss" })]
    public void SigmoidBinaryCrossEntropy_ExtremeLogits_StayExactAndFinite(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        float[] z = [60, -60, 60, -60];
        float[] t = [0, 1, 1, 0];
        var (loss, grad) = RunLoss(backend, LossKind.SigmoidBinaryCrossEntropy, z, t, 4, 1);
        var expected = new[] { 60.0, 60.0, DoubleReference.SigmoidBce(60, 1), DoubleReference.SigmoidBce(-60, 0) };
        Approx.AssertClose(expected, loss, 1, "loss");
        Assert.That(grad, Is.EqualTo(new[] { 0.25f, -0.25f, 0f, 0f }).Within(1e-6f), "(σ(z) − t)/rows");
    }

    /// <summary>
    /// Keras binary_crossentropy on probabilities clips p to [1e−7, 1−1e−7] and adds ε inside the log:
    /// p = 0 with t = 1 costs −log(1e−7 + 1e−7) = 15.42, not infinity. At p = 1, t = 0 the bound 1 − 1e−7
    /// rounds in float32 to 1 − 2^−23, so Keras itself gives −log(2^−23 + 1e−7) = 15.33 there.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "loss" })]
    public void BinaryCrossEntropy_ClipsProbabilities(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        float[] p = [0, 1];
        float[] t = [1, 0];
        var (loss, grad) = RunLoss(backend, LossKind.BinaryCrossEntropy, p, t, 2, 1);
        Assert.That(loss[0], Is.EqualTo((float)-Math.Log(2e-7)).Within(1e-3f));
        Assert.That(loss[1], Is.InRange(15.3f, 15.5f));
        Assert.That(grad.All(float.IsFinite), "gradient is finite at the clip bounds");
    }

    /// <summary>Softmax cross-entropy from logits subtracts the max: logits of 1000 do not overflow.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "loss" })]
    public void SoftmaxCrossEntropy_HugeLogits_AreStable(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        float[] z = [1000, 0, -1000];
        float[] t = [0, 1, 0];
        var (loss, grad) = RunLoss(backend, LossKind.SoftmaxCategoricalCrossEntropy, z, t, 1, 3);
        Assert.That(loss[0], Is.EqualTo(1000f).Within(1e-3f), "−log softmax(z)[1] = 1000 + log(1 + e^−1000 + e^−2000)");
        Assert.That(grad, Is.EqualTo(new[] { 1f, -1f, 0f }).Within(1e-6f), "softmax − t");
        var (sparseLoss, sparseGrad) = RunLoss(backend, LossKind.SoftmaxSparseCategoricalCrossEntropy, z, [1f], 1, 3);
        Assert.That(sparseLoss[0], Is.EqualTo(1000f).Within(1e-3f));
        Assert.That(sparseGrad, Is.EqualTo(new[] { 1f, -1f, 0f }).Within(1e-6f));
    }

    /// <summary>
    /// keras backend.categorical_crossentropy(from_logits=False) first rescales each row to sum to 1
    /// ("scale preds so that the class probas of each sample sum to 1"), then clips and sums −t·log.
    /// p = [0.2, 0.2] with t = [1, 0] is read as [0.5, 0.5]: loss log 2, not −log 0.2.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "loss" })]
    public void CategoricalCrossEntropy_RescalesRowsToSumOne(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var (loss, _) = RunLoss(backend, LossKind.CategoricalCrossEntropy, [0.2f, 0.2f], [1f, 0f], 1, 2);
        Assert.That(loss[0], Is.EqualTo((float)Math.Log(2)).Within(1e-6f));
    }

    /// <summary>Keras losses reduce over the last axis with a mean (BCE, MSE): a row of C columns is the mean of C terms.</summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "loss" })]
    public void MeanSquaredError_IsTheMeanOverColumns(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        // Row 0: errors 1, 2, 3 → (1 + 4 + 9)/3 = 14/3; row 1: errors 0, 0, 3 → 3.
        var (loss, _) = RunLoss(backend, LossKind.MeanSquaredError, [1, 2, 3, 0, 0, 3], [0, 0, 0, 0, 0, 0], 2, 3);
        Assert.That(loss, Is.EqualTo(new[] { 14f / 3, 3f }).Within(1e-6f));
    }
}
