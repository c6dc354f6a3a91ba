namespace ConvEngine.Tests.Cli;

/// <summary>
/// Independent double-precision references for the filter demo's stages, written from the
/// TensorFlow definitions (keras-semantics.md A), not from the engine's code.
/// </summary>
internal static class FilterReference
{
    /// <summary>
    /// tf.nn.conv2d with one channel: out[i,j] = Σ in[s·i+a−top, s·j+b−left] · k[a,b], zeros outside.
    /// SAME: out = ceil(n/s), pad_needed = max(0, (out−1)s + k − n), top = pad_needed / 2.
    /// VALID: out = ceil((n − k + 1)/s), no pads.
    /// </summary>
    public static double[,] Correlate(double[,] image, double[,] kernel, int stride, bool same)
    {
        int h = image.GetLength(0), w = image.GetLength(1), k = kernel.GetLength(0);
        var (oh, top) = Axis(h, k, stride, same);
        var (ow, left) = Axis(w, k, stride, same);
        var output = new double[oh, ow];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double sum = 0;
                for (int a = 0; a < k; a++)
                    for (int b = 0; b < k; b++)
                    {
                        int y = i * stride + a - top, x = j * stride + b - left;
                        if (y >= 0 && y < h && x >= 0 && x < w) sum += image[y, x] * kernel[a, b];
                    }
                output[i, j] = sum;
            }
        return output;
    }

    /// <summary>tf.nn.pool MAX, window p, strides p, SAME: out = ceil(n/p); padded cells never win.</summary>
    public static double[,] MaxPoolSame(double[,] input, int pool)
    {
        int h = input.GetLength(0), w = input.GetLength(1);
        var (oh, top) = Axis(h, pool, pool, same: true);
        var (ow, left) = Axis(w, pool, pool, same: true);
        var output = new double[oh, ow];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double max = double.NegativeInfinity;
                for (int a = 0; a < pool; a++)
                    for (int b = 0; b < pool; b++)
                    {
                        int y = i * pool + a - top, x = j * pool + b - left;
                        if (y >= 0 && y < h && x >= 0 && x < w) max = Math.Max(max, input[y, x]);
                    }
                output[i, j] = max;
            }
        return output;
    }

    public static double[,] Relu(double[,] input)
    {
        var output = (double[,])input.Clone();
        for (int i = 0; i < output.GetLength(0); i++)
            for (int j = 0; j < output.GetLength(1); j++)
                output[i, j] = Math.Max(0, output[i, j]);
        return output;
    }

    /// <summary>plt.imshow's default scaling written out: (v − min) / (max − min) · 255, rounded.</summary>
    public static int[,] ToDisplayBytes(double[,] map)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in map) { min = Math.Min(min, v); max = Math.Max(max, v); }
        var bytes = new int[map.GetLength(0), map.GetLength(1)];
        for (int i = 0; i < map.GetLength(0); i++)
            for (int j = 0; j < map.GetLength(1); j++)
                bytes[i, j] = (int)Math.Round((map[i, j] - min) / (max - min) * 255);
        return bytes;
    }

    private static (int Output, int Before) Axis(int n, int k, int stride, bool same)
    {
        if (!same) return ((n - k + stride) / stride, 0);
        int output = (n + stride - 1) / stride;
        int needed = Math.Max(0, (output - 1) * stride + k - n);
        return (output, needed / 2);
    }

    /// <summary>A (1, H, W, 1) feature map's values as an H×W array.</summary>
    public static double[,] ToGrid(float[] values, int height, int width)
    {
        var grid = new double[height, width];
        for (int i = 0; i < height; i++)
            for (int j = 0; j < width; j++)
                grid[i, j] = values[i * width + j];
        return grid;
    }

    public static double[,] Square(float[] rowMajor)
    {
        int n = (int)Math.Sqrt(rowMajor.Length);
        return ToGrid(rowMajor, n, n);
    }
}
