using System.Runtime.Intrinsics;

namespace ConvEngine.Kernels.Cpu;

/// <summary>Keras Adam and SGD steps, in place, one pass over the parameters.</summary>
internal static unsafe class CpuOptimizers
{
    /// <summary>m += (g−m)(1−β1); v += (g²−v)(1−β2); θ −= (m·stepSize)/(√v + ε): tf_keras Adam.update_step's order.</summary>
    public static void Adam(int threads, SimdLevel simd, float* parameters, float* gradient, float* m, float* v, long length,
        float stepSize, float beta1, float beta2, float epsilon) =>
        CpuVectorLoop.Run(threads, simd, length, new AdamStep(parameters, gradient, m, v, stepSize, 1f - beta1, 1f - beta2, epsilon));

    /// <summary>velocity = −g·lr + velocity·momentum; θ += velocity, or with Nesterov θ += −g·lr + velocity·momentum (tf_keras SGD).</summary>
    public static void Sgd(int threads, SimdLevel simd, float* parameters, float* gradient, float* velocity, long length,
        float learningRate, float momentum, bool nesterov) =>
        CpuVectorLoop.Run(threads, simd, length, new SgdStep(parameters, gradient, velocity, learningRate, momentum, nesterov));

    private readonly struct AdamStep(float* theta, float* g, float* m, float* v, float stepSize, float oneMinusBeta1, float oneMinusBeta2, float epsilon) : IVectorKernel
    {
        public void Scalar(long i)
        {
            float gi = g[i];
            float mi = m[i] + (gi - m[i]) * oneMinusBeta1;
            float vi = v[i] + (gi * gi - v[i]) * oneMinusBeta2;
            m[i] = mi;
            v[i] = vi;
            theta[i] -= mi * stepSize / (MathF.Sqrt(vi) + epsilon);
        }

        public void Vector256At(long i)
        {
            var gi = Vector256.Load(g + i);
            var mi = Vector256.Load(m + i);
            var vi = Vector256.Load(v + i);
            mi += (gi - mi) * oneMinusBeta1;
            vi += (gi * gi - vi) * oneMinusBeta2;
            mi.Store(m + i);
            vi.Store(v + i);
            (Vector256.Load(theta + i) - mi * stepSize / (Vector256.Sqrt(vi) + Vector256.Create(epsilon))).Store(theta + i);
        }

        public void Vector512At(long i)
        {
            var gi = Vector512.Load(g + i);
            var mi = Vector512.Load(m + i);
            var vi = Vector512.Load(v + i);
            mi += (gi - mi) * oneMinusBeta1;
            vi += (gi * gi - vi) * oneMinusBeta2;
            mi.Store(m + i);
            vi.Store(v + i);
            (Vector512.Load(theta + i) - mi * stepSize / (Vector512.Sqrt(vi) + Vector512.Create(epsilon))).Store(theta + i);
        }
    }

    private readonly struct SgdStep(float* theta, float* g, float* velocity, float learningRate, float momentum, bool nesterov) : IVectorKernel
    {
        public void Scalar(long i)
        {
            float step = -g[i] * learningRate;
            float vi = step + velocity[i] * momentum;
            velocity[i] = vi;
            theta[i] += nesterov ? step + vi * momentum : vi;
        }

        public void Vector256At(long i)
        {
            var step = -Vector256.Load(g + i) * learningRate;
            var vi = step + Vector256.Load(velocity + i) * momentum;
            vi.Store(velocity + i);
            (Vector256.Load(theta + i) + (nesterov ? step + vi * momentum : vi)).Store(theta + i);
        }

        public void Vector512At(long i)
        {
            var step = -Vector512.Load(g + i) * learningRate;
            var vi = step + Vector512.Load(velocity + i) * momentum;
            vi.Store(velocity + i);
            (Vector512.Load(theta + i) + (nesterov ? step + vi * momentum : vi)).Store(theta + i);
        }
    }
}
