namespace ConvEngine.Kernels.Ilgpu;

/// <summary>
/// Scalar device functions shared by the ILGPU kernels. They restate <see cref="KernelActivation.Apply"/>
/// without its throw, because a kernel may not raise exceptions; tests check both agree.
/// </summary>
internal static class IlgpuKernelMath
{
    public static float Activate(float x, KernelActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: return x > 0f ? x : 0f;
            case ActivationKind.LeakyRelu: return x > 0f ? x : act.Alpha * x;
            case ActivationKind.Sigmoid: return Sigmoid(x);
            case ActivationKind.Tanh: return MathF.Tanh(x);
            case ActivationKind.None: return x;
            // The kinds that do not fuse in layers still mean the same here when a caller fuses them into a conv.
            default: return ActivationMath.Apply(x, act);
        }
    }

    /// <summary>act'(x) written from y = act(x): relu y>0, leaky y>0 ? 1 : α, sigmoid y(1−y), tanh 1−y².</summary>
    public static float DerivativeFromOutput(float y, KernelActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: return y > 0f ? 1f : 0f;
            case ActivationKind.LeakyRelu: return y > 0f ? 1f : act.Alpha;
            case ActivationKind.Sigmoid: return y * (1f - y);
            case ActivationKind.Tanh: return 1f - y * y;
            default: return 1f;
        }
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
