namespace ConvEngine.Kernels;

/// <summary>The elementwise functions the kernels apply.</summary>
public enum ActivationKind
{
    /// <summary>The identity.</summary>
    None,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>x &gt; 0 ? x : α·x.</summary>
    LeakyRelu,
    /// <summary>1/(1 + e⁻ˣ).</summary>
    Sigmoid,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>Keras's ReLU layer: x &gt; threshold ? clamp(x, 0, cap) : slope·(x − threshold) (ReLU6 is cap 6).</summary>
    ClippedRelu,
    /// <summary>x &gt; 0 ? x : α·(eˣ − 1).</summary>
    Elu,
    /// <summary>λ·(x &gt; 0 ? x : α·(eˣ − 1)) with Klambauer et al.'s λ ≈ 1.0507, α ≈ 1.6733.</summary>
    Selu,
    /// <summary>x·σ(x) (Keras "swish" and "silu").</summary>
    Swish,
    /// <summary>x·Φ(x) = ½x(1 + erf(x/√2)): Keras 2's gelu (approximate=False), Keras 3's gelu(approximate=False).</summary>
    Gelu,
    /// <summary>½x(1 + tanh(√(2/π)(x + 0.044715x³))): Keras 3's default gelu (approximate=True).</summary>
    GeluTanh,
    /// <summary>Keras 2 (tf.keras, TF.js): clamp(0.2x + 0.5, 0, 1).</summary>
    HardSigmoid,
    /// <summary>Keras 3: relu6(x + 3)/6 = clamp(x/6 + 0.5, 0, 1).</summary>
    HardSigmoidKeras3,
    /// <summary>Keras 3's hard_silu / hard_swish: x·relu6(x + 3)/6.</summary>
    HardSwish,
    /// <summary>log(1 + eˣ).</summary>
    Softplus,
    /// <summary>x/(1 + |x|).</summary>
    Softsign,
    /// <summary>eˣ.</summary>
    Exponential,
    /// <summary>x·tanh(softplus(x)) (Misra 2019; Keras and TF.js "mish").</summary>
    Mish,
}

