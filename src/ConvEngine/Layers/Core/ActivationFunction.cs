using ConvEngine.Kernels;
using KernelActivation = ConvEngine.Kernels.Activation;

namespace ConvEngine.Layers;

/// <summary>
/// A Keras activation by name: linear, relu, sigmoid, tanh, softmax (over the last axis) or
/// leaky_relu (slope 0.3, Keras 2's LeakyReLU default). All but softmax fuse into conv and dense kernels.
/// </summary>
public readonly record struct ActivationFunction
{
    private ActivationFunction(string name, KernelActivation kernel, bool isSoftmax)
    {
        Name = name;
        Kernel = kernel;
        IsSoftmax = isSoftmax;
    }

    /// <summary>Keras name: "linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu".</summary>
    public string Name { get; }
    /// <summary>The elementwise kernel activation (None for linear and softmax).</summary>
    public KernelActivation Kernel { get; }
    public bool IsSoftmax { get; }
    public bool IsLinear => !IsSoftmax && Kernel.Kind == ActivationKind.None;
    public bool IsSigmoid => Kernel.Kind == ActivationKind.Sigmoid;

    public static ActivationFunction Linear => new("linear", KernelActivation.None, false);
    public static ActivationFunction Relu => new("relu", KernelActivation.Relu, false);
    public static ActivationFunction Sigmoid => new("sigmoid", KernelActivation.Sigmoid, false);
    public static ActivationFunction Tanh => new("tanh", KernelActivation.Tanh, false);
    public static ActivationFunction Softmax => new("softmax", KernelActivation.None, true);
    public static ActivationFunction LeakyRelu => new("leaky_relu", KernelActivation.LeakyRelu(), false);

    public static IReadOnlyList<string> Names { get; } = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu"];

    /// <summary>Parses a Keras activation name; null or "" mean linear.</summary>
    public static ActivationFunction Parse(string? name) => (name ?? "linear").Trim().ToLowerInvariant() switch
    {
        "" or "linear" or "none" => Linear,
        "relu" => Relu,
        "sigmoid" => Sigmoid,
        "tanh" => Tanh,
        "softmax" => Softmax,
        "leaky_relu" => LeakyRelu,
        _ => throw new ArgumentException($"Unknown activation '{name}'; known: {string.Join(", ", Names)}."),
    };

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

    /// <summary>gradInput = d(loss)/d(pre-activation), from the activation's output and d(loss)/d(output).</summary>
    internal void Backward(IBackend backend, Tensor output, Tensor gradOutput, Tensor gradInput)
    {
        if (IsSoftmax)
        {
            int cols = output.Shape[-1];
            backend.SoftmaxBackward(output.Buffer, gradOutput.Buffer, gradInput.Buffer, (int)(output.Length / cols), cols, log: false);
        }
        else backend.ActivationBackward(output.Buffer, gradOutput.Buffer, gradInput.Buffer, output.Length, Kernel);
    }

    public override string ToString() => Name;
}
