using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// A Keras activation by name. linear, relu, sigmoid, tanh and leaky_relu (slope 0.2, as the name means in Keras 2
/// and 3; the LeakyReLU layer's default is 0.3) fuse into conv and dense kernels; softmax runs over the last axis; the others run as a pass of their own:
/// relu6, elu, selu, swish/silu, gelu (exact, erf: Keras 2's and Keras 3's default), gelu_approximate (tanh form),
/// hard_sigmoid (Keras 2 and TF.js: clamp(0.2x + 0.5, 0, 1)), hard_sigmoid_keras3 (Keras 3: clamp(x/6 + 0.5, 0, 1);
/// Keras 3 configs call it hard_sigmoid and are renamed on import), hard_silu/hard_swish (Keras 3), softplus,
/// softsign, exponential, mish.
/// </summary>
public readonly record struct ActivationFunction
{
    private ActivationFunction(string name, KernelActivation kernel, bool isSoftmax)
    {
        Name = name;
        Kernel = kernel;
        IsSoftmax = isSoftmax;
    }

    /// <summary>Keras name, as the config spells it: "linear", "relu", "swish", "silu", …</summary>
    public string Name { get; }
    /// <summary>The elementwise kernel activation (None for linear and softmax).</summary>
    public KernelActivation Kernel { get; }
    /// <summary>Whether it is softmax (over the last axis, not elementwise).</summary>
    public bool IsSoftmax { get; }
    /// <summary>Whether it is the identity.</summary>
    public bool IsLinear => !IsSoftmax && Kernel.Kind == ActivationKind.None;
    /// <summary>Whether it is the logistic sigmoid.</summary>
    public bool IsSigmoid => Kernel.Kind == ActivationKind.Sigmoid;
    /// <summary>Applied inside the conv or dense kernel (and differentiated from the output).</summary>
    public bool Fuses => !IsSoftmax && Kernel.Fuses;

    /// <summary>The identity.</summary>
    public static ActivationFunction Linear => new("linear", KernelActivation.None, false);
    /// <summary>max(x, 0).</summary>
    public static ActivationFunction Relu => new("relu", KernelActivation.Relu, false);
    /// <summary>1/(1 + e⁻ˣ).</summary>
    public static ActivationFunction Sigmoid => new("sigmoid", KernelActivation.Sigmoid, false);
    /// <summary>tanh(x).</summary>
    public static ActivationFunction Tanh => new("tanh", KernelActivation.Tanh, false);
    /// <summary>Softmax over the last axis.</summary>
    public static ActivationFunction Softmax => new("softmax", KernelActivation.None, true);
    /// <summary>
    /// The slope of the activation named "leaky_relu": 0.2 in Keras 2 (keras/activations.py, <c>leaky_relu = tf.nn.leaky_relu</c>,
    /// whose alpha defaults to 0.2) and in Keras 3 (keras/src/activations/activations.py, <c>leaky_relu(x, negative_slope=0.2)</c>).
    /// </summary>
    public const float LeakyReluSlope = 0.2f;

    /// <summary>The "leaky_relu" activation, slope <see cref="LeakyReluSlope"/>.</summary>
    public static ActivationFunction LeakyRelu => new("leaky_relu", KernelActivation.LeakyRelu(LeakyReluSlope), false);

    /// <summary>An activation the kernels define, under a name a config will carry (Keras's ReLU layer names its own).</summary>
    internal static ActivationFunction Of(string name, KernelActivation kernel) => new(name, kernel, false);

    /// <summary>The Keras names <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "relu6", "elu", "selu", "swish", "silu", "gelu",
        "gelu_approximate", "hard_sigmoid", "hard_sigmoid_keras3", "hard_silu", "hard_swish", "softplus", "softsign", "exponential", "mish",
    ];

    /// <summary>Parses a Keras activation name; null or "" mean linear.</summary>
    public static ActivationFunction Parse(string? name)
    {
        string key = (name ?? "linear").Trim().ToLowerInvariant();
        return key switch
        {
            "" or "linear" or "none" => Linear,
            "relu" => Relu,
            "sigmoid" => Sigmoid,
            "tanh" => Tanh,
            "softmax" => Softmax,
            "leaky_relu" => LeakyRelu,
            "relu6" => Of(key, KernelActivation.Relu6),
            "elu" => Of(key, KernelActivation.Elu()),
            "selu" => Of(key, KernelActivation.Selu),
            "swish" or "silu" => Of(key, KernelActivation.Swish),
            "gelu" => Of(key, KernelActivation.Gelu),
            "gelu_approximate" => Of(key, KernelActivation.GeluTanh),
            "hard_sigmoid" => Of(key, KernelActivation.HardSigmoid),
            "hard_sigmoid_keras3" => Of(key, KernelActivation.HardSigmoidKeras3),
            "hard_silu" or "hard_swish" => Of(key, KernelActivation.HardSwish),
            "softplus" => Of(key, KernelActivation.Softplus),
            "softsign" => Of(key, KernelActivation.Softsign),
            "exponential" => Of(key, KernelActivation.Exponential),
            "mish" => Of(key, KernelActivation.Mish),
            _ => throw new ArgumentException($"Unknown activation '{name}'; known: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>output = act(input); softmax runs over the last axis of (rows, cols).</summary>
    internal void Forward(IBackend backend, Tensor input, Tensor output)
    {
        if (IsSoftmax)
        {
            int cols = input.Shape[-1];
            backend.Softmax(input.Buffer, output.Buffer, (int)(input.Length / cols), cols, log: false);
        }
        else backend.Activate(input.Buffer, output.Buffer, input.Length, Kernel);
    }

    /// <summary>
    /// gradInput = d(loss)/d(pre-activation), from d(loss)/d(output) and the activation's output, or its input
    /// (<paramref name="preActivation"/>) for the activations that do not fuse, whose derivative needs it.
    /// </summary>
    internal void Backward(IBackend backend, Tensor? preActivation, Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        if (IsSoftmax)
        {
            int cols = output.Shape[-1];
            backend.SoftmaxBackward(output.Buffer, gradOutput.Buffer, gradInput.Buffer, (int)(output.Length / cols), cols, log: false);
        }
        else if (Fuses) backend.ActivationBackward(output.Buffer, gradOutput.Buffer, gradInput.Buffer, output.Length, Kernel);
        else
        {
            var x = preActivation ?? throw new InvalidOperationException($"Activation {Name}: its backward pass needs the pre-activation values.");
            backend.ActivationBackwardFromInput(x.Buffer, gradOutput.Buffer, gradInput.Buffer, output.Length, Kernel);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
