using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>
/// CpuGemm against a plain double-precision triple loop written here. Sizes are odd on purpose:
/// they cut the 12×32 / 6×16 / 4×4 tiles (and leave AVX-512 edge panels of 1–8 rows for its 4-row short tiles), and some
/// cross the K (256), M (192) and N (512) blocks.
/// </summary>
public unsafe class CpuGemmTests
{
    private static readonly (int M, int N, int K)[] Sizes =
    [
        (1, 1, 1), (7, 17, 33), (17, 33, 7), (33, 100, 1), (100, 7, 17), (13, 70, 300), (200, 40, 20), (5, 530, 9),
        (24, 16, 5), (29, 48, 40),   // tiles one vector wide (16 columns of an AVX-512 tile, 8 of an AVX2 one), full and cut rows
        (3, 203, 37), (1, 1000, 130), // a few rows: B streamed (untransposed), vector and scalar column tails, K not a multiple of 4
        (49, 48, 70), (56, 40, 19),   // an edge panel of 1 and of 8 rows (AVX-512's short tiles, one and two of them), half and cut columns
    ];

    public static IEnumerable<SimdLevel> Levels() => Enum.GetValues<SimdLevel>().Where(l => l <= SimdSupport.Detected);

    public static IEnumerable<TestCaseData> TransposeCases() =>
        from level in Levels()
        from ta in new[] { false, true }
        from tb in new[] { false, true }
        from acc in new[] { false, true }
        select new TestCaseData(level, ta, tb, acc);

    [TestCaseSource(nameof(TransposeCases))]
    public void Multiply_EqualsDoublePrecisionProduct_ForEveryTransposeAndOddSize(SimdLevel simd, bool transposeA, bool transposeB, bool accumulate)
    {
        var rng = new Random(17);
        foreach (var (m, n, k) in Sizes)
        {
            // Leading dimensions wider than the rows, so a kernel that assumes packed rows fails.
            var p = GemmProblem.Random(rng, m, n, k, transposeA, transposeB, lda: 3, ldb: 5, ldc: 2);
            var (expected, scale) = p.Expected(accumulate, bias: null, KernelActivation.None);
            p.Run(simd, threads: 2, accumulate, bias: null, KernelActivation.None);
            p.AssertClose(expected, scale, $"{simd} {m}x{n}x{k} transA={transposeA} transB={transposeB} accumulate={accumulate}");
        }
    }

    public static IEnumerable<TestCaseData> EpilogueCases() =>
        from level in Levels()
        from act in new[] { KernelActivation.None, KernelActivation.Relu, KernelActivation.LeakyRelu(0.2f), KernelActivation.Sigmoid, KernelActivation.Tanh }
        select new TestCaseData(level, act);

    // Dense semantics: y = act(x·W + b), the activation after the whole sum and the bias.
    [TestCaseSource(nameof(EpilogueCases))]
    public void Multiply_WithBiasAndActivation_AppliesThemAfterTheWholeSum(SimdLevel simd, KernelActivation activation)
    {
        var rng = new Random(5);
        foreach (var (m, n, k) in Sizes)
        {
            var p = GemmProblem.Random(rng, m, n, k, false, false, lda: 0, ldb: 1, ldc: 0);
            float[] bias = GemmProblem.RandomArray(rng, n);
            var (expected, scale) = p.Expected(accumulate: false, bias, activation);
            p.Run(simd, threads: 2, accumulate: false, bias, activation);
            p.AssertClose(expected, scale, $"{simd} {m}x{n}x{k} {activation}");
        }
    }

    // Each output element is summed by one thread in the same K order whatever the split, so the bits agree.
    [TestCaseSource(nameof(Levels))]
    public void Multiply_ResultDoesNotDependOnThreadCount(SimdLevel simd)
    {
        foreach (var (m, n, k, transposeB) in new[] { (301, 45, 290, true), (9, 700, 70, true), (2, 900, 70, false) })
        {
            var one = GemmProblem.Random(new Random(3), m, n, k, false, transposeB, 1, 2, 3);
            var three = GemmProblem.Random(new Random(3), m, n, k, false, transposeB, 1, 2, 3);
            one.Run(simd, threads: 1, accumulate: true, bias: null, KernelActivation.None);
            three.Run(simd, threads: 3, accumulate: true, bias: null, KernelActivation.None);
            Assert.That(three.C, Is.EqualTo(one.C), $"{m}x{n}x{k}");
        }
    }

