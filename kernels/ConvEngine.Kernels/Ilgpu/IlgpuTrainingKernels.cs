using ILGPU;
using ILGPU.Runtime;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Row-wise kernels (softmax, fused losses) and optimizer updates.</summary>
internal static class IlgpuTrainingKernels
{
    /// <summary>One thread per row: subtracts the row max so exp never overflows; log-softmax = x − max − log Σ e^(x−max).</summary>
    public static void Softmax(Index1D row, ArrayView<float> input, ArrayView<float> output, int cols, int log)
    {
        int start = row * cols;
        float max = float.NegativeInfinity;
        for (int c = 0; c < cols; c++) max = MathF.Max(max, input[start + c]);
        float sum = 0f;
        for (int c = 0; c < cols; c++) sum += MathF.Exp(input[start + c] - max);
        float logSum = MathF.Log(sum);
        for (int c = 0; c < cols; c++)
            output[start + c] = log != 0 ? input[start + c] - max - logSum : MathF.Exp(input[start + c] - max) / sum;
    }

    /// <summary>One thread per row, from the output y: softmax gIn = g·y − y·Σ(g·y); log-softmax gIn = g − e^y·Σg.</summary>
    public static void SoftmaxBackward(Index1D row, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput, int cols, int log)
    {
        int start = row * cols;
        float dot = 0f;
        for (int c = 0; c < cols; c++)
            dot += log != 0 ? gradOutput[start + c] : gradOutput[start + c] * output[start + c];
        for (int c = 0; c < cols; c++)
        {
            float y = output[start + c], g = gradOutput[start + c];
            gradInput[start + c] = log != 0 ? g - MathF.Exp(y) * dot : y * (g - dot);
        }
    }

    /// <summary>
    /// One thread per row of (rows, cols) predictions. lossPerRow[r] is the Keras per-sample loss: the mean
    /// over cols for binary cross-entropy and MSE, the sum over classes for categorical cross-entropy.
    /// gradPrediction = d(mean over rows of lossPerRow)/d(prediction). See keras-semantics.md A.
    /// </summary>
    public static void Loss(Index1D row, LossKind kind, ArrayView<float> prediction, ArrayView<float> target,
        ArrayView<float> lossPerRow, ArrayView<float> gradPrediction, int rows, int cols)
    {
        switch (kind)
        {
            case LossKind.SigmoidBinaryCrossEntropy: SigmoidBinaryCrossEntropy(row, prediction, target, lossPerRow, gradPrediction, rows, cols); break;
            case LossKind.BinaryCrossEntropy: BinaryCrossEntropy(row, prediction, target, lossPerRow, gradPrediction, rows, cols); break;
            case LossKind.SoftmaxCategoricalCrossEntropy: SoftmaxCrossEntropy(row, prediction, target, lossPerRow, gradPrediction, rows, cols, sparse: false); break;
            case LossKind.SoftmaxSparseCategoricalCrossEntropy: SoftmaxCrossEntropy(row, prediction, target, lossPerRow, gradPrediction, rows, cols, sparse: true); break;
            case LossKind.CategoricalCrossEntropy: CategoricalCrossEntropy(row, prediction, target, lossPerRow, gradPrediction, rows, cols); break;
            default: MeanSquaredError(row, prediction, target, lossPerRow, gradPrediction, rows, cols); break;
        }
    }

    /// <summary>Keras's float epsilon, used for clipping probabilities.</summary>
    private const float Epsilon = 1e-7f;

    /// <summary>Stable logits form max(z,0) − z·t + log(1+e^−|z|), mean over cols; d/dz = (σ(z) − t)/(cols·rows).</summary>
    private static void SigmoidBinaryCrossEntropy(int row, ArrayView<float> z, ArrayView<float> t, ArrayView<float> loss, ArrayView<float> grad, int rows, int cols)
    {
        int start = row * cols;
        float sum = 0f, scale = 1f / ((float)cols * rows);
        for (int c = 0; c < cols; c++)
        {
            float x = z[start + c], y = t[start + c];
            sum += MathF.Max(x, 0f) - x * y + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
            grad[start + c] = (IlgpuKernelMath.Sigmoid(x) - y) * scale;
        }
        loss[row] = sum / cols;
    }

    /// <summary>
    /// Keras backend.binary_crossentropy: p clipped to [ε, 1−ε], −(t·log(p+ε) + (1−t)·log(1−p+ε)), mean over cols.
    /// The clip passes no gradient outside its range, as tf.clip_by_value.
    /// </summary>
    private static void BinaryCrossEntropy(int row, ArrayView<float> p, ArrayView<float> t, ArrayView<float> loss, ArrayView<float> grad, int rows, int cols)
    {
        int start = row * cols;
        float sum = 0f, scale = 1f / ((float)cols * rows);
        for (int c = 0; c < cols; c++)
        {
            float raw = p[start + c], y = t[start + c];
            float q = MathF.Min(MathF.Max(raw, Epsilon), 1f - Epsilon);
            sum -= y * MathF.Log(q + Epsilon) + (1f - y) * MathF.Log(1f - q + Epsilon);
            bool inside = raw >= Epsilon && raw <= 1f - Epsilon;
            grad[start + c] = inside ? (-y / (q + Epsilon) + (1f - y) / (1f - q + Epsilon)) * scale : 0f;
        }
        loss[row] = sum / cols;
    }

