using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

internal static partial class CpuReferenceBackward
{
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
