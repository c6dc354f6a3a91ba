using ConvEngine.Kernels.Geometry;

namespace ConvEngine;

// 1-D pooling on (N, L, C): the 2-D pool kernels on (N, 1, L, C), the same memory, as Conv1D runs on the Conv2D kernels.
public static partial class Ops
{
    /// <summary>Max pooling along L: input (N, L, C); window <paramref name="poolSize"/>, step <paramref name="stride"/> (default the pool size), padding valid (default) or same.</summary>
    public static Tensor MaxPool1D(Tensor input, int poolSize = 2, int? stride = null, Padding? padding = null) =>
        Pool1D("MaxPooling1D", input, poolSize, stride, padding, PoolKind.Max);

    /// <summary>Average pooling along L: input (N, L, C); with same padding the padded cells are left out of the divisor (TensorFlow).</summary>
    public static Tensor AveragePool1D(Tensor input, int poolSize = 2, int? stride = null, Padding? padding = null) =>
        Pool1D("AveragePooling1D", input, poolSize, stride, padding, PoolKind.Average);

    /// <summary>(N, L, C) → (N, C): the mean over the steps.</summary>
    public static Tensor GlobalAveragePool1D(Tensor input) => GlobalPool1D("GlobalAveragePooling1D", input, PoolKind.Average);

    /// <summary>(N, L, C) → (N, C): the max over the steps.</summary>
    public static Tensor GlobalMaxPool1D(Tensor input) => GlobalPool1D("GlobalMaxPooling1D", input, PoolKind.Max);

    private static Tensor Pool1D(string op, Tensor input, int poolSize, int? stride, Padding? padding, PoolKind kind)
    {
        if (input.Shape.Rank != 3)
            throw new ShapeException($"{op}: input must be (N, L, C); got {input.Shape}.");
        var options = new Pool2DOptions { PoolH = 1, PoolW = poolSize, StrideH = 1, StrideW = stride ?? poolSize, Padding = padding ?? Padding.Valid };
        using var x = input.Reshape(input.Shape[0], 1, input.Shape[1], input.Shape[2]);
        var y = Pool2D(op, x, options, kind);
        return y.ReshapeOwning(y.Shape[0], y.Shape[2], y.Shape[3]);
    }

    private static Tensor GlobalPool1D(string op, Tensor input, PoolKind kind)
    {
        if (input.Shape.Rank != 3)
            throw new ShapeException($"{op}: input must be (N, L, C); got {input.Shape}.");
        return GlobalPool(op, input, kind);
    }
}
