using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

/// <summary>
/// A Dense layer on fixed data with mean squared error has an analytic gradient, so a few optimizer
/// steps can be recomputed here in double precision from the update formulas alone.
/// </summary>
public class OptimizerTests
{
    private const int Rows = 4, In = 3, Out = 2;
    private static readonly double[] X = [0.5, -1.0, 2.0, 1.5, 0.25, -0.5, -2.0, 1.0, 0.75, 0.1, 0.2, 0.3];
    private static readonly double[] T = [1.0, -1.0, 0.5, 2.0, -1.5, 0.0, 0.25, 0.75];
    private static readonly double[] W0 = [0.2, -0.3, 0.5, 0.1, -0.4, 0.25];
    private static readonly double[] B0 = [0.05, -0.02];

    private static Batch TheBatch => new(X.Select(v => (float)v).ToArray(), [Rows, In], T.Select(v => (float)v).ToArray(), [Rows, Out]);

    /// <summary>Runs <paramref name="steps"/> training steps; returns the losses seen and the final weights.</summary>
    private static (double[] Losses, float[] Kernel, float[] Bias) Train(Optimizer optimizer, int steps)
    {
        var input = new InputLayer([In], "x");
        var dense = new Dense(Out, name: "lin");
        using var model = new Model(input, dense.Apply(input), backend: TestBackend.Instance, seed: 1);
        model.Compile(optimizer, "mse");
        dense.Kernel!.Assign(TestBackend.Instance, W0.Select(v => (float)v).ToArray());
        dense.Bias!.Assign(TestBackend.Instance, B0.Select(v => (float)v).ToArray());
        var losses = Enumerable.Range(0, steps).Select(_ => model.TrainOnBatch(TheBatch)["loss"]).ToArray();
        Assert.That(optimizer.Iterations, Is.EqualTo(steps));
        return (losses, dense.Kernel.ToArray(), dense.Bias.ToArray());
    }

    /// <summary>Loss and gradient of mean((xW + b − t)²): dL/dy = 2(y − t)/(rows·cols), dW = xᵀ·dL/dy, db = Σ_rows dL/dy.</summary>
    private static (double Loss, double[] GradW, double[] GradB) LossAndGradient(double[] w, double[] b)
    {
        double loss = 0;
        var gw = new double[In * Out];
        var gb = new double[Out];
        for (int r = 0; r < Rows; r++)
        for (int c = 0; c < Out; c++)
        {
            double y = b[c];
            for (int k = 0; k < In; k++) y += X[r * In + k] * w[k * Out + c];
            double diff = y - T[r * Out + c];
            loss += diff * diff / (Rows * Out);
            double g = 2 * diff / (Rows * Out);
            gb[c] += g;
            for (int k = 0; k < In; k++) gw[k * Out + c] += X[r * In + k] * g;
        }
        return (loss, gw, gb);
    }

    /// <summary>
    /// Keras Adam (keras-semantics.md A): α = lr·√(1−β2^t)/(1−β1^t); m += (g−m)(1−β1); v += (g²−v)(1−β2); θ −= α·m/(√v + ε).
    /// With <paramref name="pytorchForm"/>: θ −= lr·m̂/(√v̂ + ε), ε added after bias correction.
    /// </summary>
    private static (double[] Losses, double[] W, double[] B) AdamReference(double lr, double b1, double b2, double eps, int steps, bool pytorchForm = false)
    {
        double[] w = (double[])W0.Clone(), b = (double[])B0.Clone();
        double[] mw = new double[w.Length], vw = new double[w.Length], mb = new double[b.Length], vb = new double[b.Length];
        var losses = new double[steps];
        for (int t = 1; t <= steps; t++)
        {
            var (loss, gw, gb) = LossAndGradient(w, b);
            losses[t - 1] = loss;
            Step(w, gw, mw, vw);
            Step(b, gb, mb, vb);
            void Step(double[] theta, double[] g, double[] m, double[] v)
            {
                for (int i = 0; i < theta.Length; i++)
                {
                    m[i] += (g[i] - m[i]) * (1 - b1);
                    v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
                    theta[i] -= pytorchForm
                        ? lr * (m[i] / (1 - Math.Pow(b1, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(b2, t))) + eps)
                        : lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t)) * m[i] / (Math.Sqrt(v[i]) + eps);
                }
            }
        }
        return (losses, w, b);
    }

    [TestCase(1e-7)]
    [TestCase(0.01)]   // the course's Adam(epsilon=0.01), where Keras's ε-hat form matters
    public void Adam_ThreeSteps_MatchKerasFormulaInDouble(double epsilon)
    {
        const double lr = 0.05;
        var (losses, kernel, bias) = Train(new Adam(lr, epsilon: epsilon), 3);
        var expected = AdamReference(lr, 0.9, 0.999, epsilon, 3);
        Assert.That(losses, Is.EqualTo(expected.Losses).Within(1e-3).Percent);
        Assert.That(kernel, Is.EqualTo(expected.W).Within(2e-6));
        Assert.That(bias, Is.EqualTo(expected.B).Within(2e-6));
    }

    [Test]
    public void Adam_WithCourseEpsilon_DiffersFromThePyTorchForm()
    {
        var (_, kernel, _) = Train(new Adam(0.05, epsilon: 0.01), 3);
        var pytorch = AdamReference(0.05, 0.9, 0.999, 0.01, 3, pytorchForm: true);
        Assert.That(kernel.Zip(pytorch.W, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-3), "the test would not notice the wrong ε form");
    }

    /// <summary>Keras SGD: velocity = μ·velocity − lr·g; θ += velocity (Nesterov: θ += μ·velocity − lr·g).</summary>
    [TestCase(0.0, false)]
    [TestCase(0.9, false)]
    [TestCase(0.9, true)]
    public void Sgd_ThreeSteps_MatchKerasFormulaInDouble(double momentum, bool nesterov)
    {
        const double lr = 0.1;
        var (losses, kernel, bias) = Train(new Sgd(lr, momentum, nesterov), 3);
        double[] w = (double[])W0.Clone(), b = (double[])B0.Clone();
        double[] velW = new double[w.Length], velB = new double[b.Length];
        var expectedLosses = new double[3];
        for (int t = 0; t < 3; t++)
        {
            var (loss, gw, gb) = LossAndGradient(w, b);
            expectedLosses[t] = loss;
            Step(w, gw, velW);
            Step(b, gb, velB);
        }
        void Step(double[] theta, double[] g, double[] velocity)
        {
            for (int i = 0; i < theta.Length; i++)
            {
                velocity[i] = momentum * velocity[i] - lr * g[i];
                theta[i] += nesterov ? momentum * velocity[i] - lr * g[i] : velocity[i];
            }
        }
        Assert.That(losses, Is.EqualTo(expectedLosses).Within(1e-3).Percent);
        Assert.That(kernel, Is.EqualTo(w).Within(2e-6));
        Assert.That(bias, Is.EqualTo(b).Within(2e-6));
    }

    [Test]
    public void AdamStepSize_IsKerasBiasCorrection()
    {
        var adam = new Adam(0.001);
        Assert.That(adam.StepSize(1), Is.EqualTo(0.001 * Math.Sqrt(1 - 0.999) / (1 - 0.9)).Within(1e-15));
        Assert.That(adam.StepSize(10), Is.EqualTo(0.001 * Math.Sqrt(1 - Math.Pow(0.999, 10)) / (1 - Math.Pow(0.9, 10))).Within(1e-15));
    }
}
