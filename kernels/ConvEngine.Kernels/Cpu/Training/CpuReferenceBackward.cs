using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu.Training;

/// <summary>
/// The readable version of every cpu training kernel: plain single-threaded loops that follow
/// the definitions in <see cref="IBackend"/> (IBackend.Training.cs) and
/// shared/reference/keras-semantics.md. The fast kernels that <see cref="CpuBackend"/> runs are
/// checked against these.
/// </summary>
public static class CpuReferenceBackward
{
    /// <summary>gradInput[b, i·s+p·d−pad, j·s+q·d−pad, g·Cg+c] += gradOut[b,i,j,o] · f[p,q,c,o]: the forward's taps, run backwards.</summary>
    public static void Conv2DBackwardData(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> filter, Span<float> gradInput, in Conv2DGeometry g)
    {
        int cg = g.InChannelsPerGroup, ocg = g.OutChannelsPerGroup;
        gradInput[..(g.N * g.H * g.W * g.C)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        for (int o = 0; o < g.OC; o++)
        {
            int group = o / ocg;
            float go = gradOutput[((b * g.OH + i) * g.OW + j) * g.OC + o];
            for (int p = 0; p < g.KH; p++)
            {
                int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                if (ih < 0 || ih >= g.H) continue;
                for (int q = 0; q < g.KW; q++)
                {
                    int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                    if (iw < 0 || iw >= g.W) continue;
                    for (int c = 0; c < cg; c++)
                        gradInput[((b * g.H + ih) * g.W + iw) * g.C + group * cg + c] +=
                            go * filter[((p * g.KW + q) * cg + c) * g.OC + o];
                }
            }
        }
    }

    /// <summary>gradFilter[p,q,c,o] = Σ over b,i,j of input[b, i·s+p·d−pad, j·s+q·d−pad, g·Cg+c] · gradOut[b,i,j,o].</summary>
    public static void Conv2DBackwardFilter(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradFilter, in Conv2DGeometry g)
    {
        int cg = g.InChannelsPerGroup, ocg = g.OutChannelsPerGroup;
        gradFilter[..(g.KH * g.KW * cg * g.OC)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        for (int o = 0; o < g.OC; o++)
        {
            int group = o / ocg;
            float go = gradOutput[((b * g.OH + i) * g.OW + j) * g.OC + o];
            for (int p = 0; p < g.KH; p++)
            {
                int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                if (ih < 0 || ih >= g.H) continue;
                for (int q = 0; q < g.KW; q++)
                {
                    int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                    if (iw < 0 || iw >= g.W) continue;
                    for (int c = 0; c < cg; c++)
                        gradFilter[((p * g.KW + q) * cg + c) * g.OC + o] +=
                            input[((b * g.H + ih) * g.W + iw) * g.C + group * cg + c] * go;
                }
            }
        }
    }

    public static void BiasBackward(ReadOnlySpan<float> gradOutput, Span<float> gradBias, long rows, int channels)
    {
        for (int c = 0; c < channels; c++)
        {
            float sum = 0f;
            for (long r = 0; r < rows; r++) sum += gradOutput[(int)(r * channels + c)];
            gradBias[c] = sum;
        }
    }

    /// <summary>
    /// Max: each window's gradient goes to its first maximum in scan order (p, then q), padded
    /// cells skipped. Average: gradient / divisor to every input cell of the window.
    /// </summary>
    public static void Pool2DBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradInput, in Pool2DGeometry g, PoolKind kind)
    {
        gradInput[..(g.N * g.H * g.W * g.C)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih0 = i * g.StrideH - g.PadTop, iw0 = j * g.StrideW - g.PadLeft;
            for (int c = 0; c < g.C; c++)
            {
                float go = gradOutput[((b * g.OH + i) * g.OW + j) * g.C + c];
                if (kind == PoolKind.Max)
                {
                    int best = -1;
                    float bestValue = 0f;
                    for (int p = 0; p < g.PoolH; p++)
                    {
                        int ih = ih0 + p * g.DilationH;
                        if (ih < 0 || ih >= g.H) continue;
                        for (int q = 0; q < g.PoolW; q++)
                        {
                            int iw = iw0 + q * g.DilationW;
                            if (iw < 0 || iw >= g.W) continue;
                            int at = ((b * g.H + ih) * g.W + iw) * g.C + c;
                            if (best < 0 || input[at] > bestValue) (best, bestValue) = (at, input[at]);
                        }
                    }
                    if (best >= 0) gradInput[best] += go;
                }
                else
                {
                    float share = go / g.AverageDivisor(ih0, iw0);
                    for (int p = 0; p < g.PoolH; p++)
                    {
                        int ih = ih0 + p * g.DilationH;
                        if (ih < 0 || ih >= g.H) continue;
                        for (int q = 0; q < g.PoolW; q++)
                        {
                            int iw = iw0 + q * g.DilationW;
                            if (iw < 0 || iw >= g.W) continue;
                            gradInput[((b * g.H + ih) * g.W + iw) * g.C + c] += share;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Average: gradient / spatial to every position. Max: the whole gradient to the first maximum.</summary>
    public static void GlobalPoolBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradInput, int n, int spatial, int channels, PoolKind kind)
    {
        for (int b = 0; b < n; b++)
        for (int c = 0; c < channels; c++)
        {
            float go = gradOutput[b * channels + c];
            int best = 0;
            for (int s = 0; s < spatial; s++)
            {
                int at = (b * spatial + s) * channels + c;
                gradInput[at] = kind == PoolKind.Max ? 0f : go / spatial;
                if (input[at] > input[(b * spatial + best) * channels + c]) best = s;
            }
            if (kind == PoolKind.Max) gradInput[(b * spatial + best) * channels + c] = go;
        }
    }

    public static void MatMul(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float sum = 0f;
            for (int t = 0; t < k; t++)
                sum += (transposeA ? a[t * m + i] : a[i * k + t]) * (transposeB ? b[j * k + t] : b[t * n + j]);
            c[i * n + j] = accumulate ? c[i * n + j] + sum : sum;
        }
    }

    /// <summary>The activation's derivative, written from its output y.</summary>
    public static float ActivationDerivative(float y, Activation activation) => activation.Kind switch
    {
        ActivationKind.None => 1f,
        ActivationKind.Relu => y > 0f ? 1f : 0f,
        ActivationKind.LeakyRelu => y > 0f ? 1f : activation.Alpha,
        ActivationKind.Sigmoid => y * (1f - y),
        ActivationKind.Tanh => 1f - y * y,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), $"ActivationBackward: unknown activation {activation}."),
    };

    public static void ActivationBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradOutput, Span<float> gradInput, long length, Activation activation)
    {
        for (int i = 0; i < length; i++) gradInput[i] = gradOutput[i] * ActivationDerivative(output[i], activation);
    }

    /// <summary>Softmax: dx = y ⊙ (g − Σ g⊙y). Log-softmax: dx = g − e^y · Σ g.</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> output, ReadOnlySpan<float> gradOutput, Span<float> gradInput, int rows, int cols, bool log)
    {
        for (int r = 0; r < rows; r++)
        {
            int row = r * cols;
            float sum = 0f;
            for (int c = 0; c < cols; c++) sum += log ? gradOutput[row + c] : gradOutput[row + c] * output[row + c];
            for (int c = 0; c < cols; c++)
                gradInput[row + c] = log
                    ? gradOutput[row + c] - MathF.Exp(output[row + c]) * sum
                    : output[row + c] * (gradOutput[row + c] - sum);
        }
    }

    public static void Split(ReadOnlySpan<float> input, IReadOnlyList<float[]> outputs, IReadOnlyList<int> channels, long pixels)
    {
        int total = channels.Sum();
        for (long p = 0; p < pixels; p++)
        {
            int offset = 0;
            for (int t = 0; t < outputs.Count; t++)
            {
                for (int c = 0; c < channels[t]; c++)
                    outputs[t][p * channels[t] + c] = input[(int)(p * total + offset + c)];
                offset += channels[t];
            }
        }
    }

    /// <summary>Each input cell sums the gradient of every output cell that copied it (<see cref="Pad2DGeometry.SourceIndex"/>).</summary>
    public static void Pad2DBackward(ReadOnlySpan<float> gradOutput, Span<float> gradInput, in Pad2DGeometry g, PadMode mode)
    {
        gradInput[..(g.N * g.H * g.W * g.C)].Clear();
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        for (int j = 0; j < g.OW; j++)
        {
            int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode);
            int iw = Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode);
            if (ih < 0 || iw < 0) continue;
            for (int c = 0; c < g.C; c++)
                gradInput[((b * g.H + ih) * g.W + iw) * g.C + c] += gradOutput[((b * g.OH + i) * g.OW + j) * g.C + c];
        }
    }

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, long length)
    {
        for (int i = 0; i < length; i++) output[i] = a[i] * b[i];
    }

    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y, long length)
    {
        for (int i = 0; i < length; i++) y[i] = alpha * x[i] + y[i];
    }

    public static void Fill(Span<float> buffer, float value, long length)
    {
        for (int i = 0; i < length; i++) buffer[i] = value;
    }

    /// <summary>Inverted dropout: keep element i when <see cref="CounterRng.Uniform"/>(seed, i) ≥ rate, scaled by 1/(1−rate).</summary>
    public static void Dropout(ReadOnlySpan<float> input, Span<float> mask, Span<float> output, long length, float rate, ulong seed)
    {
        for (int i = 0; i < length; i++)
        {
            bool keep = CounterRng.Uniform(seed, (ulong)i) >= rate;
            mask[i] = keep ? 1f / (1f - rate) : 0f;
            output[i] = input[i] * mask[i];
        }
    }

    /// <summary>See <see cref="LossKind"/> and <see cref="IBackend.Loss"/>; each kind is written out from its formula.</summary>
    public static void Loss(LossKind kind, ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> lossPerRow, Span<float> gradPrediction, int rows, int cols)
    {
        const float Epsilon = 1e-7f;
        for (int r = 0; r < rows; r++)
        {
            var z = prediction.Slice(r * cols, cols);
            var t = target.Slice(kind == LossKind.SoftmaxSparseCategoricalCrossEntropy ? r : r * cols,
                                 kind == LossKind.SoftmaxSparseCategoricalCrossEntropy ? 1 : cols);
            var grad = gradPrediction.Slice(r * cols, cols);
            float loss = 0f;
            switch (kind)
            {
                case LossKind.SigmoidBinaryCrossEntropy:
                    for (int c = 0; c < cols; c++)
                    {
                        loss += MathF.Max(z[c], 0f) - z[c] * t[c] + MathF.Log(1f + MathF.Exp(-MathF.Abs(z[c])));
                        grad[c] = (1f / (1f + MathF.Exp(-z[c])) - t[c]) / cols / rows;
                    }
                    loss /= cols;
                    break;
                case LossKind.BinaryCrossEntropy:
                    for (int c = 0; c < cols; c++)
                    {
                        float p = Math.Clamp(z[c], Epsilon, 1f - Epsilon);
                        loss += -(t[c] * MathF.Log(p + Epsilon) + (1f - t[c]) * MathF.Log(1f - p + Epsilon));
                        bool clipped = z[c] < Epsilon || z[c] > 1f - Epsilon;
                        grad[c] = clipped ? 0f : -(t[c] / (p + Epsilon) - (1f - t[c]) / (1f - p + Epsilon)) / cols / rows;
                    }
                    loss /= cols;
                    break;
                case LossKind.SoftmaxCategoricalCrossEntropy:
                case LossKind.SoftmaxSparseCategoricalCrossEntropy:
                {
                    float max = float.NegativeInfinity;
                    for (int c = 0; c < cols; c++) max = MathF.Max(max, z[c]);
                    float sumExp = 0f;
                    for (int c = 0; c < cols; c++) sumExp += MathF.Exp(z[c] - max);
                    float logSumExp = max + MathF.Log(sumExp);
                    for (int c = 0; c < cols; c++)
                    {
                        float onehot = kind == LossKind.SoftmaxCategoricalCrossEntropy ? t[c] : (c == (int)t[0] ? 1f : 0f);
                        loss -= onehot * (z[c] - logSumExp);
                        grad[c] = (MathF.Exp(z[c] - logSumExp) - onehot) / rows;
                    }
                    break;
                }
                case LossKind.CategoricalCrossEntropy:
                {
                    // q = p / Σp, clipped; the clip passes no gradient where it is active.
                    float sum = 0f;
                    for (int c = 0; c < cols; c++) sum += z[c];
                    float dot = 0f;
                    for (int c = 0; c < cols; c++)
                    {
                        float q = z[c] / sum;
                        loss -= t[c] * MathF.Log(Math.Clamp(q, Epsilon, 1f - Epsilon));
                        float dq = q < Epsilon || q > 1f - Epsilon ? 0f : -t[c] / q;
                        grad[c] = dq;
                        dot += dq * q;
                    }
                    for (int c = 0; c < cols; c++) grad[c] = (grad[c] - dot) / sum / rows;
                    break;
                }
                case LossKind.MeanSquaredError:
                    for (int c = 0; c < cols; c++)
                    {
                        float d = z[c] - t[c];
                        loss += d * d;
                        grad[c] = 2f * d / cols / rows;
                    }
                    loss /= cols;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), $"Loss: unknown loss kind {kind}.");
            }
            lossPerRow[r] = loss;
        }
    }

    /// <summary>m += (g−m)(1−β1); v += (g²−v)(1−β2); θ −= stepSize·m/(√v + ε).</summary>
    public static void AdamUpdate(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, long length,
        float stepSize, float beta1, float beta2, float epsilon)
    {
        for (int i = 0; i < length; i++)
        {
            float g = gradient[i];
            m[i] += (g - m[i]) * (1f - beta1);
            v[i] += (g * g - v[i]) * (1f - beta2);
            parameters[i] -= m[i] * stepSize / (MathF.Sqrt(v[i]) + epsilon);
        }
    }

    /// <summary>velocity = momentum·velocity − lr·g; θ += velocity (Nesterov: θ += momentum·velocity − lr·g).</summary>
    public static void SgdUpdate(Span<float> parameters, ReadOnlySpan<float> gradient, Span<float> velocity, long length,
        float learningRate, float momentum, bool nesterov)
    {
        for (int i = 0; i < length; i++)
        {
            velocity[i] = -gradient[i] * learningRate + velocity[i] * momentum;
            parameters[i] += nesterov ? -gradient[i] * learningRate + velocity[i] * momentum : velocity[i];
        }
    }
}
