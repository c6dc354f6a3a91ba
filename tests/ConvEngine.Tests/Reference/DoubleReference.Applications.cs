using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Tests.Reference;

/// <summary>
/// The ops keras.applications bases add, in double, from the Keras and TensorFlow definitions (keras/activations,
/// tf.nn.depthwise_conv2d, tf.nn.separable_conv2d, Keras Cropping2D), with this file's own loops and the window
/// arithmetic of <see cref="Axis"/>.
/// </summary>
public static partial class DoubleReference
{
    // ---------------------------------------------------------------- activations

    /// <summary>
    /// keras.activations: relu(x, negative_slope, max_value, threshold) as keras backend.relu builds it
    /// (x·[x &gt; threshold] clipped to [0, max_value], minus negative_slope·relu(threshold − x)); elu α(eˣ − 1) below 0;
    /// selu with λ = 1.0507009873554805, α = 1.6732632423543772; swish x·σ(x); gelu x·Φ(x) exact or its tanh form;
    /// hard_sigmoid Keras 2 clip(0.2x + 0.5) and Keras 3 clip(x/6 + 0.5); hard_silu x·relu6(x + 3)/6; softplus
    /// log(1 + eˣ); softsign x/(1 + |x|); exponential eˣ; mish x·tanh(log(1 + eˣ)).
    /// </summary>
    private static double KerasActivation(double x, KernelActivation a) => a.Kind switch
    {
        ActivationKind.ClippedRelu => Math.Min(Math.Max(x * (x > a.Threshold ? 1 : 0), 0), a.Cap) - a.Alpha * Math.Max(a.Threshold - x, 0),
        ActivationKind.Elu => x > 0 ? x : a.Alpha * (Math.Exp(x) - 1),
        ActivationKind.Selu => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.Exp(x) - 1)),
        ActivationKind.Swish => x / (1 + Math.Exp(-x)),
        ActivationKind.Gelu => x * NormalCdf(x),
        ActivationKind.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        ActivationKind.HardSigmoid => Math.Clamp(0.2 * x + 0.5, 0, 1),
        ActivationKind.HardSigmoidKeras3 => Math.Clamp(x / 6 + 0.5, 0, 1),
        ActivationKind.HardSwish => x * Math.Clamp(x + 3, 0, 6) / 6,
        ActivationKind.Softplus => Math.Log(1 + Math.Exp(x)),
        ActivationKind.Softsign => x / (1 + Math.Abs(x)),
        ActivationKind.Exponential => Math.Exp(x),
        ActivationKind.Mish => x * Math.Tanh(Math.Log(1 + Math.Exp(x))),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    /// <summary>Φ(x) = ½ + (1/√(2π))∫₀ˣ e^(−t²/2) dt by composite Simpson's rule (4,000 panels: error far below float's).</summary>
    public static double NormalCdf(double x)
    {
        const int panels = 4000;
        double h = x / panels, sum = 0;
        for (int i = 0; i <= panels; i++)
        {
            double t = i * h, f = Math.Exp(-t * t / 2);
            sum += (i == 0 || i == panels ? 1 : i % 2 == 1 ? 4 : 2) * f;
        }
        return 0.5 + sum * h / 3 / Math.Sqrt(2 * Math.PI);
    }

    // ---------------------------------------------------------------- depthwise and separable convolution

    /// <summary>
    /// tf.nn.depthwise_conv2d: y[b,i,j,c·M+m] = bias + Σ_{di,dj} x[b, i·sh − top + di·dh, j·sw − left + dj·dw, c] ·
    /// kernel[di,dj,c,m], kernel (kh, kw, C, M) as Keras stores it; taps in the padding read 0.
    /// </summary>
    public static Nd DepthwiseConv2D(Nd x, Nd kernel, double[]? bias, int strideH, int strideW, PaddingMode mode, int dilationH = 1, int dilationW = 1)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        int kh = kernel.Shape[0], kw = kernel.Shape[1], multiplier = kernel.Shape[3];
        if (kernel.Shape[2] != c) throw new ArgumentException($"reference DepthwiseConv2D: kernel {kernel} does not fit input {x}.");
        var (top, _, oh) = Axis(h, kh, strideH, dilationH, mode);
        var (left, _, ow) = Axis(w, kw, strideW, dilationW, mode);
        var y = Nd.Zeros(n, oh, ow, c * multiplier);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int ch = 0; ch < c; ch++)
        for (int m = 0; m < multiplier; m++)
        {
            double sum = bias?[ch * multiplier + m] ?? 0;
            for (int di = 0; di < kh; di++)
            for (int dj = 0; dj < kw; dj++)
            {
                int ih = i * strideH - top + di * dilationH, iw = j * strideW - left + dj * dilationW;
                if (ih >= 0 && ih < h && iw >= 0 && iw < w) sum += x.At(b, ih, iw, ch) * kernel.At(di, dj, ch, m);
            }
            y.At(b, i, j, ch * multiplier + m) = sum;
        }
        return y;
    }

    /// <summary>tf.nn.separable_conv2d: the depthwise conv, then y[b,i,j,f] = bias[f] + Σ_k d[b,i,j,k]·pointwise[0,0,k,f].</summary>
    public static Nd SeparableConv2D(Nd x, Nd depthwise, Nd pointwise, double[]? bias, int strideH, int strideW, PaddingMode mode, int dilationH = 1, int dilationW = 1)
    {
        var d = DepthwiseConv2D(x, depthwise, null, strideH, strideW, mode, dilationH, dilationW);
        int n = d.Shape[0], oh = d.Shape[1], ow = d.Shape[2], k = d.Shape[3], filters = pointwise.Shape[3];
        var y = Nd.Zeros(n, oh, ow, filters);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int f = 0; f < filters; f++)
        {
            double sum = bias?[f] ?? 0;
            for (int q = 0; q < k; q++) sum += d.At(b, i, j, q) * pointwise.At(0, 0, q, f);
            y.At(b, i, j, f) = sum;
        }
        return y;
    }

    // ---------------------------------------------------------------- cropping and broadcast products

    /// <summary>Keras Cropping2D: y[b,i,j,c] = x[b, i + top, j + left, c] over the rows and columns that remain.</summary>
    public static Nd Crop2D(Nd x, int top, int bottom, int left, int right)
    {
        int n = x.Shape[0], oh = x.Shape[1] - top - bottom, ow = x.Shape[2] - left - right, c = x.Shape[3];
        var y = Nd.Zeros(n, oh, ow, c);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int ch = 0; ch < c; ch++)
            y.At(b, i, j, ch) = x.At(b, i + top, j + left, ch);
        return y;
    }

    /// <summary>
    /// numpy broadcasting of (N, …, C) by a scale of shape (N, 1, …, 1, K), K = C or 1: y[b, p, c] = x[b, p, c]·s[b, K == 1 ? 0 : c].
    /// </summary>
    public static double[] MultiplyBroadcast(double[] x, double[] scale, int n, int positions, int channels, int scaleChannels)
    {
        var y = new double[x.Length];
        for (int b = 0; b < n; b++)
        for (int p = 0; p < positions; p++)
        for (int c = 0; c < channels; c++)
        {
            int at = (b * positions + p) * channels + c;
            y[at] = x[at] * scale[b * scaleChannels + (scaleChannels == 1 ? 0 : c)];
        }
        return y;
    }
}

