using ConvEngine.Kernels;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>AdamUpdate and SgdUpdate over several steps against the double reference of Keras's update rules.</summary>
public class OptimizerKernelTests
{
    private const double LearningRate = 0.001;
    // The kernel takes float32 hyper-parameters, as Keras holds them: 1 − 0.999f = 0.00099998713, 1.3e−5 off
    // 0.001, which v shows at once. The reference uses the same float32 values, widened.
    private const double Beta1 = 0.9f, Beta2 = 0.999f;

    /// <summary>The bias correction the caller folds into Adam's step size: lr·√(1−β2^t)/(1−β1^t), t 1-based.</summary>
    private static float AdamStepSize(int t, double lr = LearningRate) =>
        (float)(lr * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t)));

    public sealed record AdamCase(int Length, double Epsilon, int Steps)
    {
        public override string ToString() => $"n{Length} eps{Epsilon} steps{Steps}";
    }

    private static IEnumerable<TestCaseData> AdamCases() => BackendCases.Cross("adam",
        new AdamCase[] { new(1, 1e-7, 3), new(1001, 1e-7, 5), new(1001, 0.01, 5), new(37, 0.01, 20) }, c => c.Length <= 37);

    /// <summary>
    /// Runs the kernel for <paramref name="steps"/> steps from θ0 with m = v = 0; returns θ, m, v.
    /// Gradients span three orders of magnitude, so ε matters for some elements and not for others.
    /// </summary>
    private static (double[] Theta, double[] M, double[] V) RunAdam(IBackend backend, float[] theta0, float[][] grads, double epsilon)
    {
        using var theta = Device.Put(backend, theta0);
        using var m = Device.Put(backend, new float[theta0.Length]);
        using var v = Device.Put(backend, new float[theta0.Length]);
        for (int step = 0; step < grads.Length; step++)
        {
            using var g = Device.Put(backend, grads[step]);
            backend.AdamUpdate(theta.Buffer, g.Buffer, m.Buffer, v.Buffer, theta0.Length, AdamStepSize(step + 1), (float)Beta1, (float)Beta2, (float)epsilon);
        }
        return (TestData.Widen(theta.ToArray()), TestData.Widen(m.ToArray()), TestData.Widen(v.ToArray()));
    }

    private static float[][] Gradients(Random random, int steps, int length) =>
        Enumerable.Range(0, steps).Select(_ =>
        {
            var g = TestData.Uniform(random, length);
            for (int i = 0; i < length; i++) g[i] *= MathF.Pow(10, -(i % 3)) * 0.05f; // 5e−2, 5e−3, 5e−4 scales
            return g;
        }).ToArray();

    private static double[] Delta(double[] after, float[] before) => after.Select((v, i) => v - before[i]).ToArray();

    /// <summary>keras-semantics.md A, Adam: m += (g−m)(1−β1); v += (g²−v)(1−β2); θ −= α·m/(√v + ε̂).</summary>
    [TestCaseSource(nameof(AdamCases))]
    public void Adam_SeveralSteps_MatchKerasFormula(BackendCase backendCase, AdamCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        var theta0 = TestData.Uniform(random, c.Length);
        var grads = Gradients(random, c.Steps, c.Length);

        double[] theta = TestData.Widen(theta0), m = new double[c.Length], v = new double[c.Length];
        for (int step = 0; step < c.Steps; step++)
            DoubleReference.AdamStepKeras(theta, m, v, TestData.Widen(grads[step]), step + 1, LearningRate, Beta1, Beta2, (float)c.Epsilon);

        var got = RunAdam(backend, theta0, grads, c.Epsilon);
        // θ is stored in float32 (ulp ≈ 6e−8 near 1): compare the change, which is of order lr per step.
        Approx.AssertWithin(Delta(theta, theta0), Delta(got.Theta, theta0), 2e-7 * c.Steps, 1e-4, "θ − θ0");
        Approx.AssertWithin(m, got.M, 1e-9, 1e-5, "m");
        Approx.AssertWithin(v, got.V, 1e-13, 1e-5, "v");
    }

    /// <summary>
    /// With the course's Adam(epsilon=0.01), Keras's ε̂ (added to √v, not to √v̂) and PyTorch's ε differ by
    /// √(1−β2^t) ≈ 0.03 at t = 1: the updates differ many times over the tolerance, and the kernel follows Keras.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "adam" })]
    public void Adam_Epsilon001_FollowsKerasEpsilonHat_NotPyTorch(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        const int length = 64, steps = 3;
        var random = new Random(11);
        var theta0 = TestData.Uniform(random, length);
        var grads = Gradients(random, steps, length);

        double[] keras = TestData.Widen(theta0), torch = TestData.Widen(theta0);
        double[] mk = new double[length], vk = new double[length], mt = new double[length], vt = new double[length];
        for (int step = 0; step < steps; step++)
        {
            DoubleReference.AdamStepKeras(keras, mk, vk, TestData.Widen(grads[step]), step + 1, LearningRate, Beta1, Beta2, 0.01f);
            DoubleReference.AdamStepPyTorch(torch, mt, vt, TestData.Widen(grads[step]), step + 1, LearningRate, Beta1, Beta2, 0.01f);
        }
        var got = RunAdam(backend, theta0, grads, 0.01).Theta;

        double kerasError = got.Select((g, i) => Math.Abs(g - keras[i])).Max();
        double torchGap = got.Select((g, i) => Math.Abs(g - torch[i])).Max();
        Assert.That(kerasError, Is.LessThan(1e-6), "distance to the Keras form");
        Assert.That(torchGap, Is.GreaterThan(1e-4), "distance to the PyTorch form: the two forms must differ visibly here");
        Assert.That(torchGap, Is.GreaterThan(100 * kerasError));
    }

    /// <summary>
    /// Hand-worked first step, θ0 = 0, g = 1, lr 0.001: α = 0.001·√0.001/0.1 = 3.16228e−4, m = 0.1, √v = 0.0316228.
    /// ε̂ = 0.01: θ1 = −3.16228e−5/0.0416228 = −7.59747e−4. (PyTorch: −0.001/(1 + 0.01) = −9.901e−4.)
    /// ε̂ = 1e−7: θ1 = −3.16228e−5/0.0316229 = −9.99997e−4.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "adam" })]
    public void Adam_FirstStep_HandWorked(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var large = RunAdam(backend, [0f], [[1f]], 0.01).Theta[0];
        var small = RunAdam(backend, [0f], [[1f]], 1e-7).Theta[0];
        // 2e−8: the float32 β2 moves √v by 6e−6 relative (see above), θ1 by under 1e−8.
        Assert.That(large, Is.EqualTo(-7.59747e-4).Within(2e-8));
        Assert.That(small, Is.EqualTo(-9.99997e-4).Within(2e-8));
    }

    public sealed record SgdCase(int Length, double Momentum, bool Nesterov)
    {
        public override string ToString() => $"n{Length} momentum{Momentum}{(Nesterov ? " nesterov" : "")}";
    }

    private static IEnumerable<TestCaseData> SgdCases() => BackendCases.Cross("sgd",
        from n in new[] { 1, 1001 }
        from momentum in new[] { 0.0, 0.9 }
        from nesterov in new[] { false, true }
        select new SgdCase(n, momentum, nesterov),
        c => c.Length == 1);

    private static (double[] Theta, double[] Velocity) RunSgd(IBackend backend, float[] theta0, float[][] grads, double lr, double momentum, bool nesterov)
    {
        using var theta = Device.Put(backend, theta0);
        using var velocity = Device.Put(backend, new float[theta0.Length]);
        foreach (var grad in grads)
        {
            using var g = Device.Put(backend, grad);
            backend.SgdUpdate(theta.Buffer, g.Buffer, velocity.Buffer, theta0.Length, (float)lr, (float)momentum, nesterov);
        }
        return (TestData.Widen(theta.ToArray()), TestData.Widen(velocity.ToArray()));
    }

    /// <summary>Keras SGD: velocity = momentum·velocity − lr·g; θ += velocity, or θ += momentum·velocity − lr·g with Nesterov.</summary>
    [TestCaseSource(nameof(SgdCases))]
    public void Sgd_SeveralSteps_MatchKerasFormula(BackendCase backendCase, SgdCase c)
    {
        var backend = backendCase.Acquire();
        var random = TestData.For(c);
        const double lr = 0.01;
        const int steps = 4;
        var theta0 = TestData.Uniform(random, c.Length);
        var grads = Enumerable.Range(0, steps).Select(_ => TestData.Uniform(random, c.Length)).ToArray();

        double[] theta = TestData.Widen(theta0), velocity = new double[c.Length];
        foreach (var g in grads) DoubleReference.SgdStep(theta, velocity, TestData.Widen(g), lr, c.Momentum, c.Nesterov);

        var got = RunSgd(backend, theta0, grads, lr, c.Momentum, c.Nesterov);
        Approx.AssertWithin(Delta(theta, theta0), Delta(got.Theta, theta0), 2e-7 * steps, 1e-4, "θ − θ0");
        Approx.AssertWithin(velocity, got.Velocity, 1e-8, 1e-5, "velocity");
    }

    /// <summary>
    /// Hand-worked, θ0 = 0, g = 1 twice, lr 0.1, momentum 0.9. Momentum: v1 = −0.1, θ1 = −0.1; v2 = −0.19, θ2 = −0.29.
    /// Nesterov: θ1 = 0.9·(−0.1) − 0.1 = −0.19; θ2 = −0.19 + 0.9·(−0.19) − 0.1 = −0.461.
    /// </summary>
    [TestCaseSource(typeof(BackendCases), nameof(BackendCases.Each), new object[] { "sgd" })]
    public void Sgd_MomentumAndNesterov_HandWorked(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var momentum = RunSgd(backend, [0f], [[1f], [1f]], 0.1, 0.9, nesterov: false);
        var nesterov = RunSgd(backend, [0f], [[1f], [1f]], 0.1, 0.9, nesterov: true);
        Assert.That(momentum.Theta[0], Is.EqualTo(-0.29).Within(1e-6));
        Assert.That(momentum.Velocity[0], Is.EqualTo(-0.19).Within(1e-6));
        Assert.That(nesterov.Theta[0], Is.EqualTo(-0.461).Within(1e-6));
        Assert.That(nesterov.Velocity[0], Is.EqualTo(-0.19).Within(1e-6));
    }
}
