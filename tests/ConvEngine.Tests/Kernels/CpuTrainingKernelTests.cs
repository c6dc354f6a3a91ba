using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>
/// The cpu backend's training kernels: the fast kernels against the readable reference
/// (CpuReferenceBackward) and against DoubleReference's backward on odd shapes, conv and pool gradients against finite
/// differences of DoubleReference's forward (its own window arithmetic, not the production geometry's), losses and optimizer steps against double-precision
/// formulas written here, run-to-run determinism and dropout masks.
/// </summary>
public class CpuTrainingKernelTests
{
    // Three threads on a two-core machine: every split path (parts, chunks, partial sums) runs.
    private CpuBackend _cpu = null!;

    [OneTimeSetUp]
    public void CreateBackend() => _cpu = new CpuBackend(threads: 3);

    [OneTimeTearDown]
    public void DisposeBackend() => _cpu.Dispose();

    // ---------------------------------------------------------------- conv

    public record ConvCase(string Name, int N, int H, int W, int C, int KH, int KW, int OC, int Groups, int Stride, int Dilation, Padding Padding)
    {
        public Conv2DOptions Options => new() { StrideH = Stride, StrideW = Stride == 1 ? 1 : Stride - 1, DilationH = Dilation, DilationW = Dilation, Groups = Groups, Padding = Padding };
        public Conv2DGeometry Geometry => Conv2DGeometry.Create(Name, new TensorShape(N, H, W, C), new TensorShape(KH, KW, C / Groups, OC), Options);
        public Nd Input(double[] x) => new(x, N, H, W, C);
        public Nd Filter(double[] f) => new(f, KH, KW, C / Groups, OC);
        /// <summary>The forward in double by DoubleReference, whose window arithmetic is its own (not <see cref="Geometry"/>'s).</summary>
        public double[] Forward(double[] x, double[] f) => DoubleReference.Conv2D(Input(x), Filter(f), null, Options).Data;
        public override string ToString() => Name;
    }

    private static readonly ConvCase[] ConvCases =
    [
        new("batch1_3x3_same", 1, 7, 9, 3, 3, 3, 5, 1, 1, 1, Padding.Same),
        new("batch3_3x2_stride2_valid_groups2", 3, 8, 7, 4, 3, 2, 6, 2, 2, 1, Padding.Valid),
        new("batch3_depthwise_stride3_explicit", 3, 9, 11, 6, 3, 3, 6, 6, 3, 1, Padding.Explicit(2, 1, 0, 2)),
        new("batch1_dilation2_same", 1, 10, 8, 2, 3, 3, 4, 1, 1, 2, Padding.Same),
        new("batch3_1x1_stride2", 3, 6, 6, 4, 1, 1, 3, 1, 2, 1, Padding.Valid),
        new("batch1_5x3_stride2_same_rowchunks", 1, 13, 5, 3, 5, 3, 4, 1, 2, 1, Padding.Same),
        new("batch3_groups3_dilation2_explicit", 3, 9, 9, 3, 2, 3, 6, 3, 1, 2, Padding.Explicit(1, 2, 2, 1)),
        // SAME with an odd total pad on both axes (H 7, k 4, s 2: 3; W 9, k 4, s 1: 3), where TF puts the extra pixel
        // bottom/right; the other SAME cases above pad evenly and cannot tell.
        new("batch2_4x4_stride2_same_oddpad", 2, 7, 9, 3, 4, 4, 4, 1, 2, 1, Padding.Same),
    ];

    [TestCaseSource(nameof(ConvCases))]
    public void Conv2DBackwardData_MatchesReference(ConvCase c)
    {
        var g = c.Geometry;
        float[] gradOut = Random(g.OutputShape.Length, 1), filter = Random(g.FilterShape.Length, 2);
        float[] expected = new float[g.InputShape.Length];
        CpuReferenceBackward.Conv2DBackwardData(gradOut, filter, expected, g);
        AssertClose(expected, Run(g.InputShape.Length, gi => _cpu.Conv2DBackwardData(Up(gradOut), Up(filter), gi, g)), 1e-5, 1e-4);
    }

    [TestCaseSource(nameof(ConvCases))]
    public void Conv2DBackwardFilter_MatchesReference(ConvCase c)
    {
        var g = c.Geometry;
        float[] input = Random(g.InputShape.Length, 3), gradOut = Random(g.OutputShape.Length, 4);
        float[] expected = new float[g.FilterShape.Length];
        CpuReferenceBackward.Conv2DBackwardFilter(input, gradOut, expected, g);
        AssertClose(expected, Run(g.FilterShape.Length, gf => _cpu.Conv2DBackwardFilter(Up(input), Up(gradOut), gf, g)), 1e-5, 1e-4);
    }

    // Blocks of 5 rows cut across output rows and image boundaries; the sums must not change.
    [TestCaseSource(nameof(ConvCases))]
    public void ConvBackward_SmallGemmBlocks_MatchReference(ConvCase c)
    {
        var g = c.Geometry;
        float[] input = Random(g.InputShape.Length, 5), gradOut = Random(g.OutputShape.Length, 6), filter = Random(g.FilterShape.Length, 7);
        float[] expectedData = new float[g.InputShape.Length], expectedFilter = new float[g.FilterShape.Length];
        CpuReferenceBackward.Conv2DBackwardData(gradOut, filter, expectedData, g);
        CpuReferenceBackward.Conv2DBackwardFilter(input, gradOut, expectedFilter, g);
        float[] data = new float[expectedData.Length], filterGrad = new float[expectedFilter.Length];
        CpuConvBackward.BackwardData(3, SimdLevel.Scalar, gradOut, filter, data, g, blockRows: 5);
        CpuConvBackward.BackwardFilter(3, SimdLevel.Scalar, input, gradOut, filterGrad, g, blockRows: 5);
        AssertClose(expectedData, data, 1e-5, 1e-4);
        AssertClose(expectedFilter, filterGrad, 1e-5, 1e-4);
    }

