using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceBackward
{
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
}