    // Small explicit blockings cut these sizes into several K, N and M blocks; 601 rows on 2 threads take the
    // shared-packed-B path (row chunks handed out on demand), 50×301 the column split.
    public static IEnumerable<TestCaseData> BlockingCases() =>
        from level in Levels()
        from blocking in new[] { new GemmBlocking(32, 32, 36), new GemmBlocking(48, 80, 60), new GemmBlocking(512, 1024, 4096), GemmBlocking.Default(level) }
        from tb in new[] { false, true }
        select new TestCaseData(level, blocking, tb);

    [TestCaseSource(nameof(BlockingCases))]
    // `object`: GemmBlocking is internal to the kernels, and a public test method cannot name it in its signature.
    public void Multiply_WithAnyBlocking_EqualsDoublePrecisionProduct(SimdLevel simd, object blockingCase, bool transposeB)
    {
        var blocking = (GemmBlocking)blockingCase;
        var rng = new Random(29);
        foreach (var (m, n, k) in new[] { (601, 47, 131), (50, 301, 97), (300, 33, 40) })
        {
            var p = GemmProblem.Random(rng, m, n, k, false, transposeB, lda: 1, ldb: 3, ldc: 2);
            float[] bias = GemmProblem.RandomArray(rng, n);
            var (expected, scale) = p.Expected(accumulate: true, bias, KernelActivation.Relu);
            p.Run(simd, threads: 2, accumulate: true, bias, KernelActivation.Relu, blocking);
            p.AssertClose(expected, scale, $"{simd} {blocking} {m}x{n}x{k} transB={transposeB}");
        }
    }

    // Row chunks go to whichever thread is free, but each tile is summed the same way by any thread.
    [TestCaseSource(nameof(Levels))]
    public void Multiply_WithDynamicRowChunks_DoesNotDependOnThreadCount(SimdLevel simd)
    {
        var one = GemmProblem.Random(new Random(8), 1500, 70, 260, false, false, 0, 0, 0);
        var three = GemmProblem.Random(new Random(8), 1500, 70, 260, false, false, 0, 0, 0);
        one.Run(simd, threads: 1, accumulate: false, bias: null, KernelActivation.None);
        three.Run(simd, threads: 3, accumulate: false, bias: null, KernelActivation.None);
        Assert.That(three.C, Is.EqualTo(one.C));
    }

    // A row split into parts hands out at least one chunk a part (no thread idles on a few row panels), never more chunks
    // than panels, and chunks of at least 16 panels once there are enough of them.
    [TestCase(2, 17, 2, 2)]
    [TestCase(2, 3, 2, 2)]
    [TestCase(3, 2, 2, 2)]
    [TestCase(2, 64, 4, 4)]
    [TestCase(2, 1000, 8, 8)]
    public void RowChunks_AtLeastOneAPart(int parts, int rowPanels, int atLeast, int atMost)
    {
        int chunks = CpuGemm.RowChunks(parts, rowPanels);
        Assert.That(chunks, Is.InRange(atLeast, atMost));
    }

    [Test]
    public void Blocking_FromCaches_FitsTheBBlockInHalfOfL2()
    {
        var zen3 = new CpuCaches(32 << 10, 512 << 10, 32 << 20, "test");
        var zen5 = new CpuCaches(48 << 10, 1 << 20, 32 << 20, "test");
        foreach (var caches in new[] { zen3, zen5 })
        {
            var b = GemmBlocking.For(SimdLevel.Avx2, caches);
            Assert.That((long)b.KC * b.NC * sizeof(float), Is.LessThanOrEqualTo(caches.L2 / 2), caches.ToString());
            Assert.That(b.NC % 16, Is.Zero, "whole AVX2 panels of 16 columns");
            Assert.That(b.KC, Is.InRange(16, GemmBlocking.PanelStride));
        }
        Assert.That(GemmBlocking.For(SimdLevel.Avx2, zen5).NC, Is.GreaterThan(GemmBlocking.For(SimdLevel.Avx2, zen3).NC));
    }