    // The kernels against DoubleReference's own backward: a bug in the shared window arithmetic (Conv2DGeometry's
    // pads, output size) that CpuReferenceBackward inherits cannot pass here.
    [TestCaseSource(nameof(ConvCases))]
    public void ConvBackward_MatchesDoubleReference(ConvCase c)
    {
        var g = c.Geometry;
        float[] input = Random(g.InputShape.Length, 14), filter = Random(g.FilterShape.Length, 15), gradOut = Random(g.OutputShape.Length, 16);
        var expectedShape = DoubleReference.Conv2D(c.Input(ToDouble(input)), c.Filter(ToDouble(filter)), null, c.Options).Shape;
        Assert.That(g.OutputShape.ToArray(), Is.EqualTo(expectedShape), "output shape");
        var (gradX, gradF) = DoubleReference.Conv2DBackward(c.Input(ToDouble(input)), c.Filter(ToDouble(filter)), new Nd(ToDouble(gradOut), expectedShape), c.Options);
        AssertClose(ToFloat(gradX.Data), Run(g.InputShape.Length, gi => _cpu.Conv2DBackwardData(Up(gradOut), Up(filter), gi, g)), 1e-5, 1e-4);
        AssertClose(ToFloat(gradF.Data), Run(g.FilterShape.Length, gf => _cpu.Conv2DBackwardFilter(Up(input), Up(gradOut), gf, g)), 1e-5, 1e-4);
    }

    // L = Σ gradOut ⊙ conv(x, f) in double (DoubleReference's forward); dL/dx and dL/df by central differences must equal the kernels.
    [TestCaseSource(nameof(ConvCases))]
    public void ConvBackward_MatchesFiniteDifferencesOfDoubleForward(ConvCase c)
    {
        var g = c.Geometry;
        float[] input = Random(g.InputShape.Length, 8), filter = Random(g.FilterShape.Length, 9), gradOut = Random(g.OutputShape.Length, 10);
        double[] x = ToDouble(input), f = ToDouble(filter), w = ToDouble(gradOut);
        Assert.That(c.Forward(x, f), Has.Length.EqualTo(g.OutputShape.Length), "output size");
        double Objective() => Dot(c.Forward(x, f), w);
        float[] gradInput = Run(g.InputShape.Length, gi => _cpu.Conv2DBackwardData(Up(gradOut), Up(filter), gi, g));
        float[] gradFilter = Run(g.FilterShape.Length, gf => _cpu.Conv2DBackwardFilter(Up(input), Up(gradOut), gf, g));
        AssertClose(CentralDifferences(x, Objective, 1e-3), gradInput, 1e-4, 1e-4);
        AssertClose(CentralDifferences(f, Objective, 1e-3), gradFilter, 1e-4, 1e-4);
    }

    [Test]
    public void ConvBackward_RunTwice_BitIdentical()
    {
        foreach (var c in ConvCases)
        {
            var g = c.Geometry;
            float[] input = Random(g.InputShape.Length, 11), gradOut = Random(g.OutputShape.Length, 12), filter = Random(g.FilterShape.Length, 13);
            float[] Data() => Run(g.InputShape.Length, gi => _cpu.Conv2DBackwardData(Up(gradOut), Up(filter), gi, g));
            float[] Filter() => Run(g.FilterShape.Length, gf => _cpu.Conv2DBackwardFilter(Up(input), Up(gradOut), gf, g));
            Assert.That(Data(), Is.EqualTo(Data()).AsCollection, c.Name);
            Assert.That(Filter(), Is.EqualTo(Filter()).AsCollection, c.Name);
        }
    }

    // With one image and three threads, output rows are cut into chunks run even-then-odd (no two
    // threads add into one input row): here 3 chunks of ≥ ⌈5/2⌉−1 = 2 rows out of OH = 7.
    [Test]
    public void ConvBackwardData_SingleImage_SplitsOutputRowsIntoNonOverlappingChunks()
    {
        var g = ConvCases.Single(c => c.Name == "batch1_5x3_stride2_same_rowchunks").Geometry;
        Assert.That(g.OH, Is.EqualTo(7));
        Assert.That(CpuConvBackward.ChunksPerImage(3, g), Is.EqualTo(3));
        Assert.That(CpuConvBackward.ChunksPerImage(1, g), Is.EqualTo(1));
    }

    // The race-freedom contract of the chunked backward-data split, checked over many geometries:
    // chunk t holds output rows [OH·t/chunks, OH·(t+1)/chunks); two chunks of the same parity
    // never read the same input row through any tap.
    [Test]
    public void ConvBackwardData_SameParityChunks_NeverTouchTheSameInputRow()
    {
        foreach (int h in new[] { 5, 9, 16, 31 })
        foreach (int k in new[] { 1, 2, 3, 5, 7 })
        foreach (int stride in new[] { 1, 2, 3 })
        foreach (int dilation in new[] { 1, 2 })
        foreach (int threads in new[] { 2, 3, 8 })
        {
            if (WindowMath.DilatedExtent(k, dilation) > h) continue;
            var g = Conv2DGeometry.Create("chunks", new TensorShape(1, h, 4, 1), new TensorShape(k, 1, 1, 1),
                new Conv2DOptions { StrideH = stride, DilationH = dilation, Padding = Padding.Same });
            int chunks = CpuConvBackward.ChunksPerImage(threads, g);
            HashSet<int> Rows(int t)
            {
                var rows = new HashSet<int>();
                for (int oh = g.OH * t / chunks; oh < g.OH * (t + 1) / chunks; oh++)
                for (int p = 0; p < k; p++) rows.Add(oh * stride + p * dilation - g.PadTop);
                return rows;
            }
            for (int t = 0; t < chunks; t++)
            for (int u = t + 2; u < chunks; u += 2)
                Assert.That(Rows(t).Overlaps(Rows(u)), Is.False, $"h {h}, k {k}, stride {stride}, dilation {dilation}, threads {threads}: chunks {t} and {u} of {chunks}");
        }
    }

