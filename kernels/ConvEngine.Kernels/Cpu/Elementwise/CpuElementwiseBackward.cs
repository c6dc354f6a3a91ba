using System.Runtime.Intrinsics;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Activation and softmax backward, written from the forward's output y.</summary>
internal static unsafe class CpuElementwiseBackward
{
    public static void ActivationBackward(int threads, SimdLevel simd, float* output, float* gradOutput, float* gradInput, long length, KernelActivation activation)
    {
        switch (activation.Kind)
        {
            case ActivationKind.None:
                CpuVectorLoop.Run(threads, simd, length, new Copy(gradOutput, gradInput));
                break;
            case ActivationKind.Relu:
                CpuVectorLoop.Run(threads, simd, length, new StepBackward(output, gradOutput, gradInput, 0f));
                break;
            case ActivationKind.LeakyRelu:
                CpuVectorLoop.Run(threads, simd, length, new StepBackward(output, gradOutput, gradInput, activation.Alpha));
                break;
            case ActivationKind.Sigmoid:
                CpuVectorLoop.Run(threads, simd, length, new SigmoidBackward(output, gradOutput, gradInput));
                break;
            case ActivationKind.Tanh:
                CpuVectorLoop.Run(threads, simd, length, new TanhBackward(output, gradOutput, gradInput));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), $"ActivationBackward: {activation} is not a function of its output; use ActivationBackwardFromInput.");
        }
    }

    /// <summary>Softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax: dx = g − e^y · Σ g. Rows split over threads.</summary>
    public static void SoftmaxBackward(int threads, float* output, float* gradOutput, float* gradInput, int rows, int cols, bool log)
    {
        nint y0 = (nint)output, g0 = (nint)gradOutput, dx0 = (nint)gradInput;
        CpuParallel.For(threads, rows, Math.Max(1, CpuVectorLoop.MinPerPart / Math.Max(1, cols)), (start, end) =>
        {
            for (long r = start; r < end; r++)
            {
                float* y = (float*)y0 + r * cols, g = (float*)g0 + r * cols, dx = (float*)dx0 + r * cols;
                float sum = 0f;
                if (log) for (int c = 0; c < cols; c++) sum += g[c];
                else for (int c = 0; c < cols; c++) sum += g[c] * y[c];
                if (log) for (int c = 0; c < cols; c++) dx[c] = g[c] - MathF.Exp(y[c]) * sum;
                else for (int c = 0; c < cols; c++) dx[c] = y[c] * (g[c] - sum);
            }
        });
    }

    private readonly struct Copy(float* source, float* destination) : IVectorKernel
    {
        public void Scalar(long i) => destination[i] = source[i];
        public void Vector256At(long i) => Vector256.Load(source + i).Store(destination + i);
        public void Vector512At(long i) => Vector512.Load(source + i).Store(destination + i);
    }

    /// <summary>Relu (slope 0) and leaky relu: dx = g · (y > 0 ? 1 : slope).</summary>
    private readonly struct StepBackward(float* y, float* g, float* dx, float slope) : IVectorKernel
    {
        public void Scalar(long i) => dx[i] = g[i] * (y[i] > 0f ? 1f : slope);
        public void Vector256At(long i) =>
            (Vector256.Load(g + i) * Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(y + i), Vector256<float>.Zero),
                Vector256<float>.One, Vector256.Create(slope))).Store(dx + i);
        public void Vector512At(long i) =>
            (Vector512.Load(g + i) * Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(y + i), Vector512<float>.Zero),
                Vector512<float>.One, Vector512.Create(slope))).Store(dx + i);
    }

    /// <summary>dx = g · (y · (1 − y)).</summary>
    private readonly struct SigmoidBackward(float* y, float* g, float* dx) : IVectorKernel
    {
        public void Scalar(long i) => dx[i] = g[i] * (y[i] * (1f - y[i]));
        public void Vector256At(long i)
        {
            var v = Vector256.Load(y + i);
            (Vector256.Load(g + i) * (v * (Vector256<float>.One - v))).Store(dx + i);
        }
        public void Vector512At(long i)
        {
            var v = Vector512.Load(y + i);
            (Vector512.Load(g + i) * (v * (Vector512<float>.One - v))).Store(dx + i);
        }
    }

    /// <summary>dx = g · (1 − y²).</summary>
    private readonly struct TanhBackward(float* y, float* g, float* dx) : IVectorKernel
    {
        public void Scalar(long i) => dx[i] = g[i] * (1f - y[i] * y[i]);
        public void Vector256At(long i)
        {
            var v = Vector256.Load(y + i);
            (Vector256.Load(g + i) * (Vector256<float>.One - v * v)).Store(dx + i);
        }
        public void Vector512At(long i)
        {
            var v = Vector512.Load(y + i);
            (Vector512.Load(g + i) * (Vector512<float>.One - v * v)).Store(dx + i);
        }
    }
}
