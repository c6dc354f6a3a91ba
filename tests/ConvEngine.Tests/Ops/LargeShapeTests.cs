using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// cpu only: shapes past the kernels' blocking (GEMM panels, channel tails) and thread-split thresholds
/// (tens of thousands of elements, hundreds of output rows), at every SIMD level and with 1 and 3 threads.
/// Expectations come from the double reference forward, from its chain-rule adjoints (checked against finite
/// differences in DoubleReferenceTests), or from finite differences taken element by element or row by row
/// where the op is elementwise or row-wise, since whole-tensor finite differences would be too slow here.
/// </summary>
public class LargeShapeTests
{
    private static float[] Rand(string key, long length, float lo = -1, float hi = 1) => TestData.Uniform(new Random(TestData.Seed(key)), length, lo, hi);

    // ---------------------------------------------------------------- forward

    private static Conv2DOptions Opt(int stride = 1, Padding? padding = null, int groups = 1, KernelActivation activation = default) =>
        new Conv2DOptions { Padding = padding ?? Padding.Valid, Groups = groups, Activation = activation }.WithStrides(stride);

    private static readonly ConvCase[] Convs =
    [
        new(2, 20, 18, 64, 3, 3, 96, Opt(padding: Padding.Same, activation: KernelActivation.Relu)),
        new(1, 23, 21, 40, 3, 3, 72, Opt(stride: 2, padding: Padding.Same)),
        new(4, 14, 14, 130, 1, 1, 260, Opt()),
        new(1, 17, 19, 48, 3, 3, 48, Opt(padding: Padding.Same, groups: 48)),
        new(1, 30, 28, 3, 7, 7, 16, Opt(stride: 2, padding: Padding.Same)),   // a stem: 3 input channels
    ];

    private static IEnumerable<TestCaseData> ConvCases() => BackendCases.CrossThreaded("conv2d", Convs);

