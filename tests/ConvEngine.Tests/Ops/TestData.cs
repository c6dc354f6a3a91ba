using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>Seeded random inputs for op tests.</summary>
public static class TestData
{
    /// <summary>A seed that is the same in every run (string.GetHashCode is randomised per process).</summary>
    public static int Seed(string text)
    {
        uint hash = 2166136261;
        foreach (char ch in text) hash = (hash ^ ch) * 16777619;
        return (int)(hash & 0x7fffffff);
    }

    /// <summary>A random source seeded from a test case's description.</summary>
    public static Random For(object testCase) => new(Seed(testCase.ToString()!));

    /// <summary>Uniform floats in [lo, hi).</summary>
    public static float[] Uniform(Random random, long length, float lo = -1f, float hi = 1f)
    {
        var data = new float[length];
        for (long i = 0; i < length; i++) data[i] = lo + (hi - lo) * random.NextSingle();
        return data;
    }

    /// <summary>
    /// Distinct values in [−1, 1], shuffled, at least 1/length apart: a max never ties, so its
    /// argmax does not move under a finite-difference step.
    /// </summary>
    public static float[] Distinct(Random random, long length)
    {
        var data = new float[length];
        for (long i = 0; i < length; i++) data[i] = (float)(-1 + 2.0 * i / Math.Max(1, length - 1));
        random.Shuffle(data);
        return data;
    }

    /// <summary>Uniform values whose magnitude is at least <paramref name="gap"/>: away from the kink of relu.</summary>
    public static float[] AwayFromZero(Random random, long length, float gap = 0.05f)
    {
        var data = Uniform(random, length);
        for (long i = 0; i < length; i++)
            data[i] = MathF.CopySign(gap + (1 - gap) * MathF.Abs(data[i]), data[i]);
        return data;
    }

    public static double[] Widen(float[] data) => Array.ConvertAll(data, v => (double)v);
}

/// <summary>Float32 results against double expectations.</summary>
public static class Approx
{
    /// <summary>
    /// Asserts every |actual − expected| ≤ √K·(1e−4·|expected| + 2e−5): a float32 sum of K unit-sized
    /// terms drifts like √K·2^−24 per term, so this is loose against rounding yet tight against a
    /// wrong index, a missed tap or a wrong divisor (errors of order one term).
    /// </summary>
    public static void AssertClose(double[] expected, float[] actual, int reductionLength, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{what}: length");
        double root = Math.Sqrt(Math.Max(1, reductionLength));
        int bad = 0, firstBad = -1;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            double tolerance = root * (1e-4 * Math.Abs(expected[i]) + 2e-5);
            if (!(error <= tolerance))
            {
                if (bad++ == 0) firstBad = i;
                worst = Math.Max(worst, double.IsNaN(error) ? double.PositiveInfinity : error);
            }
        }
        if (bad > 0)
            Assert.Fail($"{what}: {bad} of {expected.Length} values differ; first at flat index {firstBad}: " +
                $"expected {expected[firstBad]:G9}, got {actual[firstBad]:G9}; worst error {worst:G3} (K = {reductionLength}).");
    }

    /// <summary>Asserts every |actual − expected| ≤ absolute + relative·|expected|, reporting the first failure.</summary>
    public static void AssertWithin(double[] expected, double[] actual, double absolute, double relative, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"{what}: length");
        int bad = 0, firstBad = -1;
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= absolute + relative * Math.Abs(expected[i])) && bad++ == 0)
                firstBad = i;
        if (bad > 0)
            Assert.Fail($"{what}: {bad} of {expected.Length} values differ; first at index {firstBad}: " +
                $"expected {expected[firstBad]:G9}, got {actual[firstBad]:G9} (tolerance {absolute:G2} + {relative:G2}·|expected|).");
    }

    /// <summary>Same check for two float32 results (one backend against another).</summary>
    public static void AssertClose(float[] expected, float[] actual, int reductionLength, string what) =>
        AssertClose(TestData.Widen(expected), actual, reductionLength, what);
}

/// <summary>
/// Expected values computed once per data case and shared by every backend case that runs it: the data,
/// hence the expectation, depend only on the case's description, which is the key.
/// </summary>
public static class ExpectedCache
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> Memo = new();

    public static T Get<T>(string key, Func<T> compute) where T : class => (T)Memo.GetOrAdd(key, _ => compute());
}

/// <summary>Central finite differences in double precision.</summary>
public static class FiniteDifference
{
    /// <summary>∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h for every i; x is restored.</summary>
    public static double[] Gradient(Func<double[], double> f, double[] x, double step = 1e-5)
    {
        var gradient = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + step;
            double plus = f(x);
            x[i] = saved - step;
            double minus = f(x);
            x[i] = saved;
            gradient[i] = (plus - minus) / (2 * step);
        }
        return gradient;
    }

    /// <summary>Σ a_i·b_i: contracting an op's output with an upstream gradient gives the scalar to differentiate.</summary>
    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}

/// <summary>Host arrays on a backend, for calling IBackend kernels directly.</summary>
public static class Device
{
    /// <summary>What output buffers hold before a kernel runs: a kernel that skips a cell or accumulates shows it.</summary>
    public const float Sentinel = 7.25f;

    public static Tensor Put(ConvEngine.Kernels.IBackend backend, float[] data) => Tensor.FromArray(backend, data, data.Length);

    /// <summary>A buffer of <paramref name="length"/> floats filled with <see cref="Sentinel"/>.</summary>
    public static Tensor Garbage(ConvEngine.Kernels.IBackend backend, long length)
    {
        var data = new float[length];
        Array.Fill(data, Sentinel);
        return Put(backend, data);
    }
}