/// <summary>An elementwise activation; the first five kinds fuse into conv and dense kernels.</summary>
/// <param name="Alpha">Negative slope (LeakyRelu, ClippedRelu) or α (Elu).</param>
/// <param name="Threshold">ClippedRelu only: values at or below it take the negative slope.</param>
/// <param name="Cap">ClippedRelu only: the upper clip (+∞ when Keras's max_value is None).</param>
/// <param name="Kind">Which function.</param>
public readonly record struct KernelActivation(ActivationKind Kind, float Alpha = 0f, float Threshold = 0f, float Cap = 0f)
{
    /// <summary>The identity.</summary>
    public static KernelActivation None => new(ActivationKind.None);
    /// <summary>max(x, 0).</summary>
    public static KernelActivation Relu => new(ActivationKind.Relu);
    /// <summary>1/(1 + e⁻ˣ).</summary>
    public static KernelActivation Sigmoid => new(ActivationKind.Sigmoid);
    /// <summary>tanh(x).</summary>
    public static KernelActivation Tanh => new(ActivationKind.Tanh);
    /// <summary>Keras's LeakyReLU default slope is 0.3; ONNX's and PyTorch's is 0.01.</summary>
    public static KernelActivation LeakyRelu(float alpha = 0.3f) => new(ActivationKind.LeakyRelu, alpha);

    /// <summary>Keras's ReLU(max_value, negative_slope, threshold) (keras backend.relu, Keras 2 and 3 alike).</summary>
    public static KernelActivation ClippedRelu(float maxValue = float.PositiveInfinity, float negativeSlope = 0f, float threshold = 0f) =>
        new(ActivationKind.ClippedRelu, negativeSlope, threshold, maxValue);
    /// <summary>min(max(x, 0), 6).</summary>
    public static KernelActivation Relu6 => ClippedRelu(6f);
    /// <summary>x &gt; 0 ? x : α·(eˣ − 1).</summary>
    public static KernelActivation Elu(float alpha = 1f) => new(ActivationKind.Elu, alpha);
    /// <summary>Scaled ELU (Klambauer et al.).</summary>
    public static KernelActivation Selu => new(ActivationKind.Selu);
    /// <summary>x·σ(x) (Keras swish and silu).</summary>
    public static KernelActivation Swish => new(ActivationKind.Swish);
    /// <summary>Exact GELU, x·Φ(x).</summary>
    public static KernelActivation Gelu => new(ActivationKind.Gelu);
    /// <summary>GELU's tanh approximation.</summary>
    public static KernelActivation GeluTanh => new(ActivationKind.GeluTanh);
    /// <summary>Keras 2's clamp(0.2x + 0.5, 0, 1).</summary>
    public static KernelActivation HardSigmoid => new(ActivationKind.HardSigmoid);
    /// <summary>Keras 3's clamp(x/6 + 0.5, 0, 1).</summary>
    public static KernelActivation HardSigmoidKeras3 => new(ActivationKind.HardSigmoidKeras3);
    /// <summary>x·relu6(x + 3)/6.</summary>
    public static KernelActivation HardSwish => new(ActivationKind.HardSwish);
    /// <summary>log(1 + eˣ).</summary>
    public static KernelActivation Softplus => new(ActivationKind.Softplus);
    /// <summary>x/(1 + |x|).</summary>
    public static KernelActivation Softsign => new(ActivationKind.Softsign);
    /// <summary>eˣ.</summary>
    public static KernelActivation Exponential => new(ActivationKind.Exponential);
    /// <summary>x·tanh(softplus(x)).</summary>
    public static KernelActivation Mish => new(ActivationKind.Mish);

    /// <summary>
    /// Whether conv and dense kernels apply it in their epilogue (none, relu, leaky relu, sigmoid, tanh), and
    /// <see cref="IBackend.ActivationBackward"/> can differentiate it from its output. The others run as a
    /// separate pass and are differentiated from their input (<see cref="IBackend.ActivationBackwardFromInput"/>).
    /// </summary>
    public bool Fuses => Kind <= ActivationKind.Tanh;

    /// <summary>Scalar definition of each activation: the reference every kernel is checked against.</summary>
    public float Apply(float x) => Kind <= ActivationKind.Mish ? ActivationMath.Apply(x, this)
        : throw new ArgumentOutOfRangeException(nameof(Kind));

    /// <summary>Keras-style name: "linear", "relu", "leaky_relu", "sigmoid", "tanh", "relu6", "swish", …</summary>
    public override string ToString() => Kind switch
    {
        ActivationKind.None => "linear",
        ActivationKind.Relu => "relu",
        ActivationKind.LeakyRelu => $"leaky_relu({Alpha})",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Tanh => "tanh",
        ActivationKind.ClippedRelu when Cap == 6f && Alpha == 0f && Threshold == 0f => "relu6",
        ActivationKind.ClippedRelu => $"relu(max_value {Cap}, negative_slope {Alpha}, threshold {Threshold})",
        ActivationKind.Elu => Alpha == 1f ? "elu" : $"elu({Alpha})",
        ActivationKind.Selu => "selu",
        ActivationKind.Swish => "swish",
        ActivationKind.Gelu => "gelu",
        ActivationKind.GeluTanh => "gelu(approximate)",
        ActivationKind.HardSigmoid => "hard_sigmoid",
        ActivationKind.HardSigmoidKeras3 => "hard_sigmoid(keras 3)",
        ActivationKind.HardSwish => "hard_silu",
        ActivationKind.Softplus => "softplus",
        ActivationKind.Softsign => "softsign",
        ActivationKind.Exponential => "exponential",
        ActivationKind.Mish => "mish",
        _ => Kind.ToString(),
    };
}

/// <summary>
/// The scalar float definitions of every activation and of its derivative written from the input, shared by
/// <see cref="KernelActivation.Apply"/>, the cpu kernels and the ILGPU kernels (so it may not throw: unknown kinds pass x).
/// </summary>
internal static class ActivationMath
{
    /// <summary>SELU's constants (Klambauer et al. 2017, as Keras and TensorFlow write them).</summary>
    public const float SeluScale = 1.05070098735548049342f, SeluAlpha = 1.67326324235437728481f;
    private const float SqrtHalf = 0.70710678118654752440f, InvSqrt2Pi = 0.39894228040143267794f, SqrtTwoOverPi = 0.79788456080286535588f;
    private const float GeluCubic = 0.044715f;

