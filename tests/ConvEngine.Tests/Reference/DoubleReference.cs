using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Tests.Reference;

/// <summary>
/// Scalar double-precision definitions of every op, loss and optimizer step, written from
/// shared/reference/keras-semantics.md and the TF/Keras/ONNX definitions it cites, without
/// looking at the engine's kernels. Slow and plain on purpose: the tests compare float32
/// kernels to these, and differentiate these by finite differences.
/// Layouts match the engine: images (N,H,W,C), conv filters (KH,KW,C/groups,OC), dense kernels (in,units).
/// </summary>
public static partial class DoubleReference
{
    // ---------------------------------------------------------------- window arithmetic

    /// <summary>
    /// One spatial axis of a windowed op: pads before/after and output length (≤ 0 when no window fits).
    /// valid: keras conv_output_length ceil((n − dk + 1)/s); same: TF kernel_shape_util.cc, out = ceil(n/s),
    /// pad_needed = max(0, (out−1)s + dk − n), before = pad_needed/2; causal: dk−1 before, out = ceil(n/s);
    /// explicit: floor((n + pads − dk)/s) + 1, or with ceil mode (PyTorch/ONNX) ceil(...) + 1 minus the
    /// last window when it would start past the input and its leading pad.
    /// </summary>
    public static (int Before, int After, int Output) Axis(int n, int kernel, int stride, int dilation,
        PaddingMode mode, int explicitBefore = 0, int explicitAfter = 0, bool ceilMode = false)
    {
        int dk = kernel + (kernel - 1) * (dilation - 1);
        switch (mode)
        {
            case PaddingMode.Same:
            {
                int output = (int)Math.Ceiling(n / (double)stride);
                int padNeeded = Math.Max(0, (output - 1) * stride + dk - n);
                return (padNeeded / 2, padNeeded - padNeeded / 2, output);
            }
            case PaddingMode.Causal:
                return (dk - 1, 0, (int)Math.Ceiling(n / (double)stride));
            case PaddingMode.Valid when !ceilMode:
                return (0, 0, (int)Math.Ceiling((n - dk + 1) / (double)stride));
            default:
            {
                int before = mode == PaddingMode.Valid ? 0 : explicitBefore;
                int after = mode == PaddingMode.Valid ? 0 : explicitAfter;
                double span = n + before + after - dk;
                if (span < 0) return (before, after, 0);
                int output = ceilMode ? (int)Math.Ceiling(span / stride) + 1 : (int)Math.Floor(span / stride) + 1;
                if (ceilMode && (output - 1) * stride >= n + before) output--;
                return (before, after, output);
            }
        }
    }

    // ---------------------------------------------------------------- convolution