    /// <summary>
    /// Softmax + cross-entropy from logits: loss = Σ_c t_c·(lse − z_c) with lse = log Σ e^z, summed over classes;
    /// d/dz_c = (softmax_c·Σt − t_c)/rows. Sparse targets hold the class index as a float (one per row);
    /// an index outside [0, cols) gives a NaN loss rather than a silent wrong value.
    /// </summary>
    private static void SoftmaxCrossEntropy(int row, ArrayView<float> z, ArrayView<float> t, ArrayView<float> loss, ArrayView<float> grad,
        int rows, int cols, bool sparse)
    {
        int start = row * cols;
        float max = float.NegativeInfinity;
        for (int c = 0; c < cols; c++) max = MathF.Max(max, z[start + c]);
        float sumExp = 0f;
        for (int c = 0; c < cols; c++) sumExp += MathF.Exp(z[start + c] - max);
        float lse = max + MathF.Log(sumExp);
        float scale = 1f / rows;

        if (sparse)
        {
            float label = t[row];
            int cls = (int)label;
            bool valid = cls >= 0 && cls < cols && cls == label;
            loss[row] = valid ? lse - z[start + cls] : float.NaN;
            for (int c = 0; c < cols; c++)
                grad[start + c] = (MathF.Exp(z[start + c] - lse) - (c == cls ? 1f : 0f)) * scale;
            return;
        }
        float total = 0f, targetSum = 0f;
        for (int c = 0; c < cols; c++)
        {
            float y = t[start + c];
            total += y * (lse - z[start + c]);
            targetSum += y;
        }
        loss[row] = total;
        for (int c = 0; c < cols; c++)
            grad[start + c] = (MathF.Exp(z[start + c] - lse) * targetSum - t[start + c]) * scale;
    }

    /// <summary>
    /// Keras backend.categorical_crossentropy on probabilities: q = p / Σp, clipped to [ε, 1−ε],
    /// loss = −Σ t·log q (summed over classes). Gradient through the normalisation:
    /// dL/dp_j = (dL/dq_j − Σ_c dL/dq_c·q_c) / Σp with dL/dq = −t/q inside the clip, 0 outside.
    /// </summary>
    private static void CategoricalCrossEntropy(int row, ArrayView<float> p, ArrayView<float> t, ArrayView<float> loss, ArrayView<float> grad, int rows, int cols)
    {
        int start = row * cols;
        float total = 0f;
        for (int c = 0; c < cols; c++) total += p[start + c];
        float sum = 0f, weighted = 0f;
        for (int c = 0; c < cols; c++)
        {
            float q = p[start + c] / total;
            float clipped = MathF.Min(MathF.Max(q, Epsilon), 1f - Epsilon);
            float y = t[start + c];
            sum -= y * MathF.Log(clipped);
            float dq = q >= Epsilon && q <= 1f - Epsilon ? -y / clipped : 0f;
            weighted += dq * q;
        }
        loss[row] = sum;
        float scale = 1f / rows;
        for (int c = 0; c < cols; c++)
        {
            float q = p[start + c] / total;
            float clipped = MathF.Min(MathF.Max(q, Epsilon), 1f - Epsilon);
            float dq = q >= Epsilon && q <= 1f - Epsilon ? -t[start + c] / clipped : 0f;
            grad[start + c] = (dq - weighted) / total * scale;
        }
    }

    /// <summary>Mean over cols of (p − t)²; d/dp = 2(p − t)/(cols·rows).</summary>
    private static void MeanSquaredError(int row, ArrayView<float> p, ArrayView<float> t, ArrayView<float> loss, ArrayView<float> grad, int rows, int cols)
    {
        int start = row * cols;
        float sum = 0f, scale = 2f / ((float)cols * rows);
        for (int c = 0; c < cols; c++)
        {
            float d = p[start + c] - t[start + c];
            sum += d * d;
            grad[start + c] = d * scale;
        }
        loss[row] = sum / cols;
    }

    /// <summary>Keras Adam, bias correction folded into stepSize: m += (g−m)(1−β1); v += (g²−v)(1−β2); θ −= stepSize·m/(√v + ε).</summary>
    public static void AdamUpdate(Index1D index, ArrayView<float> parameters, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v,
        float stepSize, float beta1, float beta2, float epsilon)
    {
        float g = gradient[index];
        float mi = m[index] + (g - m[index]) * (1f - beta1);
        float vi = v[index] + (g * g - v[index]) * (1f - beta2);
        m[index] = mi;
        v[index] = vi;
        parameters[index] -= stepSize * mi / (MathF.Sqrt(vi) + epsilon);
    }

    /// <summary>Keras SGD: velocity = momentum·velocity − lr·g; θ += velocity, or with Nesterov θ += momentum·velocity − lr·g.</summary>
    public static void SgdUpdate(Index1D index, ArrayView<float> parameters, ArrayView<float> gradient, ArrayView<float> velocity,
        float learningRate, float momentum, int nesterov)
    {
        float g = gradient[index];
        float vel = momentum * velocity[index] - learningRate * g;
        velocity[index] = vel;
        parameters[index] += nesterov != 0 ? momentum * vel - learningRate * g : vel;
    }
}