    [TestCaseSource(nameof(ConvCases))]
    public void Conv2D_Large_MatchesDoubleReference(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var x = Rand($"x {c}", c.InputDims.Aggregate(1, (a, b) => a * b));
        var f = Rand($"f {c}", c.FilterDims.Aggregate(1, (a, b) => a * b));
        var bias = Rand($"b {c}", c.OC);
        var expected = ExpectedCache.Get($"large conv {c}", () =>
            DoubleReference.Conv2D(Nd.FromFloats(x, c.InputDims), Nd.FromFloats(f, c.FilterDims), TestData.Widen(bias), c.Options));

        using var input = Tensor.FromArray(backend, x, c.InputDims);
        using var filter = Tensor.FromArray(backend, f, c.FilterDims);
        using var b = Tensor.FromArray(backend, bias, c.OC);
        using var y = Ops.Conv2D(input, filter, b, c.Options);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape));
        Approx.AssertClose(expected.Data, y.ToArray(), c.ReductionLength, $"Conv2D {c}");
    }

    private static IEnumerable<TestCaseData> DenseCases() => BackendCases.CrossThreaded("dense",
        new DenseCase[] { new(64, 520, 300, KernelActivation.Relu), new(1, 8192, 17, KernelActivation.Sigmoid), new(130, 77, 1, KernelActivation.None) });

    [TestCaseSource(nameof(DenseCases))]
    public void Dense_Large_MatchesDoubleReference(BackendCase backendCase, DenseCase c)
    {
        var backend = backendCase.Acquire();
        // Weights of scale √(3/K) keep the pre-activations near unit size at any K, so a sigmoid stays off its flat
        // ends (at ±1 and K = 8192 the sums reach ±50 and ~87 % of outputs were 0 or 1, where any error vanishes).
        float scale = MathF.Sqrt(3f / c.K);
        var x = Rand($"x {c}", c.M * c.K);
        var w = Rand($"w {c}", c.K * c.N, -scale, scale);
        var bias = Rand($"b {c}", c.N);
        var expected = ExpectedCache.Get($"large dense {c} scaled", () =>
            DoubleReference.Dense(Nd.FromFloats(x, c.M, c.K), Nd.FromFloats(w, c.K, c.N), TestData.Widen(bias), c.Activation));
        using var input = Tensor.FromArray(backend, x, c.M, c.K);
        using var kernel = Tensor.FromArray(backend, w, c.K, c.N);
        using var b = Tensor.FromArray(backend, bias, c.N);
        using var y = Ops.Dense(input, kernel, b, c.Activation);
        float[] actual = y.ToArray();
        Approx.AssertClose(expected.Data, actual, c.K, $"Dense {c}");
        if (c.Activation.Kind == ActivationKind.Sigmoid)
        {
            Assert.That(expected.Data.Count(v => v is < 0.05 or > 0.95), Is.LessThanOrEqualTo(expected.Data.Length / 10), "the sigmoid is not saturated");
            // Terms of size 1/√K sum with float32 rounding far below 1e-4; a 1 % error in any output (≥ 5e-4 here) fails.
            Approx.AssertWithin(expected.Data, Array.ConvertAll(actual, v => (double)v), 1e-4, 1e-3, $"Dense {c}, tight");
        }
    }

    private static readonly PoolCase[] Pools =
    [
        new(PoolKind.Max, 2, 33, 31, 40, Pool2DOptions.Square(3, 2, Padding.Same)),
        new(PoolKind.Average, 2, 33, 31, 40, Pool2DOptions.Square(3, 2, Padding.Same)),
        new(PoolKind.Max, 3, 32, 32, 24, new Pool2DOptions()),
        new(PoolKind.Average, 1, 35, 35, 19, Pool2DOptions.Square(3, 2, Padding.Explicit(1)) with { CeilMode = true, CountIncludePad = true }),
    ];

    private static IEnumerable<TestCaseData> PoolCases() => BackendCases.CrossThreaded("pool2d", Pools);

    [TestCaseSource(nameof(PoolCases))]
    public void Pool2D_Large_MatchesDoubleReference(BackendCase backendCase, PoolCase c)
    {
        var backend = backendCase.Acquire();
        var x = Rand($"x {c}", c.N * c.H * c.W * c.C);
        var expected = ExpectedCache.Get($"large pool {c}", () => DoubleReference.Pool2D(Nd.FromFloats(x, c.InputDims), c.Options, c.Kind));
        using var input = Tensor.FromArray(backend, x, c.InputDims);
        using var y = c.Kind == PoolKind.Max ? Ops.MaxPool2D(input, c.Options) : Ops.AveragePool2D(input, c.Options);
        Approx.AssertClose(expected.Data, y.ToArray(), 9, $"Pool2D {c}");
    }

    private static IEnumerable<TestCaseData> Each(string op) =>
        BackendCases.CpuThreaded(op).Select(b => new TestCaseData(b).SetArgDisplayNames(b.ToString()));

    private const int Long = 100_003; // past three 32k-element parts, with a tail that is no multiple of a vector

    [TestCaseSource(nameof(Each), new object[] { "activation" })]
    public void ElementwiseForward_Large_MatchDoubleReference(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var x = Rand("elementwise x", Long, -4, 4);
        var z = Rand("elementwise z", Long);
        using var tx = Tensor.FromArray(backend, x, Long);
        using var tz = Tensor.FromArray(backend, z, Long);
        foreach (var a in new[] { KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.Sigmoid, KernelActivation.Tanh })
        {
            using var y = Ops.Activate(tx, a);
            Approx.AssertClose(DoubleReference.Activate(TestData.Widen(x), a), y.ToArray(), 1, a.ToString());
        }
        using var sum = Ops.Add(tx, tz);
        Approx.AssertClose(DoubleReference.Add(TestData.Widen(x), TestData.Widen(z)), sum.ToArray(), 2, "Add");

        foreach (bool log in new[] { false, true })
        {
            var rows = x.AsSpan(0, Long / 7 * 7).ToArray();
            using var t = Tensor.FromArray(backend, rows, rows.Length / 7, 7);
            using var y = log ? Ops.LogSoftmax(t) : Ops.Softmax(t);
            Approx.AssertClose(DoubleReference.Softmax(TestData.Widen(rows), rows.Length / 7, 7, log), y.ToArray(), 7, log ? "LogSoftmax" : "Softmax");
        }
    }

    [TestCaseSource(nameof(Each), new object[] { "concat" })]
    public void ConcatAndPad_Large_MatchDoubleReference(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        int[] channels = [64, 128, 32, 32];
        var parts = channels.Select(ch => Rand($"concat {ch}", 2 * 28 * 28 * ch)).ToArray();
        var tensors = parts.Select((p, i) => Tensor.FromArray(backend, p, 2, 28, 28, channels[i])).ToArray();
        try
        {
            using var y = Ops.Concat(tensors);
            var expected = DoubleReference.Concat(parts.Select((p, i) => Nd.FromFloats(p, 2, 28, 28, channels[i])).ToArray());
            Approx.AssertClose(expected.Data, y.ToArray(), 1, "Concat");
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }

        var x = Rand("pad x", 2 * 40 * 40 * 16);
        using var input = Tensor.FromArray(backend, x, 2, 40, 40, 16);
        foreach (var mode in Enum.GetValues<PadMode>())
        {
            using var y = Ops.Pad2D(input, 3, 2, 1, 4, mode);
            Approx.AssertClose(DoubleReference.Pad2D(Nd.FromFloats(x, 2, 40, 40, 16), 3, 2, 1, 4, mode).Data, y.ToArray(), 1, $"Pad2D {mode}");
        }
    }

    // ---------------------------------------------------------------- backward

    private static readonly ConvCase[] BackwardConvs =
    [
        new(1, 24, 20, 16, 3, 3, 32, Opt(padding: Padding.Same)),     // one image: backward-data splits its rows
        new(1, 25, 23, 8, 5, 5, 16, Opt(stride: 2, padding: Padding.Same)),
        new(3, 12, 12, 16, 3, 3, 24, Opt(stride: 2)),
        new(2, 16, 16, 32, 3, 3, 32, Opt(padding: Padding.Same, groups: 32)),
        new(1, 40, 6, 4, 3, 3, 4, Opt(padding: Padding.Same) with { DilationH = 2 }),  // tall: many row chunks, dilated
    ];

    private static IEnumerable<TestCaseData> BackwardConvCases() => BackendCases.CrossThreaded("conv2d-backward-data", BackwardConvs);

    [TestCaseSource(nameof(BackwardConvCases))]
    public void Conv2DBackward_Large_MatchesChainRuleReference(BackendCase backendCase, ConvCase c)
    {
        var backend = backendCase.Acquire();
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.InputDims), new TensorShape(c.FilterDims), c.Options);
        var x = Rand($"x {c}", g.InputShape.Length);
        var f = Rand($"f {c}", g.FilterShape.Length);
        var upstream = Rand($"g {c}", g.OutputShape.Length);
        var (expectedData, expectedFilter) = ExpectedCache.Get($"large conv backward {c}", () =>
        {
            var (data, filter) = DoubleReference.Conv2DBackward(Nd.FromFloats(x, c.InputDims), Nd.FromFloats(f, c.FilterDims),
                Nd.FromFloats(upstream, g.OutputShape.ToArray()), c.Options);
            return Tuple.Create(data, filter);
        });

        using var input = Device.Put(backend, x);
        using var filter = Device.Put(backend, f);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        using var gradFilter = Device.Garbage(backend, f.Length);
        backend.Conv2DBackwardData(gradOutput.Buffer, filter.Buffer, gradInput.Buffer, g);
        backend.Conv2DBackwardFilter(input.Buffer, gradOutput.Buffer, gradFilter.Buffer, g);
        Approx.AssertClose(expectedData.Data, gradInput.ToArray(), c.KH * c.KW * g.OutChannelsPerGroup, $"BackwardData {c}");
        Approx.AssertClose(expectedFilter.Data, gradFilter.ToArray(), g.N * g.OH * g.OW, $"BackwardFilter {c}");
    }

    private static IEnumerable<TestCaseData> BackwardPoolCases() => BackendCases.CrossThreaded("pool2d-backward", Pools);

    [TestCaseSource(nameof(BackwardPoolCases))]
    public void Pool2DBackward_Large_MatchesChainRuleReference(BackendCase backendCase, PoolCase c)
    {
        var backend = backendCase.Acquire();
        var g = Pool2DGeometry.Create("Pool2D", new TensorShape(c.InputDims), c.Options);
        var x = Rand($"x {c}", g.InputShape.Length);
        var upstream = Rand($"g {c}", g.OutputShape.Length);
        var expected = ExpectedCache.Get($"large pool backward {c}", () => DoubleReference.Pool2DBackward(
            Nd.FromFloats(x, c.InputDims), Nd.FromFloats(upstream, g.OutputShape.ToArray()), c.Options, c.Kind));

        using var input = Device.Put(backend, x);
        using var gradOutput = Device.Put(backend, upstream);
        using var gradInput = Device.Garbage(backend, x.Length);
        backend.Pool2DBackward(input.Buffer, gradOutput.Buffer, gradInput.Buffer, g, c.Kind);
        Approx.AssertClose(expected.Data, gradInput.ToArray(), 9, $"Pool2DBackward {c}");
    }

    private static IEnumerable<TestCaseData> MatMulCases() => BackendCases.CrossThreaded("matmul",
        from ta in new[] { false, true } from tb in new[] { false, true }
        select new DenseBackwardTests.MatMulCase(130, 300, 270, ta, tb, Accumulate: true));

    [TestCaseSource(nameof(MatMulCases))]
    public void MatMul_Large_MatchesDoubleReference(BackendCase backendCase, DenseBackwardTests.MatMulCase c)
    {
        var backend = backendCase.Acquire();
        var a = Rand($"a {c}", c.M * c.K);
        var b = Rand($"b {c}", c.K * c.N);
        var c0 = Rand($"c {c}", c.M * c.N);
        var expected = ExpectedCache.Get($"large matmul {c}", () =>
            DoubleReference.Add(DoubleReference.MatMul(TestData.Widen(a), TestData.Widen(b), c.M, c.K, c.N, c.TransposeA, c.TransposeB), TestData.Widen(c0)));
        using var ta = Device.Put(backend, a);
        using var tb = Device.Put(backend, b);
        using var tc = Device.Put(backend, c0);
        backend.MatMul(ta.Buffer, tb.Buffer, tc.Buffer, c.M, c.K, c.N, c.TransposeA, c.TransposeB, accumulate: true);
        Approx.AssertClose(expected, tc.ToArray(), c.K, $"MatMul {c}");
    }

    /// <summary>Bias, global pool, activation, softmax, pad and split backward at sizes that split over threads.</summary>
    [TestCaseSource(nameof(Each), new object[] { "elementwise-backward" })]
    public void ReductionAndElementwiseBackward_Large_MatchReference(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();

        // Bias: Σ over 4096 rows of 16 channels.
        var gBias = Rand("bias g", 4096 * 16);
        var expectedBias = new double[16];
        for (int i = 0; i < gBias.Length; i++) expectedBias[i % 16] += gBias[i];
        using (var g = Device.Put(backend, gBias))
        using (var db = Device.Garbage(backend, 16))
        {
            backend.BiasBackward(g.Buffer, db.Buffer, 4096, 16);
            Approx.AssertClose(expectedBias, db.ToArray(), 4096, "BiasBackward");
        }

        // Global pools over (4, 1024, 40): average spreads G/1024; max routes G to the (first) largest cell.
        var xGlobal = Rand("global x", 4 * 1024 * 40);
        var gGlobal = Rand("global g", 4 * 40);
        foreach (var kind in new[] { PoolKind.Average, PoolKind.Max })
        {
            var expected = new double[xGlobal.Length];
            for (int b = 0; b < 4; b++)
            for (int c = 0; c < 40; c++)
            {
                int best = 0;
                for (int s = 0; s < 1024; s++)
                {
                    if (kind == PoolKind.Average) expected[(b * 1024 + s) * 40 + c] = gGlobal[b * 40 + c] / 1024.0;
                    else if (xGlobal[(b * 1024 + s) * 40 + c] > xGlobal[(b * 1024 + best) * 40 + c]) best = s;
                }
                if (kind == PoolKind.Max) expected[(b * 1024 + best) * 40 + c] = gGlobal[b * 40 + c];
            }
            using var x = Device.Put(backend, xGlobal);
            using var g = Device.Put(backend, gGlobal);
            using var dx = Device.Garbage(backend, xGlobal.Length);
            backend.GlobalPoolBackward(x.Buffer, g.Buffer, dx.Buffer, 4, 1024, 40, kind);
            Approx.AssertClose(expected, dx.ToArray(), 1, $"GlobalPoolBackward {kind}");
        }

        // Activations: finite differences element by element of the scalar reference.
        var xAct = TestData.AwayFromZero(new Random(3), Long);
        var gAct = Rand("activation g", Long);
        foreach (var a in new[] { KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.Sigmoid, KernelActivation.Tanh })
        {
            var y = Array.ConvertAll(xAct, v => (float)DoubleReference.Activate(v, a));
            var expected = new double[Long];
            for (int i = 0; i < Long; i++)
                expected[i] = gAct[i] * (DoubleReference.Activate(xAct[i] + 1e-6, a) - DoubleReference.Activate(xAct[i] - 1e-6, a)) / 2e-6;
            using var ty = Device.Put(backend, y);
            using var tg = Device.Put(backend, gAct);
            using var dx = Device.Garbage(backend, Long);
            backend.ActivationBackward(ty.Buffer, tg.Buffer, dx.Buffer, Long, a);
            Approx.AssertClose(expected, dx.ToArray(), 4, $"ActivationBackward {a}");
        }

        // Softmax: finite differences row by row, 5000 rows of 9.
        const int rows = 5000, cols = 9;
        var xSoft = Rand("softmax x", rows * cols, -3, 3);
        var gSoft = Rand("softmax g", rows * cols);
        foreach (bool log in new[] { false, true })
        {
            var y = Array.ConvertAll(DoubleReference.Softmax(TestData.Widen(xSoft), rows, cols, log), v => (float)v);
            var expected = new double[rows * cols];
            for (int r = 0; r < rows; r++)
            {
                var gRow = TestData.Widen(gSoft[(r * cols)..((r + 1) * cols)]);
                var row = FiniteDifference.Gradient(v => FiniteDifference.Dot(gRow, DoubleReference.Softmax(v, 1, cols, log)),
                    TestData.Widen(xSoft[(r * cols)..((r + 1) * cols)]));
                row.CopyTo(expected, r * cols);
            }
            using var ty = Device.Put(backend, y);
            using var tg = Device.Put(backend, gSoft);
            using var dx = Device.Garbage(backend, rows * cols);
            backend.SoftmaxBackward(ty.Buffer, tg.Buffer, dx.Buffer, rows, cols, log);
            Approx.AssertClose(expected, dx.ToArray(), cols, $"SoftmaxBackward{(log ? " log" : "")}");
        }

        // Pad: the reference forward applied to cell numbers reveals which input cell each output copies;
        // the gradient of an input cell sums the upstream gradient of its copies.
        var padIn = new TensorShape(2, 40, 40, 16);
        var cellNumbers = new Nd(Enumerable.Range(1, (int)padIn.Length).Select(i => (double)i).ToArray(), padIn.ToArray());
        var gPad = Rand("pad g", 2 * 45 * 45 * 16);
        foreach (var mode in Enum.GetValues<PadMode>())
        {
            var source = DoubleReference.Pad2D(cellNumbers, 3, 2, 1, 4, mode).Data;
            var expected = new double[padIn.Length];
            for (int o = 0; o < source.Length; o++)
                if (source[o] > 0) expected[(int)source[o] - 1] += gPad[o];
            var geometry = Pad2DGeometry.Create("Pad2D", padIn, 3, 2, 1, 4, mode);
            using var tg = Device.Put(backend, gPad);
            using var dx = Device.Garbage(backend, padIn.Length);
            backend.Pad2DBackward(tg.Buffer, dx.Buffer, geometry, mode);
            Approx.AssertClose(expected, dx.ToArray(), 8, $"Pad2DBackward {mode}");
        }

        // Split of (2·28·28, 64+128+32+32): each part is its channel slice.
        int[] channels = [64, 128, 32, 32];
        const int pixels = 2 * 28 * 28;
        var joined = Rand("split", pixels * 256);
        var outs = channels.Select(ch => Device.Garbage(backend, pixels * ch)).ToArray();
        try
        {
            using var input = Device.Put(backend, joined);
            backend.Split(input.Buffer, outs.Select(t => t.Buffer).ToArray(), channels, pixels);
            for (int i = 0, offset = 0; i < channels.Length; offset += channels[i], i++)
            {
                var expected = new double[pixels * channels[i]];
                for (int p = 0; p < pixels; p++)
                    for (int c = 0; c < channels[i]; c++) expected[p * channels[i] + c] = joined[p * 256 + offset + c];
                Approx.AssertClose(expected, outs[i].ToArray(), 1, $"Split part {i}");
            }
        }
        finally
        {
            foreach (var t in outs) t.Dispose();
        }
    }

    /// <summary>Every loss over 20,000 rows of 3 (binary heads) and 3,000 rows of 10 (classifiers).</summary>
    [TestCaseSource(nameof(Each), new object[] { "loss" })]
    public void Loss_Large_MatchesDoubleReference(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        foreach (var kind in Enum.GetValues<LossKind>())
        {
            bool binary = kind is LossKind.SigmoidBinaryCrossEntropy or LossKind.BinaryCrossEntropy or LossKind.MeanSquaredError;
            int rows = binary ? 20_000 : 3_000, cols = binary ? 3 : 10;
            var random = new Random(TestData.Seed($"large loss {kind}"));
            float[] prediction = kind switch
            {
                LossKind.BinaryCrossEntropy => TestData.Uniform(random, rows * cols, 0.05f, 0.95f),
                LossKind.CategoricalCrossEntropy => Array.ConvertAll(
                    DoubleReference.Softmax(TestData.Widen(TestData.Uniform(random, rows * cols)), rows, cols, log: false), v => (float)v),
                _ => TestData.Uniform(random, rows * cols, -3, 3),
            };
            float[] target = kind switch
            {
                LossKind.SoftmaxSparseCategoricalCrossEntropy => Enumerable.Range(0, rows).Select(_ => (float)random.Next(cols)).ToArray(),
                LossKind.MeanSquaredError => TestData.Uniform(random, rows * cols),
                LossKind.SigmoidBinaryCrossEntropy or LossKind.BinaryCrossEntropy => Enumerable.Range(0, rows * cols).Select(_ => (float)random.Next(2)).ToArray(),
                _ => Enumerable.Range(0, rows * cols).Select(i => i % cols == (i / cols) % cols ? 1f : 0f).ToArray(),
            };
            double[] p = TestData.Widen(prediction), t = TestData.Widen(target);
            using var tp = Device.Put(backend, prediction);
            using var tt = Device.Put(backend, target);
            using var loss = Device.Garbage(backend, rows);
            using var grad = Device.Garbage(backend, rows * cols);
            backend.Loss(kind, tp.Buffer, tt.Buffer, loss.Buffer, grad.Buffer, rows, cols);
            Approx.AssertClose(DoubleReference.LossPerRow(kind, p, t, rows, cols), loss.ToArray(), cols, $"{kind} loss");
            Approx.AssertClose(DoubleReference.LossGradient(kind, p, t, rows, cols), grad.ToArray(), cols, $"{kind} gradient");
        }
    }

    /// <summary>Adam, SGD, Multiply, Axpy and Fill over 100,003 elements.</summary>
    [TestCaseSource(nameof(Each), new object[] { "adam" })]
    public void OptimizersAndVectorOps_Large_MatchReference(BackendCase backendCase)
    {
        var backend = backendCase.Acquire();
        var theta0 = Rand("theta", Long);
        var grad = Rand("grad", Long, -0.05f, 0.05f);
        double b1 = 0.9f, b2 = 0.999f, eps = 0.01f;
        float stepSize = (float)(0.001 * Math.Sqrt(1 - b2) / (1 - b1));
        double[] theta = TestData.Widen(theta0), m = new double[Long], v = new double[Long];
        DoubleReference.AdamStepKeras(theta, m, v, TestData.Widen(grad), 1, 0.001, b1, b2, eps);
        using (var tTheta = Device.Put(backend, theta0))
        using (var tm = Device.Put(backend, new float[Long]))
        using (var tv = Device.Put(backend, new float[Long]))
        using (var tg = Device.Put(backend, grad))
        {
            backend.AdamUpdate(tTheta.Buffer, tg.Buffer, tm.Buffer, tv.Buffer, Long, stepSize, 0.9f, 0.999f, 0.01f);
            var delta = TestData.Widen(tTheta.ToArray()).Select((x, i) => x - theta0[i]).ToArray();
            Approx.AssertWithin(theta.Select((x, i) => x - theta0[i]).ToArray(), delta, 2e-7, 1e-4, "Adam θ − θ0");
            Approx.AssertWithin(v, TestData.Widen(tv.ToArray()), 1e-13, 1e-5, "Adam v");
        }

        double[] sgdTheta = TestData.Widen(theta0), velocity = new double[Long];
        DoubleReference.SgdStep(sgdTheta, velocity, TestData.Widen(grad), 0.01f, 0.9f, nesterov: true);
        using (var tTheta = Device.Put(backend, theta0))
        using (var tVelocity = Device.Put(backend, new float[Long]))
        using (var tg = Device.Put(backend, grad))
        {
            backend.SgdUpdate(tTheta.Buffer, tg.Buffer, tVelocity.Buffer, Long, 0.01f, 0.9f, nesterov: true);
            var delta = TestData.Widen(tTheta.ToArray()).Select((x, i) => x - theta0[i]).ToArray();
            Approx.AssertWithin(sgdTheta.Select((x, i) => x - theta0[i]).ToArray(), delta, 2e-7, 1e-4, "SGD θ − θ0");
        }

        using var a = Device.Put(backend, theta0);
        using var b = Device.Put(backend, grad);
        using var product = Device.Garbage(backend, Long);
        backend.Multiply(a.Buffer, b.Buffer, product.Buffer, Long);
        Approx.AssertClose(theta0.Zip(grad, (p, q) => (double)p * q).ToArray(), product.ToArray(), 1, "Multiply");
        backend.Axpy(2f, a.Buffer, b.Buffer, Long);
        Approx.AssertClose(theta0.Zip(grad, (p, q) => 2.0 * p + q).ToArray(), b.ToArray(), 2, "Axpy");
        backend.Fill(product.Buffer, 0.5f, Long);
        Assert.That(product.ToArray(), Is.All.EqualTo(0.5f), "Fill");
    }

    /// <summary>
    /// The dropout mask is a pure function of (seed, index): the same at every SIMD level and thread count
    /// (the threads split the range differently, the mask must not notice).
    /// </summary>
    [Test]
    public void Dropout_Mask_IsIndependentOfSimdAndThreads()
    {
        var x = Rand("dropout", Long);
        float[]? first = null;
        string? firstName = null;
        foreach (var backendCase in BackendCases.CpuThreaded("dropout"))
        {
            var backend = backendCase.Acquire();
            using var input = Device.Put(backend, x);
            using var mask = Device.Garbage(backend, Long);
            using var output = Device.Garbage(backend, Long);
            backend.Dropout(input.Buffer, mask.Buffer, output.Buffer, Long, 0.4f, seed: 2024);
            var got = mask.ToArray();
            if (first is null) (first, firstName) = (got, backendCase.ToString());
            else Assert.That(got, Is.EqualTo(first), $"{backendCase} against {firstName}");
        }
    }
}