    // ---------------------------------------------------------------- pool

    public record PoolCase(string Name, int N, int H, int W, int C, Pool2DOptions Options)
    {
        public Pool2DGeometry Geometry => Pool2DGeometry.Create(Name, new TensorShape(N, H, W, C), Options);
        public Nd Input(double[] x) => new(x, N, H, W, C);
        /// <summary>The forward in double by DoubleReference (its own windows and average divisor, not <see cref="Geometry"/>'s).</summary>
        public double[] Forward(double[] x, PoolKind kind) => DoubleReference.Pool2D(Input(x), Options, kind).Data;
        public override string ToString() => Name;
    }

    private static readonly PoolCase[] PoolCases =
    [
        new("batch1_2x2_valid", 1, 7, 9, 3, Pool2DOptions.Square(2)),
        new("batch3_3x3_stride2_same_overlapping", 3, 8, 7, 5, Pool2DOptions.Square(3, 2, Padding.Same)),
        new("batch3_3x2_stride1_explicit_countpad", 3, 6, 7, 2, new Pool2DOptions { PoolH = 3, PoolW = 2, StrideH = 1, StrideW = 1, Padding = Padding.Explicit(1, 2, 1, 0), CountIncludePad = true }),
        new("batch1_dilation2_stride3_ceil", 1, 11, 10, 17, new Pool2DOptions { PoolH = 2, PoolW = 3, StrideH = 3, StrideW = 2, DilationH = 2, DilationW = 2, Padding = Padding.Explicit(1, 0, 0, 1), CeilMode = true }),
    ];