    /// <summary>
    /// tf.nn.conv2d (cross-correlation, no flip) with groups: out[b,i,j,k] = act(bias[k] +
    /// Σ_{di,dj,q} x[b, i·sh − top + di·dh, j·sw − left + dj·dw, g·Cg + q] · f[di,dj,q,k]), g = k / (OC/groups);
    /// taps in the padding read 0. Causal pads the width axis only (Conv1D seen as 1×L).
    /// </summary>
    public static Nd Conv2D(Nd x, Nd filter, double[]? bias, Conv2DOptions o)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        int kh = filter.Shape[0], kw = filter.Shape[1], cg = filter.Shape[2], oc = filter.Shape[3];
        if (cg * o.Groups != c || oc % o.Groups != 0)
            throw new ArgumentException($"reference Conv2D: filter {filter} does not fit input {x} in {o.Groups} groups.");
        int ocg = oc / o.Groups;
        var p = o.Padding;
        var (top, _, oh) = Axis(h, kh, o.StrideH, o.DilationH, p.Mode == PaddingMode.Causal ? PaddingMode.Valid : p.Mode, p.Top, p.Bottom);
        var (left, _, ow) = Axis(w, kw, o.StrideW, o.DilationW, p.Mode, p.Left, p.Right);
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"reference Conv2D: no window fits input {x} with filter {filter}.");

        var y = Nd.Zeros(n, oh, ow, oc);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int k = 0; k < oc; k++)
        {
            int group = k / ocg;
            double sum = bias?[k] ?? 0.0;
            for (int di = 0; di < kh; di++)
            {
                int ih = i * o.StrideH - top + di * o.DilationH;
                if (ih < 0 || ih >= h) continue;
                for (int dj = 0; dj < kw; dj++)
                {
                    int iw = j * o.StrideW - left + dj * o.DilationW;
                    if (iw < 0 || iw >= w) continue;
                    for (int q = 0; q < cg; q++)
                        sum += x.At(b, ih, iw, group * cg + q) * filter.At(di, dj, q, k);
                }
            }
            y.At(b, i, j, k) = Activate(sum, o.Activation);
        }
        return y;
    }

    /// <summary>
    /// tf.nn.conv1d / Keras Conv1D: x (N,L,C), filter (K,C/groups,OC). Valid, same (TF split) or
    /// causal (dilation·(k−1) zeros on the left only).
    /// </summary>
    public static Nd Conv1D(Nd x, Nd filter, double[]? bias, int stride, int dilation, PaddingMode mode,
        int groups = 1, KernelActivation activation = default)
    {
        int n = x.Shape[0], length = x.Shape[1], c = x.Shape[2];
        int k = filter.Shape[0], cg = filter.Shape[1], oc = filter.Shape[2];
        if (cg * groups != c) throw new ArgumentException($"reference Conv1D: filter {filter} does not fit input {x}.");
        int ocg = oc / groups;
        var (before, _, outLength) = Axis(length, k, stride, dilation, mode);
        var y = Nd.Zeros(n, outLength, oc);
        for (int b = 0; b < n; b++)
        for (int t = 0; t < outLength; t++)
        for (int o = 0; o < oc; o++)
        {
            int group = o / ocg;
            double sum = bias?[o] ?? 0.0;
            for (int tap = 0; tap < k; tap++)
            {
                int source = t * stride - before + tap * dilation;
                if (source < 0 || source >= length) continue;
                for (int q = 0; q < cg; q++)
                    sum += x.At(b, source, group * cg + q) * filter.At(tap, q, o);
            }
            y.At(b, t, o) = Activate(sum, activation);
        }
        return y;
    }

    /// <summary>
    /// The chain rule applied to <see cref="Conv2D"/> (no activation), for shapes too large for finite
    /// differences: every product x[b,ih,iw,c]·f[di,dj,q,k] of the forward sum sends G[b,i,j,k]·f to
    /// gradInput[b,ih,iw,c] and G[b,i,j,k]·x to gradFilter[di,dj,q,k]. Checked against finite differences
    /// in DoubleReferenceTests.
    /// </summary>
    public static (Nd GradInput, Nd GradFilter) Conv2DBackward(Nd x, Nd filter, Nd gradOutput, Conv2DOptions o)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2];
        int kh = filter.Shape[0], kw = filter.Shape[1], cg = filter.Shape[2], oc = filter.Shape[3];
        int ocg = oc / o.Groups;
        var p = o.Padding;
        var (top, _, oh) = Axis(h, kh, o.StrideH, o.DilationH, p.Mode == PaddingMode.Causal ? PaddingMode.Valid : p.Mode, p.Top, p.Bottom);
        var (left, _, ow) = Axis(w, kw, o.StrideW, o.DilationW, p.Mode, p.Left, p.Right);
        var gradInput = Nd.Zeros(x.Shape);
        var gradFilter = Nd.Zeros(filter.Shape);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int k = 0; k < oc; k++)
        {
            int group = k / ocg;
            double g = gradOutput.At(b, i, j, k);
            for (int di = 0; di < kh; di++)
            {
                int ih = i * o.StrideH - top + di * o.DilationH;
                if (ih < 0 || ih >= h) continue;
                for (int dj = 0; dj < kw; dj++)
                {
                    int iw = j * o.StrideW - left + dj * o.DilationW;
                    if (iw < 0 || iw >= w) continue;
                    for (int q = 0; q < cg; q++)
                    {
                        gradInput.At(b, ih, iw, group * cg + q) += g * filter.At(di, dj, q, k);
                        gradFilter.At(di, dj, q, k) += g * x.At(b, ih, iw, group * cg + q);
                    }
                }
            }
        }
        return (gradInput, gradFilter);
    }

    // ---------------------------------------------------------------- pooling

    /// <summary>
    /// Max or average pooling. Padded cells never win a max. The average divides by the cells inside the
    /// input (TF: SAME excludes padding), or with count_include_pad and explicit pads by the cells inside
    /// the padded input, never counting a ceil-mode overhang past the trailing pad (ONNX/PyTorch).
    /// </summary>
    public static Nd Pool2D(Nd x, Pool2DOptions o, PoolKind kind)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        int sh = o.StrideH ?? o.PoolH, sw = o.StrideW ?? o.PoolW;
        var p = o.Padding;
        var (top, bottom, oh) = Axis(h, o.PoolH, sh, o.DilationH, p.Mode, p.Top, p.Bottom, o.CeilMode);
        var (left, right, ow) = Axis(w, o.PoolW, sw, o.DilationW, p.Mode, p.Left, p.Right, o.CeilMode);
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"reference Pool2D: no window fits input {x}.");
        bool includePad = o.CountIncludePad && p.Mode == PaddingMode.Explicit;

        var y = Nd.Zeros(n, oh, ow, c);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int ch = 0; ch < c; ch++)
        {
            double max = double.NegativeInfinity, sum = 0;
            int divisor = 0;
            for (int pi = 0; pi < o.PoolH; pi++)
            for (int pj = 0; pj < o.PoolW; pj++)
            {
                int ih = i * sh - top + pi * o.DilationH, iw = j * sw - left + pj * o.DilationW;
                bool inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
                bool counted = includePad
                    ? ih >= -top && ih < h + bottom && iw >= -left && iw < w + right
                    : inside;
                if (counted) divisor++;
                if (!inside) continue;
                double v = x.At(b, ih, iw, ch);
                max = Math.Max(max, v);
                sum += v;
            }
            y.At(b, i, j, ch) = kind == PoolKind.Max ? max : sum / divisor;
        }
        return y;
    }

    /// <summary>
    /// The chain rule applied to <see cref="Pool2D"/>, for shapes too large for finite differences: a max
    /// window sends its gradient to the first input cell holding the maximum in scan order (row by row);
    /// an average window sends G/divisor to each of its cells inside the input. Checked against finite
    /// differences in DoubleReferenceTests.
    /// </summary>
    public static Nd Pool2DBackward(Nd x, Nd gradOutput, Pool2DOptions o, PoolKind kind)
    {
        int h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        int sh = o.StrideH ?? o.PoolH, sw = o.StrideW ?? o.PoolW;
        var p = o.Padding;
        var (top, bottom, oh) = Axis(h, o.PoolH, sh, o.DilationH, p.Mode, p.Top, p.Bottom, o.CeilMode);
        var (left, right, ow) = Axis(w, o.PoolW, sw, o.DilationW, p.Mode, p.Left, p.Right, o.CeilMode);
        bool includePad = o.CountIncludePad && p.Mode == PaddingMode.Explicit;
        var gradInput = Nd.Zeros(x.Shape);
        var cells = new List<(int H, int W)>();
        for (int b = 0; b < x.Shape[0]; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int ch = 0; ch < c; ch++)
        {
            cells.Clear();
            int divisor = 0;
            for (int pi = 0; pi < o.PoolH; pi++)
            for (int pj = 0; pj < o.PoolW; pj++)
            {
                int ih = i * sh - top + pi * o.DilationH, iw = j * sw - left + pj * o.DilationW;
                bool inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
                if (includePad ? ih >= -top && ih < h + bottom && iw >= -left && iw < w + right : inside) divisor++;
                if (inside) cells.Add((ih, iw));
            }
            double g = gradOutput.At(b, i, j, ch);
            if (kind == PoolKind.Average)
            {
                foreach (var (ih, iw) in cells) gradInput.At(b, ih, iw, ch) += g / divisor;
                continue;
            }
            var best = cells[0];
            foreach (var cell in cells)
                if (x.At(b, cell.H, cell.W, ch) > x.At(b, best.H, best.W, ch)) best = cell;
            gradInput.At(b, best.H, best.W, ch) += g;
        }
        return gradInput;
    }

    /// <summary>
    /// Keras MaxPooling1D / AveragePooling1D on (N, L, C), written over the one axis on its own: window <paramref name="pool"/>,
    /// step <paramref name="stride"/>, valid or same padding (TF's split, padded cells never win a max and are left out of
    /// an average's divisor).
    /// </summary>
    public static Nd Pool1D(Nd x, int pool, int stride, PaddingMode mode, PoolKind kind)
    {
        int n = x.Shape[0], length = x.Shape[1], c = x.Shape[2];
        var (before, _, output) = Axis(length, pool, stride, 1, mode);
        if (output <= 0) throw new ArgumentException($"reference Pool1D: no window fits input {x}.");
        var y = Nd.Zeros(n, output, c);
        for (int b = 0; b < n; b++)
        for (int t = 0; t < output; t++)
        for (int ch = 0; ch < c; ch++)
        {
            double max = double.NegativeInfinity, sum = 0;
            int count = 0;
            for (int i = 0; i < pool; i++)
            {
                int at = t * stride - before + i;
                if (at < 0 || at >= length) continue;
                double v = x.At(b, at, ch);
                max = Math.Max(max, v);
                sum += v;
                count++;
            }
            y.At(b, t, ch) = kind == PoolKind.Max ? max : sum / count;
        }
        return y;
    }

    /// <summary>(N, spatial…, C) → (N, C): mean or max over every position.</summary>
    public static Nd GlobalPool(Nd x, PoolKind kind)
    {
        int n = x.Shape[0], c = x.Shape[^1];
        int spatial = x.Length / n / c;
        var y = Nd.Zeros(n, c);
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int s = 0; s < spatial; s++)
            {
                double v = x.Data[(b * spatial + s) * c + ch];
                max = Math.Max(max, v);
                sum += v;
            }
            y.At(b, ch) = kind == PoolKind.Max ? max : sum / spatial;
        }
        return y;
    }

    // ---------------------------------------------------------------- dense and elementwise

    /// <summary>Keras Dense: y = act(x·W + b), x (M,K), W (K,N).</summary>
    public static Nd Dense(Nd x, Nd kernel, double[]? bias, KernelActivation activation = default)
    {
        int m = x.Shape[0], k = x.Shape[1], n = kernel.Shape[1];
        var y = Nd.Zeros(m, n);
        for (int r = 0; r < m; r++)
        for (int col = 0; col < n; col++)
        {
            double sum = bias?[col] ?? 0.0;
            for (int q = 0; q < k; q++) sum += x.At(r, q) * kernel.At(q, col);
            y.At(r, col) = Activate(sum, activation);
        }
        return y;
    }

    /// <summary>c = op(a)·op(b), op = transpose when asked: a is (M,K) or stored (K,M), b is (K,N) or stored (N,K).</summary>
    public static double[] MatMul(double[] a, double[] b, int m, int k, int n, bool transposeA, bool transposeB)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int q = 0; q < k; q++)
                sum += (transposeA ? a[q * m + i] : a[i * k + q]) * (transposeB ? b[j * k + q] : b[q * n + j]);
            c[i * n + j] = sum;
        }
        return c;
    }

    /// <summary>relu max(x,0); leaky relu x or α·x; sigmoid 1/(1+e^−x); tanh.</summary>
    public static double Activate(double x, KernelActivation activation) => activation.Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => x > 0 ? x : 0,
        ActivationKind.LeakyRelu => x > 0 ? x : activation.Alpha * x,
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-x)),
        ActivationKind.Tanh => Math.Tanh(x),
        _ => KerasActivation(x, activation),
    };

    public static double[] Activate(double[] x, KernelActivation activation) => Array.ConvertAll(x, v => Activate(v, activation));

    /// <summary>Softmax over the last axis, e^(x−max)/Σe^(x−max); log-softmax x − max − log Σe^(x−max).</summary>
    public static double[] Softmax(double[] x, int rows, int cols, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            double max = double.NegativeInfinity;
            foreach (double v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (double v in row) sum += Math.Exp(v - max);
            for (int j = 0; j < cols; j++)
                y[r * cols + j] = log ? row[j] - max - Math.Log(sum) : Math.Exp(row[j] - max) / sum;
        }
        return y;
    }

    public static double[] Add(double[] a, double[] b)
    {
        var y = new double[a.Length];
        for (int i = 0; i < a.Length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /// <summary>Concatenation along the last axis; every other axis must agree.</summary>
    public static Nd Concat(params Nd[] inputs)
    {
        int pixels = inputs[0].Length / inputs[0].Shape[^1];
        int total = inputs.Sum(t => t.Shape[^1]);
        var shape = (int[])inputs[0].Shape.Clone();
        shape[^1] = total;
        var y = Nd.Zeros(shape);
        for (int p = 0; p < pixels; p++)
        {
            int offset = 0;
            foreach (var t in inputs)
            {
                int c = t.Shape[^1];
                for (int ch = 0; ch < c; ch++) y.Data[p * total + offset + ch] = t.Data[p * c + ch];
                offset += c;
            }
        }
        return y;
    }

    /// <summary>
    /// Spatial padding of (N,H,W,C). Zero: 0 outside. Edge: the nearest edge cell (aa|abcd|dd).
    /// Reflect: mirror about the edge cell without repeating it (cb|abcd|cb), as numpy "reflect".
    /// </summary>
    public static Nd Pad2D(Nd x, int top, int bottom, int left, int right, PadMode mode)
    {
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        var y = Nd.Zeros(n, h + top + bottom, w + left + right, c);
        for (int b = 0; b < n; b++)
        for (int i = 0; i < h + top + bottom; i++)
        for (int j = 0; j < w + left + right; j++)
        {
            int si = PadSource(i - top, h, mode), sj = PadSource(j - left, w, mode);
            for (int ch = 0; ch < c; ch++)
                y.At(b, i, j, ch) = si < 0 || sj < 0 ? 0 : x.At(b, si, sj, ch);
        }
        return y;
    }

    private static int PadSource(int i, int n, PadMode mode)
    {
        if (i >= 0 && i < n) return i;
        return mode switch
        {
            PadMode.Zero => -1,
            PadMode.Edge => Math.Clamp(i, 0, n - 1),
            // Distance past the edge, mirrored back inside: −1 → 1, n → n−2.
            _ => i < 0 ? -i : (n - 1) - (i - (n - 1)),
        };
    }

    // ---------------------------------------------------------------- losses (keras-semantics.md A)

    /// <summary>Keras's backend epsilon, used for clipping probabilities.</summary>
    public const double KerasEpsilon = 1e-7;

    /// <summary>
    /// Each row's loss, as Keras reduces over the last axis. Binary CE and MSE: the mean over the
    /// columns. Categorical CE: the sum −Σ t·log p over classes. Sparse CE: targets (rows) hold class indices.
    /// </summary>
    public static double[] LossPerRow(LossKind kind, double[] prediction, double[] target, int rows, int cols)
    {
        var loss = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            int row = r * cols;
            var z = prediction.AsSpan(row, cols);
            loss[r] = kind switch
            {
                LossKind.SigmoidBinaryCrossEntropy => MeanOver(cols, j => SigmoidBce(prediction[row + j], target[row + j])),
                LossKind.BinaryCrossEntropy => MeanOver(cols, j => ClippedBce(prediction[row + j], target[row + j])),
                LossKind.MeanSquaredError => MeanOver(cols, j => Math.Pow(prediction[row + j] - target[row + j], 2)),
                LossKind.SoftmaxCategoricalCrossEntropy => SoftmaxCrossEntropy(z, target.AsSpan(row, cols)),
                LossKind.SoftmaxSparseCategoricalCrossEntropy => SoftmaxCrossEntropy(z, OneHot((int)target[r], cols)),
                LossKind.CategoricalCrossEntropy => ProbabilityCrossEntropy(z, target.AsSpan(row, cols)),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }
        return loss;
    }

    /// <summary>The scalar the loss kernel differentiates: the mean of the per-row losses.</summary>
    public static double MeanLoss(LossKind kind, double[] prediction, double[] target, int rows, int cols) =>
        LossPerRow(kind, prediction, target, rows, cols).Average();

    /// <summary>
    /// d(mean loss)/d(prediction), worked by hand from each formula: sigmoid BCE (σ(z) − t)/(R·C);
    /// clipped BCE (−t/(p+ε) + (1−t)/(1−p+ε))/(R·C), 0 where the clip is active; MSE 2(p−t)/(R·C);
    /// softmax CE (softmax(z)·Σt − t)/R; categorical CE on probabilities through Keras's rescaling
    /// q = p/Σp (keras backend.categorical_crossentropy): (−t_j/q_j + Σ_c t_c)/(Σp·R) without clipping.
    /// </summary>
    public static double[] LossGradient(LossKind kind, double[] prediction, double[] target, int rows, int cols)
    {
        var grad = new double[prediction.Length];
        for (int r = 0; r < rows; r++)
        {
            var z = prediction.AsSpan(r * cols, cols);
            ReadOnlySpan<double> t = kind == LossKind.SoftmaxSparseCategoricalCrossEntropy
                ? OneHot((int)target[r], cols) : target.AsSpan(r * cols, cols);
            var g = grad.AsSpan(r * cols, cols);
            switch (kind)
            {
                case LossKind.SigmoidBinaryCrossEntropy:
                    for (int j = 0; j < cols; j++) g[j] = (1 / (1 + Math.Exp(-z[j])) - t[j]) / (rows * cols);
                    break;
                case LossKind.BinaryCrossEntropy:
                    for (int j = 0; j < cols; j++)
                        g[j] = z[j] <= KerasEpsilon || z[j] >= 1 - KerasEpsilon ? 0
                            : (-t[j] / (z[j] + KerasEpsilon) + (1 - t[j]) / (1 - z[j] + KerasEpsilon)) / (rows * cols);
                    break;
                case LossKind.MeanSquaredError:
                    for (int j = 0; j < cols; j++) g[j] = 2 * (z[j] - t[j]) / (rows * cols);
                    break;
                case LossKind.SoftmaxCategoricalCrossEntropy:
                case LossKind.SoftmaxSparseCategoricalCrossEntropy:
                {
                    var p = Softmax(z.ToArray(), 1, cols, log: false);
                    double targetSum = 0;
                    foreach (double v in t) targetSum += v;
                    for (int j = 0; j < cols; j++) g[j] = (p[j] * targetSum - t[j]) / rows;
                    break;
                }
                case LossKind.CategoricalCrossEntropy:
                {
                    double sum = 0, targetSum = 0;
                    foreach (double v in z) sum += v;
                    foreach (double v in t) targetSum += v;
                    for (int j = 0; j < cols; j++) g[j] = (-t[j] / (z[j] / sum) + targetSum) / (sum * rows);
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind));
            }
        }
        return grad;
    }

    /// <summary>Keras 2 with a sigmoid output uses the logits: max(z,0) − z·t + log(1 + e^−|z|), no clipping.</summary>
    public static double SigmoidBce(double z, double t) => Math.Max(z, 0) - z * t + Math.Log(1 + Math.Exp(-Math.Abs(z)));

    /// <summary>Keras binary_crossentropy on probabilities: p clipped to [ε, 1−ε], −(t·log(p+ε) + (1−t)·log(1−p+ε)).</summary>
    public static double ClippedBce(double p, double t)
    {
        double c = Math.Clamp(p, KerasEpsilon, 1 - KerasEpsilon);
        return -(t * Math.Log(c + KerasEpsilon) + (1 - t) * Math.Log(1 - c + KerasEpsilon));
    }

    private static double SoftmaxCrossEntropy(ReadOnlySpan<double> logits, ReadOnlySpan<double> target)
    {
        var logP = Softmax(logits.ToArray(), 1, logits.Length, log: true);
        double loss = 0;
        for (int j = 0; j < logits.Length; j++) loss -= target[j] * logP[j];
        return loss;
    }

    /// <summary>keras backend.categorical_crossentropy(from_logits=False): p/Σp, clipped to [ε, 1−ε], −Σ t·log.</summary>
    private static double ProbabilityCrossEntropy(ReadOnlySpan<double> p, ReadOnlySpan<double> target)
    {
        double sum = 0;
        foreach (double v in p) sum += v;
        double loss = 0;
        for (int j = 0; j < p.Length; j++)
            loss -= target[j] * Math.Log(Math.Clamp(p[j] / sum, KerasEpsilon, 1 - KerasEpsilon));
        return loss;
    }

    private static double MeanOver(int cols, Func<int, double> term)
    {
        double sum = 0;
        for (int j = 0; j < cols; j++) sum += term(j);
        return sum / cols;
    }

    private static double[] OneHot(int index, int cols)
    {
        var t = new double[cols];
        t[index] = 1;
        return t;
    }

    // ---------------------------------------------------------------- optimizers

    /// <summary>
    /// One Keras Adam step (keras/optimizers/adam.py), t = step + 1 (1-based):
    /// α = lr·√(1−β2^t)/(1−β1^t); m += (g−m)(1−β1); v += (g²−v)(1−β2); θ −= α·m/(√v + ε̂),
    /// ε̂ added to √v without bias correction.
    /// </summary>
    public static void AdamStepKeras(double[] theta, double[] m, double[] v, double[] g, int t,
        double lr, double beta1, double beta2, double epsilon)
    {
        double alpha = lr * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t));
        for (int i = 0; i < theta.Length; i++)
        {
            m[i] += (g[i] - m[i]) * (1 - beta1);
            v[i] += (g[i] * g[i] - v[i]) * (1 - beta2);
            theta[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + epsilon);
        }
    }

    /// <summary>
    /// The PyTorch / paper form, for contrast: θ −= lr·m̂/(√v̂ + ε), m̂ = m/(1−β1^t), v̂ = v/(1−β2^t);
    /// ε is added after bias correction, so it differs from Keras by a factor √(1−β2^t) on ε.
    /// </summary>
    public static void AdamStepPyTorch(double[] theta, double[] m, double[] v, double[] g, int t,
        double lr, double beta1, double beta2, double epsilon)
    {
        for (int i = 0; i < theta.Length; i++)
        {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            double mHat = m[i] / (1 - Math.Pow(beta1, t)), vHat = v[i] / (1 - Math.Pow(beta2, t));
            theta[i] -= lr * mHat / (Math.Sqrt(vHat) + epsilon);
        }
    }

    /// <summary>
    /// One Keras SGD step (keras/optimizers/sgd.py): velocity = momentum·velocity − lr·g;
    /// θ += velocity, or with Nesterov θ += momentum·velocity − lr·g (with the new velocity).
    /// </summary>
    public static void SgdStep(double[] theta, double[] velocity, double[] g, double lr, double momentum, bool nesterov)
    {
        for (int i = 0; i < theta.Length; i++)
        {
            velocity[i] = momentum * velocity[i] - lr * g[i];
            theta[i] += nesterov ? momentum * velocity[i] - lr * g[i] : velocity[i];
        }
    }
}