    [Test]
    public void Blocking_AboveThePanelStride_IsRefused()
    {
        var p = GemmProblem.Random(new Random(1), 7, 7, 7, false, false, 0, 0, 0);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => p.Run(SimdLevel.Scalar, 1, false, null, KernelActivation.None, new GemmBlocking(GemmBlocking.PanelStride + 16, 64, 64)));
        Assert.That(ex!.Message, Does.Contain("KC=528"));
    }

    // An empty sum is 0: C = act([C] + bias) when k = 0.
    [Test]
    public void Multiply_WithEmptyK_LeavesBiasAndActivationOnly()
    {
        float[] c = [5f, -5f, 1f, -1f];
        float[] bias = [1f, 2f];
        fixed (float* pc = c, pb = bias)
            CpuGemm.Multiply(SimdSupport.Detected, 1, false, false, 2, 2, 0, null, 1, null, 2, pc, 2, accumulate: true,
                new GemmEpilogue(pb, KernelActivation.Relu));
        Assert.That(c, Is.EqualTo(new[] { 6f, 0f, 2f, 1f }));
    }

    [Test]
    public void Multiply_RejectsLeadingDimensionNarrowerThanTheRow()
    {
        var a = new float[12];
        var ex = Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* p = a) CpuGemm.Multiply(SimdLevel.Scalar, 1, false, false, 2, 2, 3, p, 2, p, 2, p, 2, false);
        });
        Assert.That(ex!.Message, Does.Contain("lda=2"));
    }

    /// <summary>One random problem: op(A) m×k, op(B) k×n, C m×n, each row padded by a few extra floats.</summary>
    private sealed class GemmProblem
    {
        public required int M, N, K, Lda, Ldb, Ldc;
        public required bool TransposeA, TransposeB;
        public required float[] A, B, C, C0;

        public static float[] RandomArray(Random rng, int length)
        {
            var data = new float[length];
            for (int i = 0; i < length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
            return data;
        }

        public static GemmProblem Random(Random rng, int m, int n, int k, bool transposeA, bool transposeB, int lda, int ldb, int ldc)
        {
            int aRows = transposeA ? k : m, aWidth = transposeA ? m : k;
            int bRows = transposeB ? n : k, bWidth = transposeB ? k : n;
            lda += aWidth; ldb += bWidth; ldc += n;
            var c = RandomArray(rng, m * ldc);
            return new GemmProblem
            {
                M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, TransposeA = transposeA, TransposeB = transposeB,
                A = RandomArray(rng, aRows * lda), B = RandomArray(rng, bRows * ldb), C = c, C0 = (float[])c.Clone(),
            };
        }

        private double OpA(int i, int t) => TransposeA ? A[t * Lda + i] : A[i * Lda + t];
        private double OpB(int t, int j) => TransposeB ? B[j * Ldb + t] : B[t * Ldb + j];

        /// <summary>The product in double, and per element Σ|a·b| + |c| + |bias| to scale the tolerance.</summary>
        public (double[] Values, double[] Scale) Expected(bool accumulate, float[]? bias, KernelActivation act)
        {
            var values = new double[M * N];
            var scale = new double[M * N];
            for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                double sum = accumulate ? C0[i * Ldc + j] : 0, magnitude = Math.Abs(sum);
                for (int t = 0; t < K; t++)
                {
                    double product = OpA(i, t) * OpB(t, j);
                    sum += product;
                    magnitude += Math.Abs(product);
                }
                if (bias is not null) { sum += bias[j]; magnitude += Math.Abs(bias[j]); }
                values[i * N + j] = act.Kind switch
                {
                    ActivationKind.Relu => Math.Max(sum, 0),
                    ActivationKind.LeakyRelu => sum > 0 ? sum : act.Alpha * sum,
                    ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-sum)),
                    ActivationKind.Tanh => Math.Tanh(sum),
                    _ => sum,
                };
                scale[i * N + j] = magnitude;
            }
            return (values, scale);
        }

        public void Run(SimdLevel simd, int threads, bool accumulate, float[]? bias, KernelActivation act, GemmBlocking? blocking = null)
        {
            fixed (float* a = A, b = B, c = C, pb = bias)
                CpuGemm.Multiply(simd, blocking ?? GemmBlocking.Default(simd), threads, TransposeA, TransposeB, M, N, K, a, Lda, b, Ldb, c, Ldc,
                    accumulate, new GemmEpilogue(pb, act));
        }

        /// <summary>
        /// Float sums of K terms drift by about √K·2⁻²⁴ of Σ|terms|; 1e-5·√K of it is far above that
        /// and far below any wrong index. Cells between rows (ldc padding) must keep their values.
        /// </summary>
        public void AssertClose(double[] expected, double[] scale, string context)
        {
            double tolerance = 1e-5 * Math.Sqrt(K + 1);
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double want = expected[i * N + j], got = C[i * Ldc + j];
                    if (Math.Abs(got - want) > tolerance * (scale[i * N + j] + 1))
                        Assert.Fail($"{context}: C[{i},{j}] = {got}, expected {want}.");
                }
                for (int j = N; j < Ldc; j++)
                    if (C[i * Ldc + j] != C0[i * Ldc + j])
                        Assert.Fail($"{context}: padding C[{i},{j}] past the row was overwritten.");
            }
        }
    }
}
