namespace ConvEngine.Kernels;

public enum ActivationKind { None, Relu, LeakyRelu, Sigmoid, Tanh }

/// <summary>An elementwise activation, fusable into conv and dense kernels.</summary>
/// <param name="Alpha">Negative slope, for <see cref="ActivationKind.LeakyRelu"/> only.</param>
public readonly record struct Activation(ActivationKind Kind, float Alpha = 0f)
{
    public static Activation None => new(ActivationKind.None);
    public static Activation Relu => new(ActivationKind.Relu);
    public static Activation Sigmoid => new(ActivationKind.Sigmoid);
    public static Activation Tanh => new(ActivationKind.Tanh);
    /// <summary>Keras's LeakyReLU default slope is 0.3; ONNX's and PyTorch's is 0.01.</summary>
    public static Activation LeakyRelu(float alpha = 0.3f) => new(ActivationKind.LeakyRelu, alpha);

    /// <summary>Scalar definition of each activation: the reference every kernel is checked against.</summary>
    public float Apply(float x) => Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => x > 0f ? x : 0f,
        ActivationKind.LeakyRelu => x > 0f ? x : Alpha * x,
        ActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        ActivationKind.Tanh => MathF.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind)),
    };

    /// <summary>Keras-style name: "linear", "relu", "leaky_relu", "sigmoid", "tanh".</summary>
    public override string ToString() => Kind switch
    {
        ActivationKind.None => "linear",
        ActivationKind.Relu => "relu",
        ActivationKind.LeakyRelu => $"leaky_relu({Alpha})",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Tanh => "tanh",
        _ => Kind.ToString(),
    };
}