public static partial class DoubleReference
{
    // ---------------------------------------------------------------- transposed convolution

    /// <summary>
    /// ONNX ConvTranspose (and PyTorch ConvTranspose2d): every input value scatters through the kernel,
    /// y[b, i·sh − top + di·dh, j·sw − left + dj·dw, g·Mg + m] += x[b, i, j, ci] · w[ci, m, di, dj] for ci in group g,
    /// keeping the positions inside the output of size s(n − 1) + output_padding + dk − before − after; then the bias.
    /// x is (N, H, W, Cin), w is ONNX's (Cin, Cout/groups, KH, KW).
    /// </summary>
    public static Nd ConvTranspose2D(Nd x, Nd w, double[]? bias, (int H, int W) strides, (int H, int W) dilations,
        (int Top, int Bottom, int Left, int Right) pads, (int H, int W) outputPadding, int groups = 1)
    {
        int n = x.Shape[0], h = x.Shape[1], wd = x.Shape[2], cin = x.Shape[3];
        int mg = w.Shape[1], kh = w.Shape[2], kw = w.Shape[3], cout = mg * groups, cing = cin / groups;
        int oh = strides.H * (h - 1) + outputPadding.H + (kh - 1) * dilations.H + 1 - pads.Top - pads.Bottom;
        int ow = strides.W * (wd - 1) + outputPadding.W + (kw - 1) * dilations.W + 1 - pads.Left - pads.Right;
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"reference ConvTranspose2D: empty output {oh}x{ow}.");
        var y = Nd.Zeros(n, oh, ow, cout);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < h; i++)
        for (int j = 0; j < wd; j++)
        for (int ci = 0; ci < cin; ci++)
        {
            int group = ci / cing;
            double v = x.At(b, i, j, ci);
            for (int di = 0; di < kh; di++)
            {
                int r = i * strides.H - pads.Top + di * dilations.H;
                if (r < 0 || r >= oh) continue;
                for (int dj = 0; dj < kw; dj++)
                {
                    int c = j * strides.W - pads.Left + dj * dilations.W;
                    if (c < 0 || c >= ow) continue;
                    for (int m = 0; m < mg; m++)
                        y.At(b, r, c, group * mg + m) += v * w.Data[((ci * mg + m) * kh + di) * kw + dj];
                }
            }
        }
        if (bias is not null)
            for (int p = 0; p < y.Length; p++) y.Data[p] += bias[p % cout];
        return y;
    }

    /// <summary>
    /// Keras's Conv2DTranspose output length (keras/utils/conv_utils.py deconv_output_length) and the pad TensorFlow's
    /// conv2d_transpose crops before it: the SAME pad of the conv that maps that length back ((n−1)s + dk − length, half
    /// before, rounded down) or none for valid.
    /// </summary>
    public static (int Length, int Before) KerasDeconvLength(int n, int kernel, int stride, int dilation, bool same, int? outputPadding)
    {
        int dk = kernel + (kernel - 1) * (dilation - 1);
        int length = outputPadding is null
            ? (same ? n * stride : n * stride + Math.Max(dk - stride, 0))
            : (n - 1) * stride + dk - 2 * (same ? dk / 2 : 0) + outputPadding.Value;
        int before = same ? Math.Max(0, (n - 1) * stride + dk - length) / 2 : 0;
        return (length, before);
    }
}
