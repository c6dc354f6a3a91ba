namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Fused losses (see <see cref="LossKind"/> and shared/reference/keras-semantics.md A): per-row loss
/// and d(mean loss over rows)/d(prediction) in one pass. Rows are independent and split over threads.
/// </summary>
internal static class CpuLosses
{
    /// <summary>Keras's backend epsilon: the clip bound and the offset inside the logs.</summary>
    public const float Epsilon = 1e-7f;

    public static void Loss(int threads, LossKind kind, float[] prediction, float[] target, float[] lossPerRow, float[] gradPrediction, int rows, int cols)
    {
        if (kind == LossKind.SoftmaxSparseCategoricalCrossEntropy) CheckClassIndices(target, rows, cols);
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), $"Loss: unknown loss kind {kind}.");
        CpuParallel.For(threads, rows, Math.Max(1, CpuVectorLoop.MinPerPart / 4 / Math.Max(1, cols)), (start, end) =>
        {
            for (int r = (int)start; r < end; r++)
            {
                var z = prediction.AsSpan(r * cols, cols);
                var grad = gradPrediction.AsSpan(r * cols, cols);
                lossPerRow[r] = kind switch
                {
                    LossKind.SigmoidBinaryCrossEntropy => SigmoidBinaryRow(z, target.AsSpan(r * cols, cols), grad, rows),
                    LossKind.BinaryCrossEntropy => ClippedBinaryRow(z, target.AsSpan(r * cols, cols), grad, rows),
                    LossKind.SoftmaxCategoricalCrossEntropy => SoftmaxCrossEntropyRow(z, target.AsSpan(r * cols, cols), -1, grad, rows),
                    LossKind.SoftmaxSparseCategoricalCrossEntropy => SoftmaxCrossEntropyRow(z, default, (int)target[r], grad, rows),
                    LossKind.CategoricalCrossEntropy => ProbabilityCrossEntropyRow(z, target.AsSpan(r * cols, cols), grad, rows),
                    _ => MeanSquaredRow(z, target.AsSpan(r * cols, cols), grad, rows),
                };
            }
        });
    }

    /// <summary>Sparse targets are class indices stored as floats; anything else is named, not silently read as a class.</summary>
    private static void CheckClassIndices(float[] target, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            if (!(target[r] >= 0f && target[r] < cols && target[r] == MathF.Floor(target[r])))
                throw new ArgumentException(
                    $"Loss {LossKind.SoftmaxSparseCategoricalCrossEntropy}: target of row {r} is {target[r]}, not a class index in [0, {cols}) (predictions ({rows}, {cols})).");
    }

    /// <summary>max(z,0) − z·t + log(1 + e^−|z|), mean over the row; gradient (σ(z) − t)/(cols·rows).</summary>
    private static float SigmoidBinaryRow(ReadOnlySpan<float> z, ReadOnlySpan<float> t, Span<float> grad, int rows)
    {
        float loss = 0f, scale = 1f / ((float)z.Length * rows);
        for (int c = 0; c < z.Length; c++)
        {
            float e = MathF.Exp(-MathF.Abs(z[c]));
            loss += MathF.Max(z[c], 0f) - z[c] * t[c] + MathF.Log(1f + e);
            float sigmoid = z[c] >= 0f ? 1f / (1f + e) : e / (1f + e);  // never exp of a large positive number
            grad[c] = (sigmoid - t[c]) * scale;
        }
        return loss / z.Length;
    }

    /// <summary>
    /// p clipped to [ε, 1−ε], −(t·log(p+ε) + (1−t)·log(1−p+ε)), mean over the row. The clip passes
    /// no gradient where it is active (TensorFlow's clip_by_value gradient).
    /// </summary>
    private static float ClippedBinaryRow(ReadOnlySpan<float> p, ReadOnlySpan<float> t, Span<float> grad, int rows)
    {
        float loss = 0f, scale = 1f / ((float)p.Length * rows);
        const float High = 1f - Epsilon;
        for (int c = 0; c < p.Length; c++)
        {
            float clipped = Math.Clamp(p[c], Epsilon, High);
            loss -= t[c] * MathF.Log(clipped + Epsilon) + (1f - t[c]) * MathF.Log(1f - clipped + Epsilon);
            grad[c] = p[c] < Epsilon || p[c] > High ? 0f
                : ((1f - t[c]) / (1f - clipped + Epsilon) - t[c] / (clipped + Epsilon)) * scale;
        }
        return loss / p.Length;
    }

    /// <summary>
    /// −Σ t·log_softmax(z) from a stable log-sum-exp, summed over classes (not averaged: the class axis
    /// is the cross-entropy's own); gradient (softmax − t)/rows as TensorFlow's
    /// softmax_cross_entropy_with_logits. Sparse: t is one-hot at <paramref name="label"/>.
    /// </summary>
    private static float SoftmaxCrossEntropyRow(ReadOnlySpan<float> z, ReadOnlySpan<float> t, int label, Span<float> grad, int rows)
    {
        float max = float.NegativeInfinity;
        foreach (float v in z) max = MathF.Max(max, v);
        float sumExp = 0f;
        for (int c = 0; c < z.Length; c++)
        {
            grad[c] = MathF.Exp(z[c] - max);
            sumExp += grad[c];
        }
        float logSumExp = max + MathF.Log(sumExp);
        float loss = 0f, perRow = 1f / rows;
        for (int c = 0; c < z.Length; c++)
        {
            float onehot = label >= 0 ? (c == label ? 1f : 0f) : t[c];
            if (onehot != 0f) loss -= onehot * (z[c] - logSumExp);
            grad[c] = (grad[c] / sumExp - onehot) * perRow;
        }
        return loss;
    }

    /// <summary>
    /// Keras categorical_crossentropy on probabilities: q = p/Σp, clipped to [ε, 1−ε], −Σ t·log q
    /// (summed over classes). Gradient through the normalisation: dL/dp_k = (u_k − Σ_j u_j q_j)/Σp with
    /// u_j = −t_j/q_j where the clip is inactive, else 0.
    /// </summary>
    private static float ProbabilityCrossEntropyRow(ReadOnlySpan<float> p, ReadOnlySpan<float> t, Span<float> grad, int rows)
    {
        const float High = 1f - Epsilon;
        float sum = 0f;
        foreach (float v in p) sum += v;
        float loss = 0f, dot = 0f;
        for (int c = 0; c < p.Length; c++)
        {
            float q = p[c] / sum;
            if (t[c] != 0f) loss -= t[c] * MathF.Log(Math.Clamp(q, Epsilon, High));
            float u = q < Epsilon || q > High ? 0f : -t[c] / q;
            grad[c] = u;
            dot += u * q;
        }
        float scale = 1f / (sum * rows);
        for (int c = 0; c < p.Length; c++) grad[c] = (grad[c] - dot) * scale;
        return loss;
    }

    /// <summary>Mean over the row of (p − t)²; gradient 2(p − t)/(cols·rows).</summary>
    private static float MeanSquaredRow(ReadOnlySpan<float> p, ReadOnlySpan<float> t, Span<float> grad, int rows)
    {
        float loss = 0f, scale = 2f / ((float)p.Length * rows);
        for (int c = 0; c < p.Length; c++)
        {
            float d = p[c] - t[c];
            loss += d * d;
            grad[c] = d * scale;
        }
        return loss / p.Length;
    }
}
