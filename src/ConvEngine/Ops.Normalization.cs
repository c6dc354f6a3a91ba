using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine;

/// <summary>Normalisation and layout ops: channel affine (inference BatchNorm), LRN, axis permutation.</summary>
public static partial class Ops
{
    /// <summary>
    /// y[..., c] = x[..., c] · scale[c] + shift[c] over the last (channel) axis. BatchNormalization at
    /// inference is this map; <see cref="BatchNormToAffine"/> gives its scale and shift.
    /// </summary>
    public static Tensor ChannelAffine(Tensor input, Tensor scale, Tensor shift)
    {
        int channels = input.Shape[-1];
        if (scale.Shape.Rank != 1 || scale.Shape[0] != channels || shift.Shape != scale.Shape)
            throw new ShapeException($"ChannelAffine: scale and shift must be ({channels}) for input {input.Shape}; got scale {scale.Shape}, shift {shift.Shape}.");
        SameBackend("ChannelAffine", input, scale, shift);
        var output = Tensor.Zeros(input.Backend, input.Shape);
        input.Backend.ChannelAffine(input.Buffer, scale.Buffer, shift.Buffer, output.Buffer, input.Length / channels, channels);
        return output;
    }

    /// <summary>
    /// Inference BatchNormalization as a channel affine map, computed in double:
    /// scale = γ/√(var+ε), shift = β − mean·scale (ONNX BatchNormalization, Keras BatchNormalization).
    /// </summary>
    public static (float[] Scale, float[] Shift) BatchNormToAffine(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, double epsilon)
    {
        int c = gamma.Length;
        if (beta.Length != c || mean.Length != c || variance.Length != c)
            throw new ShapeException($"BatchNormalization: gamma ({c}), beta ({beta.Length}), mean ({mean.Length}) and variance ({variance.Length}) must have one value per channel.");
        var scale = new float[c];
        var shift = new float[c];
        for (int i = 0; i < c; i++)
        {
            if (!(variance[i] + epsilon > 0))   // NaN too
                throw new ArgumentException($"BatchNormalization: variance + epsilon must be positive; channel {i} has variance {variance[i]}, epsilon {epsilon}.");
            double s = gamma[i] / Math.Sqrt(variance[i] + epsilon);
            scale[i] = (float)s;
            shift[i] = (float)(beta[i] - mean[i] * s);
        }
        return (scale, shift);
    }

    /// <summary>
    /// Local response normalisation across the last (channel) axis, as ONNX LRN and Caffe define it:
    /// y = x / (bias + α/size · Σ x²)^β over channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].
    /// </summary>
    public static Tensor Lrn(Tensor input, int size, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f)
    {
        var g = LrnGeometry.Create("LRN", input.Shape, size, alpha, beta, bias);
        var output = Tensor.Zeros(input.Backend, input.Shape);
        input.Backend.Lrn(input.Buffer, output.Buffer, g);
        return output;
    }

    /// <summary>Permutes the axes: output axis i is input axis <paramref name="perm"/>[i] (numpy.transpose).</summary>
    public static Tensor Transpose(Tensor input, params int[] perm)
    {
        var g = TransposeGeometry.Create("Transpose", input.Shape.Dims, perm);
        var dims = perm.Select(p => input.Shape[p]).ToArray();
        var output = Tensor.Zeros(input.Backend, dims);
        input.Backend.Transpose(input.Buffer, output.Buffer, g);
        return output;
    }

    /// <summary>(N,H,W,C) → (N,C,H,W): the engine's layout to ONNX's and PyTorch's.</summary>
    public static Tensor NhwcToNchw(Tensor input) => input.Shape.Rank == 4
        ? Transpose(input, 0, 3, 1, 2)
        : throw new ShapeException($"NhwcToNchw: input must be (N, H, W, C); got {input.Shape}.");

    /// <summary>(N,C,H,W) → (N,H,W,C): ONNX's and PyTorch's layout to the engine's.</summary>
    public static Tensor NchwToNhwc(Tensor input) => input.Shape.Rank == 4
        ? Transpose(input, 0, 2, 3, 1)
        : throw new ShapeException($"NchwToNhwc: input must be (N, C, H, W); got {input.Shape}.");
}
