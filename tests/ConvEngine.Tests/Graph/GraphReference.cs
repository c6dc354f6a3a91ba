namespace ConvEngine.Tests.Graph;

/// <summary>
/// Double-precision references for the graph layers, written from the definitions (Keras docs, Ioffe &amp; Szegedy
/// 2015, ONNX LRN), independent of the engine's kernels. Data is (rows, channels) row-major.
/// </summary>
internal static class GraphReference
{
    /// <summary>Per-channel mean and biased variance (divided by rows), tf.nn.moments.</summary>
    public static (double[] Mean, double[] Variance) Moments(float[] x, int channels)
    {
        int rows = x.Length / channels;
        var mean = new double[channels];
        var variance = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += x[r * channels + c];
            mean[c] = sum / rows;
            double squares = 0;
            for (int r = 0; r < rows; r++) squares += Math.Pow(x[r * channels + c] - mean[c], 2);
            variance[c] = squares / rows;
        }
        return (mean, variance);
    }

    /// <summary>γ·(x − mean)/√(var + ε) + β; a null gamma is 1, a null beta 0.</summary>
    public static double[] Normalize(IReadOnlyList<double> x, int channels, double[] mean, double[] variance, double epsilon, IReadOnlyList<double>? gamma, IReadOnlyList<double>? beta)
    {
        var y = new double[x.Count];
        for (int i = 0; i < x.Count; i++)
        {
            int c = i % channels;
            y[i] = (gamma?[c] ?? 1.0) * (x[i] - mean[c]) / Math.Sqrt(variance[c] + epsilon) + (beta?[c] ?? 0.0);
        }
        return y;
    }

    /// <summary>Training-mode batch norm of x in double: its own moments, then <see cref="Normalize"/>.</summary>
    public static double[] BatchNormTraining(IReadOnlyList<double> x, int channels, double epsilon, IReadOnlyList<double>? gamma, IReadOnlyList<double>? beta)
    {
        int rows = x.Count / channels;
        var mean = new double[channels];
        var variance = new double[channels];
        for (int i = 0; i < x.Count; i++) mean[i % channels] += x[i] / rows;
        for (int i = 0; i < x.Count; i++) variance[i % channels] += Math.Pow(x[i] - mean[i % channels], 2) / rows;
        return Normalize(x, channels, mean, variance, epsilon, gamma, beta);
    }

    /// <summary>
    /// The batch-statistics gradient (Ioffe &amp; Szegedy, Alg. 1 back-propagated): with x̂ = (x − μ)/σ,
    /// dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)).
    /// </summary>
    public static (double[] Dx, double[] DGamma, double[] DBeta) BatchNormBackward(float[] x, float[] dy, int channels, double epsilon, float[]? gamma)
    {
        int rows = x.Length / channels;
        var (mean, variance) = Moments(x, channels);
        var dGamma = new double[channels];
        var dBeta = new double[channels];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            dBeta[c] += dy[i];
            dGamma[c] += dy[i] * (x[i] - mean[c]) / Math.Sqrt(variance[c] + epsilon);
        }
        var dx = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i % channels;
            double sigma = Math.Sqrt(variance[c] + epsilon), xhat = (x[i] - mean[c]) / sigma;
            dx[i] = (gamma?[c] ?? 1.0) / sigma * (dy[i] - dBeta[c] / rows - xhat * dGamma[c] / rows);
        }
        return (dx, dGamma, dBeta);
    }

    /// <summary>ONNX LRN: y = x / (bias + α/size · Σ x²)^β over channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].</summary>
    public static double[] Lrn(IReadOnlyList<double> x, int channels, int size, double alpha, double beta, double bias)
    {
        var y = new double[x.Count];
        int before = (size - 1) / 2, after = size - 1 - before;
        for (int i = 0; i < x.Count; i++)
        {
            int c = i % channels, row = i - c;
            double sum = 0;
            for (int k = Math.Max(0, c - before); k <= Math.Min(channels - 1, c + after); k++) sum += x[row + k] * x[row + k];
            y[i] = x[i] / Math.Pow(bias + alpha / size * sum, beta);
        }
        return y;
    }

    /// <summary>d(Σ w·f(x))/dx by central differences in double (step h).</summary>
    public static double[] NumericGradient(Func<double[], double[]> f, double[] x, double[] w, double h = 1e-5)
    {
        var gradient = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int j = 0; j < x.Length; j++)
        {
            probe[j] = x[j] + h;
            double plus = Dot(f(probe), w);
            probe[j] = x[j] - h;
            double minus = Dot(f(probe), w);
            probe[j] = x[j];
            gradient[j] = (plus - minus) / (2 * h);
        }
        return gradient;
    }

    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Seeded uniform floats in [low, high).</summary>
    public static float[] Uniform(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => low + (high - low) * random.NextSingle()).ToArray();
    }

    public static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);
}