    public static float Apply(float x, KernelActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: return x > 0f ? x : 0f;
            case ActivationKind.LeakyRelu: return x > 0f ? x : act.Alpha * x;
            case ActivationKind.Sigmoid: return Sigmoid(x);
            case ActivationKind.Tanh: return MathF.Tanh(x);
            case ActivationKind.ClippedRelu: return x > act.Threshold ? MathF.Min(MathF.Max(x, 0f), act.Cap) : act.Alpha * (x - act.Threshold);
            case ActivationKind.Elu: return x > 0f ? x : act.Alpha * (MathF.Exp(x) - 1f);
            case ActivationKind.Selu: return SeluScale * (x > 0f ? x : SeluAlpha * (MathF.Exp(x) - 1f));
            case ActivationKind.Swish: return x * Sigmoid(x);
            case ActivationKind.Gelu: return 0.5f * x * (1f + Erf(x * SqrtHalf));
            case ActivationKind.GeluTanh: return 0.5f * x * (1f + MathF.Tanh(SqrtTwoOverPi * (x + GeluCubic * x * x * x)));
            case ActivationKind.HardSigmoid: return Clamp01(0.2f * x + 0.5f);
            case ActivationKind.HardSigmoidKeras3: return Clamp01(x / 6f + 0.5f);
            case ActivationKind.HardSwish: return x * Clamp01(x / 6f + 0.5f);
            case ActivationKind.Softplus: return Softplus(x);
            case ActivationKind.Softsign: return x / (1f + MathF.Abs(x));
            case ActivationKind.Exponential: return MathF.Exp(x);
            case ActivationKind.Mish: return x * MathF.Tanh(Softplus(x));
            default: return x;
        }
    }

    /// <summary>act'(x). At the kinks it takes TensorFlow's side: relu'(0) = 0, the clip passes its ends, hard sigmoid's ends are flat.</summary>
    public static float DerivativeFromInput(float x, KernelActivation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: return x > 0f ? 1f : 0f;
            case ActivationKind.LeakyRelu: return x > 0f ? 1f : act.Alpha;
            case ActivationKind.Sigmoid: { float s = Sigmoid(x); return s * (1f - s); }
            case ActivationKind.Tanh: { float t = MathF.Tanh(x); return 1f - t * t; }
            case ActivationKind.ClippedRelu: return x > act.Threshold ? (x > 0f && x < act.Cap ? 1f : 0f) : act.Alpha;
            case ActivationKind.Elu: return x > 0f ? 1f : act.Alpha * MathF.Exp(x);
            case ActivationKind.Selu: return SeluScale * (x > 0f ? 1f : SeluAlpha * MathF.Exp(x));
            case ActivationKind.Swish: { float s = Sigmoid(x); return s * (1f + x * (1f - s)); }
            case ActivationKind.Gelu: return 0.5f * (1f + Erf(x * SqrtHalf)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x);
            case ActivationKind.GeluTanh:
            {
                float t = MathF.Tanh(SqrtTwoOverPi * (x + GeluCubic * x * x * x));
                return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * SqrtTwoOverPi * (1f + 3f * GeluCubic * x * x);
            }
            case ActivationKind.HardSigmoid: return x > -2.5f && x < 2.5f ? 0.2f : 0f;
            case ActivationKind.HardSigmoidKeras3: return x > -3f && x < 3f ? 1f / 6f : 0f;
            case ActivationKind.HardSwish: return x <= -3f ? 0f : x >= 3f ? 1f : x / 3f + 0.5f;
            case ActivationKind.Softplus: return Sigmoid(x);
            case ActivationKind.Softsign: { float d = 1f + MathF.Abs(x); return 1f / (d * d); }
            case ActivationKind.Exponential: return MathF.Exp(x);
            case ActivationKind.Mish: { float t = MathF.Tanh(Softplus(x)); return t + x * (1f - t * t) * Sigmoid(x); }
            default: return 1f;
        }
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>log(1 + eˣ) without overflow: max(x, 0) + log(1 + e^−|x|).</summary>
    private static float Softplus(float x) => MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));

    private static float Clamp01(float v) => MathF.Min(MathF.Max(v, 0f), 1f);

    /// <summary>
    /// erf in float from Abramowitz and Stegun 7.1.26 (|error| ≤ 1.5·10⁻⁷, about one float ulp near 1): .NET has
    /// no MathF.Erf and the ILGPU kernels need the same function as the cpu.
    /// </summary>
    public static float Erf(float x)
    {
        float a = MathF.Abs(x);
        float t = 1f / (1f + 0.3275911f * a);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
        float y = 1f - poly * MathF.Exp(-a * a);
        return x < 0f ? -y : y;
    }
}