    [TestCaseSource(nameof(PoolCases))]
    public void Pool2DBackward_MatchesReference(PoolCase c)
    {
        var g = c.Geometry;
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            float[] input = Random(g.InputShape.Length, 20), gradOut = Random(g.OutputShape.Length, 21);
            float[] expected = new float[g.InputShape.Length];
            CpuReferenceBackward.Pool2DBackward(input, gradOut, expected, g, kind);
            AssertClose(expected, Run(g.InputShape.Length, gi => _cpu.Pool2DBackward(Up(input), Up(gradOut), gi, g, kind)), 1e-6, 1e-6);
        }
    }

    [TestCaseSource(nameof(PoolCases))]
    public void Pool2DBackward_MatchesDoubleReference(PoolCase c)
    {
        var g = c.Geometry;
        float[] input = DistinctValues(g.InputShape.Length, 24), gradOut = Random(g.OutputShape.Length, 25);
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            var forward = DoubleReference.Pool2D(c.Input(ToDouble(input)), c.Options, kind);
            Assert.That(g.OutputShape.ToArray(), Is.EqualTo(forward.Shape), "output shape");
            var expected = DoubleReference.Pool2DBackward(c.Input(ToDouble(input)), new Nd(ToDouble(gradOut), forward.Shape), c.Options, kind);
            AssertClose(ToFloat(expected.Data), Run(g.InputShape.Length, gi => _cpu.Pool2DBackward(Up(input), Up(gradOut), gi, g, kind)), 1e-6, 1e-6, kind.ToString());
        }
    }

    // Distinct input values (spaced 0.01) keep every window's max unique within the ±1e-3 step.
    [TestCaseSource(nameof(PoolCases))]
    public void Pool2DBackward_MatchesFiniteDifferencesOfDoubleForward(PoolCase c)
    {
        var g = c.Geometry;
        float[] input = DistinctValues(g.InputShape.Length, 22), gradOut = Random(g.OutputShape.Length, 23);
        double[] x = ToDouble(input), w = ToDouble(gradOut);
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            float[] gradInput = Run(g.InputShape.Length, gi => _cpu.Pool2DBackward(Up(input), Up(gradOut), gi, g, kind));
            Assert.That(c.Forward(x, kind), Has.Length.EqualTo(g.OutputShape.Length), "output size");
            AssertClose(CentralDifferences(x, () => Dot(c.Forward(x, kind), w), 1e-3), gradInput, 1e-5, 1e-5, kind.ToString());
        }
    }

    // A flat 2×2 window has four maxima; the whole gradient goes to the first in scan order (row, then column).
    [Test]
    public void MaxPoolBackward_Ties_GradientGoesToFirstInScanOrder()
    {
        var g = Pool2DGeometry.Create("tie", new TensorShape(1, 2, 4, 1), Pool2DOptions.Square(2));
        float[] input = [5, 5, 1, 3, 5, 5, 3, 3];       // window 1 all 5s; window 2 three 3s after a 1
        float[] gradInput = Run(8, gi => _cpu.Pool2DBackward(Up(input), Up([2f, 7f]), gi, g, PoolKind.Max));
        Assert.That(gradInput, Is.EqualTo(new float[] { 2, 0, 0, 7, 0, 0, 0, 0 }).AsCollection);
    }

    // TF SAME average pooling excludes the pads: a 2×2 corner window of a 3×3 SAME pool divides by 4.
    [Test]
    public void AveragePoolBackward_SamePadding_DividesByCellsInsideTheInput()
    {
        var g = Pool2DGeometry.Create("avg", new TensorShape(1, 2, 2, 1), Pool2DOptions.Square(3, 1, Padding.Same));
        float[] gradInput = Run(4, gi => _cpu.Pool2DBackward(Up(new float[4]), Up([4f, 0f, 0f, 0f]), gi, g, PoolKind.Average));
        Assert.That(gradInput, Is.EqualTo(new float[] { 1, 1, 1, 1 }).AsCollection);
    }

    [TestCase(1, 5, 3)]
    [TestCase(3, 7, 19)]
    public void GlobalPoolBackward_MatchesReference(int n, int spatial, int channels)
    {
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
        {
            float[] input = Random(n * spatial * channels, 30), gradOut = Random(n * channels, 31);
            input[channels] = input[0] = 9f;                // a tie in channel 0 of image 0: the first (s = 0) wins
            float[] expected = new float[input.Length];
            CpuReferenceBackward.GlobalPoolBackward(input, gradOut, expected, n, spatial, channels, kind);
            float[] actual = Run(input.Length, gi => _cpu.GlobalPoolBackward(Up(input), Up(gradOut), gi, n, spatial, channels, kind));
            AssertClose(expected, actual, 1e-6, 1e-7, kind.ToString());
            if (kind == PoolKind.Max) Assert.That((actual[0], actual[channels]), Is.EqualTo((gradOut[0], 0f)));
        }
    }

    // ---------------------------------------------------------------- dense, bias, elementwise

    [TestCase(7, 5, 9, false, false, false)]
    [TestCase(7, 5, 9, true, false, true)]
    [TestCase(3, 11, 4, false, true, false)]
    [TestCase(1, 13, 17, true, true, true)]
    public void MatMul_MatchesReference(int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
    {
        float[] a = Random(m * k, 40), b = Random(k * n, 41), c0 = Random(m * n, 42);
        float[] expected = (float[])c0.Clone();
        CpuReferenceBackward.MatMul(a, b, expected, m, k, n, transposeA, transposeB, accumulate);
        var c = Up(c0);
        _cpu.MatMul(Up(a), Up(b), c, m, k, n, transposeA, transposeB, accumulate);
        AssertClose(expected, Down(c), 1e-5, 1e-5);
    }

    [TestCase(5, 3)]
    [TestCase(1000, 7)]     // enough rows for several parts with partial sums
    public void BiasBackward_SumsColumnsInDouble_AndIsDeterministic(int rows, int channels)
    {
        float[] gradOut = Random(rows * channels, 50);
        double[] expected = new double[channels];
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++) expected[c] += gradOut[r * channels + c];
        float[] Once() => Run(channels, gb => _cpu.BiasBackward(Up(gradOut), gb, rows, channels));
        float[] first = Once();
        AssertClose(ToFloat(expected), first, 1e-5, 1e-4);
        Assert.That(Once(), Is.EqualTo(first).AsCollection);
        var large = Up(Random(300_000 * 2, 51));        // 3 parts of partial sums on 3 threads
        float[] Large() => Run(2, gb => _cpu.BiasBackward(large, gb, 300_000, 2));
        Assert.That(Large(), Is.EqualTo(Large()).AsCollection, "large split");
    }

    public static IEnumerable<KernelActivation> Activations =>
        [KernelActivation.None, KernelActivation.Relu, KernelActivation.LeakyRelu(0.3f), KernelActivation.Sigmoid, KernelActivation.Tanh];

    // The derivative from the output y: relu y>0, leaky y>0 ? 1 : α, sigmoid y(1−y), tanh 1−y². The
    // SIMD paths make the same float operations as the scalar one, so every level is bit-identical.
    [TestCaseSource(nameof(Activations))]
    public void ActivationBackward_EverySimdLevel_BitIdenticalToReference(KernelActivation activation)
    {
        const int Length = 1000 + 13;
        float[] x = Random(Length, 60, -3f, 3f), y = x.Select(activation.Apply).ToArray(), gradOut = Random(Length, 61);
        y[0] = 0f;                                             // the relu kink: derivative 0 at y = 0
        float[] expected = new float[Length];
        CpuReferenceBackward.ActivationBackward(y, gradOut, expected, Length, activation);
        foreach (var cpu in EverySimdLevel())
            Assert.That(RunOn(cpu, Length, gi => cpu.ActivationBackward(Upload(cpu, y), Upload(cpu, gradOut), gi, Length, activation)),
                Is.EqualTo(expected).AsCollection, cpu.Simd.ToString());
        // And the formula is the derivative: central differences of the activation in double.
        for (int i = 1; i < Length; i += 97)
        {
            double h = 1e-3, numeric = (Act(activation, x[i] + h) - Act(activation, x[i] - h)) / (2 * h);
            if (Math.Abs(x[i]) > h) Assert.That(expected[i], Is.EqualTo(gradOut[i] * numeric).Within(1e-3), $"x = {x[i]}");
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SoftmaxBackward_MatchesFiniteDifferencesOfDoubleSoftmax(bool log)
    {
        const int Rows = 3, Cols = 7;
        float[] x = Random(Rows * Cols, 70, -2f, 2f), gradOut = Random(Rows * Cols, 71);
        var y = _cpu.Allocate(Rows * Cols);
        _cpu.Softmax(Up(x), y, Rows, Cols, log);
        float[] gradInput = Run(Rows * Cols, gi => _cpu.SoftmaxBackward(y, Up(gradOut), gi, Rows, Cols, log));
        double[] xd = ToDouble(x), w = ToDouble(gradOut);
        AssertClose(CentralDifferences(xd, () => Dot(Softmax(xd, Rows, Cols, log), w), 1e-4), gradInput, 1e-4, 1e-5);
        float[] expected = new float[Rows * Cols];
        CpuReferenceBackward.SoftmaxBackward(Down(y), gradOut, expected, Rows, Cols, log);
        AssertClose(expected, gradInput, 1e-6, 1e-6);
    }

    // Split is Concat's inverse (keras Concatenate's gradient slices it back).
    [Test]
    public void Split_UndoesConcat()
    {
        const int Pixels = 37;
        int[] channels = [3, 1, 5];
        float[][] parts = channels.Select((c, t) => Random(Pixels * c, 80 + t)).ToArray();
        var joined = _cpu.Allocate(Pixels * channels.Sum());
        _cpu.Concat(parts.Select(Up).ToList(), channels, joined, Pixels);
        var outputs = channels.Select(c => _cpu.Allocate(Pixels * c)).ToList();
        _cpu.Split(joined, outputs, channels, Pixels);
        for (int t = 0; t < channels.Length; t++) Assert.That(Down(outputs[t]), Is.EqualTo(parts[t]).AsCollection);
    }

    // Pad2D is linear, so its backward is its adjoint: ⟨Pad(x), g⟩ = ⟨x, PadBackward(g)⟩ for every mode.
    [TestCase(PadMode.Zero)]
    [TestCase(PadMode.Reflect)]
    [TestCase(PadMode.Edge)]
    public void Pad2DBackward_IsTheAdjointOfPad2D_AndMatchesReference(PadMode mode)
    {
        foreach (int n in new[] { 1, 3 })
        {
            var g = Pad2DGeometry.Create("pad", new TensorShape(n, 5, 4, 3), 2, 1, 3, 2, mode);
            float[] x = Random(g.InputShape.Length, 90), gradOut = Random(g.OutputShape.Length, 91);
            float[] padded = Run(g.OutputShape.Length, o => _cpu.Pad2D(Up(x), o, g, mode));
            float[] gradInput = Run(g.InputShape.Length, gi => _cpu.Pad2DBackward(Up(gradOut), gi, g, mode));
            Assert.That(Dot(ToDouble(x), ToDouble(gradInput)), Is.EqualTo(Dot(ToDouble(padded), ToDouble(gradOut))).Within(1e-4));
            float[] expected = new float[gradInput.Length];
            CpuReferenceBackward.Pad2DBackward(gradOut, expected, g, mode);
            Assert.That(gradInput, Is.EqualTo(expected).AsCollection, "the reference adds in the same order");
        }
    }

    [Test]
    public void Multiply_Axpy_Fill_MatchTheirDefinitions()
    {
        const int Length = 70_001;                     // more than one part on three threads
        float[] a = Random(Length, 100), b = Random(Length, 101);
        float[] product = Run(Length, o => _cpu.Multiply(Up(a), Up(b), o, Length));
        Assert.That(product, Is.EqualTo(a.Zip(b, (p, q) => p * q).ToArray()).AsCollection);
        var y = Up(b);
        _cpu.Axpy(-0.5f, Up(a), y, Length);
        AssertClose(a.Zip(b, (p, q) => (double)-0.5f * p + q).Select(v => (float)v).ToArray(), Down(y), 1e-6, 1e-6);
        _cpu.Fill(y, 2.5f, Length - 1);
        float[] filled = Down(y);
        Assert.That(filled.Take(Length - 1), Is.All.EqualTo(2.5f));
        Assert.That(filled[^1], Is.Not.EqualTo(2.5f), "Fill stops at length");
    }

    // ---------------------------------------------------------------- dropout

    [Test]
    public void Dropout_MaskIsCounterRngKeepScaledByInverseKeepRate()
    {
        const int Length = 100_000;
        const float Rate = 0.3f;
        float[] input = Random(Length, 110);
        var mask = _cpu.Allocate(Length);
        float[] output = Run(Length, o => _cpu.Dropout(Up(input), mask, o, Length, Rate, seed: 42));
        float[] m = Down(mask);
        float scale = 1f / (1f - Rate);
        Assert.That(m, Has.All.Matches<float>(v => v == 0f || v == scale), "inverted dropout: kept units scaled by 1/(1−rate)");
        for (int i = 0; i < Length; i += 1009)
            Assert.That(m[i], Is.EqualTo(CounterRng.Uniform(42, (ulong)i) >= Rate ? scale : 0f), $"element {i}: the cross-backend rule");
        Assert.That(output, Is.EqualTo(input.Zip(m, (x, k) => x * k).ToArray()).AsCollection);
        // Kept fraction ≈ 1 − rate: the binomial's σ is √(n·p·(1−p)) ≈ 145 elements; allow 5σ.
        int kept = m.Count(v => v != 0f);
        Assert.That(kept, Is.EqualTo(Length * (1 - Rate)).Within(5 * Math.Sqrt(Length * Rate * (1 - Rate))));
        // Same seed, same mask (any thread count); another seed, another mask.
        var single = new CpuBackend(threads: 1);
        var singleMask = single.Allocate(Length);
        single.Dropout(Upload(single, input), singleMask, single.Allocate(Length), Length, Rate, seed: 42);
        Assert.That(Download(single, singleMask), Is.EqualTo(m).AsCollection);
        var otherMask = _cpu.Allocate(Length);
        _cpu.Dropout(Up(input), otherMask, _cpu.Allocate(Length), Length, Rate, seed: 43);
        Assert.That(Down(otherMask), Is.Not.EqualTo(m).AsCollection);
    }

    [Test]
    public void Dropout_RateZero_KeepsEverything_RateOutOfRange_IsNamed()
    {
        float[] input = Random(100, 111);
        var mask = _cpu.Allocate(100);
        Assert.That(Run(100, o => _cpu.Dropout(Up(input), mask, o, 100, 0f, 7)), Is.EqualTo(input).AsCollection);
        Assert.That(Down(mask), Is.All.EqualTo(1f));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.Dropout(Up(input), mask, _cpu.Allocate(100), 100, 1.5f, 7));
        Assert.That(ex!.Message, Does.Contain("Dropout").And.Contain("1.5"));
    }

    // ---------------------------------------------------------------- losses

    private static readonly LossKind[] LossKinds = Enum.GetValues<LossKind>();

    [TestCaseSource(nameof(LossKinds))]
    public void Loss_MatchesReference(LossKind kind)
    {
        const int Rows = 5, Cols = 4;
        var (prediction, target) = LossInputs(kind, Rows, Cols, 120);
        float[] expectedLoss = new float[Rows], expectedGrad = new float[Rows * Cols];
        CpuReferenceBackward.Loss(kind, prediction, target, expectedLoss, expectedGrad, Rows, Cols);
        var (loss, grad) = RunLoss(kind, prediction, target, Rows, Cols);
        AssertClose(expectedLoss, loss, 1e-5, 1e-6, "loss");
        AssertClose(expectedGrad, grad, 1e-5, 1e-7, "gradient");
    }

    // Each kind's formula evaluated here in double (keras-semantics.md A, Keras backend losses);
    // the gradient of the mean over rows by central differences.
    [TestCaseSource(nameof(LossKinds))]
    public void Loss_MatchesDoubleFormula_AndItsFiniteDifferences(LossKind kind)
    {
        const int Rows = 5, Cols = 4;
        var (prediction, target) = LossInputs(kind, Rows, Cols, 121);
        var (loss, grad) = RunLoss(kind, prediction, target, Rows, Cols);
        double[] p = ToDouble(prediction), t = ToDouble(target);
        double[] expected = Enumerable.Range(0, Rows).Select(r => RowLoss(kind, p, t, r, Cols)).ToArray();
        AssertClose(expected, loss, 1e-5, 1e-6, "per-row loss");
        double Mean() => Enumerable.Range(0, Rows).Sum(r => RowLoss(kind, p, t, r, Cols)) / Rows;
        AssertClose(CentralDifferences(p, Mean, 1e-5), grad, 1e-3, 1e-6, "gradient");
    }

    // Keras binary_crossentropy clips p to [1e−7, 1−1e−7] (float32): p = 0, t = 1 costs −ln(1e−7 + 1e−7) = 15.4249;
    // p = 1, t = 0 clips to float32(1 − 1e−7) = 0.99999988, costing −ln(1.1920929e−7 + 1e−7) = 15.3332; the row's mean
    // is 15.3791. clip_by_value passes no gradient where it clips.
    [Test]
    public void BinaryCrossEntropy_ClippedProbability_UsesTheClipBounds_WithZeroGradient()
    {
        var (loss, grad) = RunLoss(LossKind.BinaryCrossEntropy, [0f, 1f], [1f, 0f], 1, 2);
        Assert.That(loss[0], Is.EqualTo(15.3791f).Within(2e-4f));
        Assert.That(grad, Is.EqualTo(new float[] { 0, 0 }).AsCollection);
    }

    // Stable form for large logits (t = 0): z = 100 costs max(z,0) + log(1 + e^−100) = 100, z = −100 costs
    // log(1 + e^−100) ≈ 0; the row's mean is 50. Gradients (σ(z) − t)/(2 columns · 1 row): 0.5 and ≈ 0.
    [Test]
    public void SigmoidBinaryCrossEntropy_LargeLogit_StaysFinite()
    {
        var (loss, grad) = RunLoss(LossKind.SigmoidBinaryCrossEntropy, [100f, -100f], [0f, 0f], 1, 2);
        Assert.That(loss[0], Is.EqualTo(50f).Within(1e-4f));
        Assert.That(grad, Is.EqualTo(new float[] { 0.5f, 0f }).AsCollection.Within(1e-6f));
    }

    [Test]
    public void SparseCategoricalCrossEntropy_EqualsCategoricalWithOneHot_AndNamesABadLabel()
    {
        const int Rows = 3, Cols = 5;
        float[] logits = Random(Rows * Cols, 130, -3f, 3f), labels = [4f, 0f, 2f];
        float[] onehot = new float[Rows * Cols];
        for (int r = 0; r < Rows; r++) onehot[r * Cols + (int)labels[r]] = 1f;
        var sparse = RunLoss(LossKind.SoftmaxSparseCategoricalCrossEntropy, logits, labels, Rows, Cols);
        var dense = RunLoss(LossKind.SoftmaxCategoricalCrossEntropy, logits, onehot, Rows, Cols);
        Assert.That(sparse.Loss, Is.EqualTo(dense.Loss).AsCollection);
        Assert.That(sparse.Grad, Is.EqualTo(dense.Grad).AsCollection);
        var ex = Assert.Throws<ArgumentException>(() => RunLoss(LossKind.SoftmaxSparseCategoricalCrossEntropy, logits, [1f, 5f, 0f], Rows, Cols));
        Assert.That(ex!.Message, Does.Contain("row 1").And.Contain("5"));
    }

    // ---------------------------------------------------------------- optimizers

    // keras-semantics.md A (keras/optimizers/adam.py): α = lr·√(1−β2^t)/(1−β1^t); m += (g−m)(1−β1);
    // v += (g²−v)(1−β2); θ −= α·m/(√v + ε), ε outside the bias correction. Two steps, in double here.
    [Test]
    public void AdamUpdate_TwoSteps_MatchKerasFormulaInDouble()
    {
        const int Length = 1000 + 7;                   // vector body and scalar tail
        // Keras holds β1, β2, ε as float32, so 1 − β2 is 1 − 0.999f, not 0.001: the double model starts from the same floats.
        const double Lr = 0.001, B1 = 0.9f, B2 = 0.999f, Eps = 0.01f;   // the course's epsilon = 0.01
        float[] theta = Random(Length, 140), g1 = Random(Length, 141), g2 = Random(Length, 142);
        double[] th = ToDouble(theta), m = new double[Length], v = new double[Length];
        var p = Up(theta);
        var (mb, vb) = (_cpu.Allocate(Length), _cpu.Allocate(Length));
        foreach (var (g, t) in new[] { (g1, 1), (g2, 2) })
        {
            double alpha = Lr * Math.Sqrt(1 - Math.Pow(B2, t)) / (1 - Math.Pow(B1, t));
            _cpu.AdamUpdate(p, Up(g), mb, vb, Length, (float)alpha, (float)B1, (float)B2, (float)Eps);
            for (int i = 0; i < Length; i++)
            {
                m[i] += (g[i] - m[i]) * (1 - B1);
                v[i] += ((double)g[i] * g[i] - v[i]) * (1 - B2);
                th[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + Eps);
            }
        }
        AssertClose(th, Down(p), 1e-6, 1e-7, "θ");
        AssertClose(m, Down(mb), 1e-5, 1e-7, "m");
        AssertClose(v, Down(vb), 1e-5, 1e-9, "v");
    }

    // Keras SGD (keras/optimizers/sgd.py): velocity = momentum·velocity − lr·g; θ += velocity, or
    // with Nesterov θ += momentum·velocity − lr·g. Two steps in double.
    [TestCase(0.0f, false)]
    [TestCase(0.9f, false)]
    [TestCase(0.9f, true)]
    public void SgdUpdate_TwoSteps_MatchKerasFormulaInDouble(float momentum, bool nesterov)
    {
        const int Length = 1000 + 7;
        const float Lr = 0.01f;
        float[] theta = Random(Length, 150), g1 = Random(Length, 151), g2 = Random(Length, 152);
        double[] th = ToDouble(theta), vel = new double[Length];
        var p = Up(theta);
        var vb = _cpu.Allocate(Length);
        foreach (var g in new[] { g1, g2 })
        {
            _cpu.SgdUpdate(p, Up(g), vb, Length, Lr, momentum, nesterov);
            for (int i = 0; i < Length; i++)
            {
                vel[i] = momentum * vel[i] - (double)Lr * g[i];
                th[i] += nesterov ? momentum * vel[i] - (double)Lr * g[i] : vel[i];
            }
        }
        AssertClose(th, Down(p), 1e-6, 1e-7, "θ");
        AssertClose(vel, Down(vb), 1e-5, 1e-8, "velocity");
    }

    [Test]
    public void Optimizers_EverySimdLevel_BitIdenticalToReference()
    {
        const int Length = 1000 + 7;
        float[] theta = Random(Length, 160), grad = Random(Length, 161), m0 = Random(Length, 162), v0 = Random(Length, 163, 0f, 1f);
        float[] th = (float[])theta.Clone(), m = (float[])m0.Clone(), v = (float[])v0.Clone();
        CpuReferenceBackward.AdamUpdate(th, grad, m, v, Length, 3e-4f, 0.9f, 0.999f, 1e-7f);
        float[] sth = (float[])theta.Clone(), vel = (float[])m0.Clone();
        CpuReferenceBackward.SgdUpdate(sth, grad, vel, Length, 0.01f, 0.9f, nesterov: true);
        foreach (var cpu in EverySimdLevel())
        {
            var (p, mb, vb) = (Upload(cpu, theta), Upload(cpu, m0), Upload(cpu, v0));
            cpu.AdamUpdate(p, Upload(cpu, grad), mb, vb, Length, 3e-4f, 0.9f, 0.999f, 1e-7f);
            Assert.That(Download(cpu, p), Is.EqualTo(th).AsCollection, $"Adam θ, {cpu.Simd}");
            Assert.That(Download(cpu, mb), Is.EqualTo(m).AsCollection, $"Adam m, {cpu.Simd}");
            Assert.That(Download(cpu, vb), Is.EqualTo(v).AsCollection, $"Adam v, {cpu.Simd}");
            var (sp, sv) = (Upload(cpu, theta), Upload(cpu, m0));
            cpu.SgdUpdate(sp, Upload(cpu, grad), sv, Length, 0.01f, 0.9f, nesterov: true);
            Assert.That(Download(cpu, sp), Is.EqualTo(sth).AsCollection, $"SGD θ, {cpu.Simd}");
            Assert.That(Download(cpu, sv), Is.EqualTo(vel).AsCollection, $"SGD velocity, {cpu.Simd}");
        }
    }

    [Test]
    public void ShortBuffer_IsNamedWithItsLength()
    {
        var ex = Assert.Throws<ArgumentException>(() => _cpu.AdamUpdate(_cpu.Allocate(10), _cpu.Allocate(9), _cpu.Allocate(10), _cpu.Allocate(10), 10, 1f, 0.9f, 0.999f, 1e-7f));
        Assert.That(ex!.Message, Does.Contain("AdamUpdate").And.Contain("gradient").And.Contain("9"));
    }

    // ================================================================ helpers

    private DeviceBuffer Up(float[] data) => Upload(_cpu, data);
    private float[] Down(DeviceBuffer buffer) => Download(_cpu, buffer);
    private float[] Run(long length, Action<DeviceBuffer> kernel) => RunOn(_cpu, length, kernel);

    private static DeviceBuffer Upload(IBackend backend, float[] data)
    {
        var buffer = backend.Allocate(data.Length);
        backend.Upload(data, buffer);
        return buffer;
    }

    private static float[] Download(IBackend backend, DeviceBuffer buffer)
    {
        float[] data = new float[buffer.Length];
        backend.Download(buffer, data);
        return data;
    }

    /// <summary>Runs a kernel into a fresh buffer pre-filled with garbage (outputs must be overwritten, not accumulated) and downloads it.</summary>
    private static float[] RunOn(IBackend backend, long length, Action<DeviceBuffer> kernel)
    {
        var output = backend.Allocate(length);
        backend.Upload(Enumerable.Repeat(123.25f, (int)length).ToArray(), output);
        kernel(output);
        return Download(backend, output);
    }

    private (float[] Loss, float[] Grad) RunLoss(LossKind kind, float[] prediction, float[] target, int rows, int cols)
    {
        var (loss, grad) = (_cpu.Allocate(rows), _cpu.Allocate(rows * cols));
        _cpu.Loss(kind, Up(prediction), Up(target), loss, grad, rows, cols);
        return (Down(loss), Down(grad));
    }

    private static IEnumerable<CpuBackend> EverySimdLevel() =>
        Enum.GetValues<SimdLevel>().Where(level => level <= SimdSupport.Detected).Select(level => new CpuBackend(threads: 2, simd: level));

    private static float[] Random(long length, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, (int)length).Select(_ => low + (high - low) * random.NextSingle()).ToArray();
    }

    /// <summary>A shuffle of 0.01·k, k in [−n/2, n/2): no two equal, neighbours 0.01 apart.</summary>
    private static float[] DistinctValues(long length, int seed)
    {
        var values = Enumerable.Range(0, (int)length).Select(k => 0.01f * (k - (int)length / 2)).ToArray();
        new Random(seed).Shuffle(values);
        return values;
    }

    private static (float[] Prediction, float[] Target) LossInputs(LossKind kind, int rows, int cols, int seed)
    {
        var random = new Random(seed);
        float[] logits = Random(rows * cols, seed, -3f, 3f);
        switch (kind)
        {
            case LossKind.SigmoidBinaryCrossEntropy:
                return (logits, Random(rows * cols, seed + 1, 0f, 1f));
            case LossKind.BinaryCrossEntropy:
                return (Random(rows * cols, seed + 2, 0.05f, 0.95f), Random(rows * cols, seed + 1, 0f, 1f));
            case LossKind.SoftmaxSparseCategoricalCrossEntropy:
                return (logits, Enumerable.Range(0, rows).Select(_ => (float)random.Next(cols)).ToArray());
            case LossKind.SoftmaxCategoricalCrossEntropy:
            case LossKind.CategoricalCrossEntropy:
            {
                float[] onehot = new float[rows * cols];
                for (int r = 0; r < rows; r++) onehot[r * cols + random.Next(cols)] = 1f;
                // Probabilities that do not sum to 1: Keras normalises them by the row sum first.
                return (kind == LossKind.CategoricalCrossEntropy ? Random(rows * cols, seed + 3, 0.1f, 1f) : logits, onehot);
            }
            default:
                return (logits, Random(rows * cols, seed + 1, -1f, 1f));
        }
    }

    /// <summary>One row's loss, straight from the Keras formulas, in double.</summary>
    private static double RowLoss(LossKind kind, double[] p, double[] t, int r, int cols)
    {
        var z = p.AsSpan(r * cols, cols);
        double eps = 1e-7, high = 1 - (double)1e-7f;
        switch (kind)
        {
            case LossKind.SigmoidBinaryCrossEntropy:
            {
                double sum = 0;
                for (int c = 0; c < cols; c++) sum += Math.Max(z[c], 0) - z[c] * t[r * cols + c] + Math.Log(1 + Math.Exp(-Math.Abs(z[c])));
                return sum / cols;
            }
            case LossKind.BinaryCrossEntropy:
            {
                double sum = 0;
                for (int c = 0; c < cols; c++)
                {
                    double q = Math.Clamp(z[c], eps, high), y = t[r * cols + c];
                    sum -= y * Math.Log(q + eps) + (1 - y) * Math.Log(1 - q + eps);
                }
                return sum / cols;
            }
            case LossKind.SoftmaxCategoricalCrossEntropy:
            case LossKind.SoftmaxSparseCategoricalCrossEntropy:
            {
                double[] logSoftmax = Softmax(z.ToArray(), 1, cols, log: true);
                double loss = 0;
                for (int c = 0; c < cols; c++)
                {
                    double y = kind == LossKind.SoftmaxCategoricalCrossEntropy ? t[r * cols + c] : (c == (int)t[r] ? 1 : 0);
                    loss -= y * logSoftmax[c];
                }
                return loss;
            }
            case LossKind.CategoricalCrossEntropy:
            {
                double sum = 0, loss = 0;
                for (int c = 0; c < cols; c++) sum += z[c];
                for (int c = 0; c < cols; c++) loss -= t[r * cols + c] * Math.Log(Math.Clamp(z[c] / sum, eps, high));
                return loss;
            }
            default:
            {
                double sum = 0;
                for (int c = 0; c < cols; c++) sum += (z[c] - t[r * cols + c]) * (z[c] - t[r * cols + c]);
                return sum / cols;
            }
        }
    }

    private static double Act(KernelActivation activation, double x) => activation.Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => Math.Max(x, 0),
        ActivationKind.LeakyRelu => x > 0 ? x : activation.Alpha * x,
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-x)),
        _ => Math.Tanh(x),
    };

    private static double[] Softmax(double[] x, int rows, int cols, bool log)
    {
        double[] y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = x.Skip(r * cols).Take(cols).Max(), sum = 0;
            for (int c = 0; c < cols; c++) sum += Math.Exp(x[r * cols + c] - max);
            for (int c = 0; c < cols; c++)
                y[r * cols + c] = log ? x[r * cols + c] - max - Math.Log(sum) : Math.Exp(x[r * cols + c] - max) / sum;
        }
        return y;
    }

    /// <summary>∂objective/∂x[i] = (objective(x + h·e_i) − objective(x − h·e_i)) / 2h, for every i (x restored).</summary>
    private static double[] CentralDifferences(double[] x, Func<double> objective, double h)
    {
        double[] grad = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + h;
            double plus = objective();
            x[i] = saved - h;
            double minus = objective();
            x[i] = saved;
            grad[i] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double[] ToDouble(float[] a) => a.Select(v => (double)v).ToArray();
    private static float[] ToFloat(double[] a) => a.Select(v => (float)v).ToArray();

    private static void AssertClose(float[] expected, float[] actual, double relative, double absolute, string what = "") =>
        AssertClose(ToDouble(expected), actual, relative, absolute, what);

    /// <summary>|actual − expected| ≤ absolute + relative·max|expected|, element by element; names the first failure.</summary>
    private static void AssertClose(double[] expected, float[] actual, double relative, double absolute, string what = "")
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        double tolerance = absolute + relative * scale;
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
                Assert.Fail($"{what} element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance:g3}).");
    }
}
