using System.Text.Json.Nodes;
using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// A layer that computes a linear part then an activation (Conv2D, Conv1D, Dense, Activation).
/// The fusable activations (relu, sigmoid, tanh, leaky relu) run in the layer's kernel; the others run after it
/// on the kept pre-activation values, which their backward pass reads. When a loss is computed from the logits
/// (sigmoid + binary cross-entropy, softmax + categorical cross-entropy, as Keras 2 does), the pass's
/// <see cref="ForwardContext"/> names the output layer, which then keeps its pre-activation values, and its
/// backward pass receives d(loss)/d(logits). The choice is per pass, so no flag outlives a compile.
/// </summary>
public abstract class ActivatedLayer : Layer
{
    /// <summary>A layer named <paramref name="name"/> whose output goes through the Keras activation <paramref name="activation"/> (null: linear).</summary>
    protected ActivatedLayer(string? name, string? activation) : this(name, ActivationFunction.Parse(activation)) { }

    /// <summary>A layer named <paramref name="name"/> whose output goes through <paramref name="activation"/>.</summary>
    protected ActivatedLayer(string? name, ActivationFunction activation) : base(name) => Activation = activation;

    /// <summary>The activation applied to the layer's output.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>Whether the last forward pass kept its logits for the loss; its backward then receives d(loss)/d(logits).</summary>
    private bool _keptLogits;
    /// <summary>The pre-activation output of the last forward pass, when the loss reads it.</summary>
    internal Tensor? Logits { get; private set; }

    /// <summary>Whether the pass <see cref="ForwardLinear"/> runs in is inference (no weight changes until the next training pass).</summary>
    private protected bool Inferring { get; private set; }

    /// <summary>Writes the linear part into <paramref name="output"/>, applying <paramref name="fused"/> in the same kernel.</summary>
    protected abstract void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused);

    /// <summary>Backward of the linear part, from d(loss)/d(pre-activation).</summary>
    protected abstract Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient);

    /// <summary>The output's shape for a batch of these inputs.</summary>
    protected abstract TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs);

    /// <inheritdoc/>
    protected sealed override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var backend = inputs[0].Backend;
        var shape = OutputShapeFor(inputs);
        var output = Workspace("output", backend, shape);
        _keptLogits = ReferenceEquals(context.LogitsOf, this);
        Inferring = !context.Training;
        if (!_keptLogits && Activation.Fuses)
        {
            Logits = null;
            ForwardLinear(inputs, output, Activation.Kernel);
            return output;
        }
        var logits = Workspace("logits", backend, shape);
        ForwardLinear(inputs, logits, KernelActivation.None);
        Activation.Forward(backend, logits, output);
        Logits = _keptLogits ? logits : null;
        return output;
    }

    /// <inheritdoc/>
    protected sealed override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        var gradPre = gradOutput;
        if (!_keptLogits && !Activation.IsLinear)
        {
            var backend = gradOutput.Backend;
            gradPre = PreActivationGradient(backend, gradOutput.Shape);
            if (Activation.Fuses && BiasGradient is { } gradBias)
            {
                // One pass for the activation's backward and the bias gradient, which reads the same values.
                int channels = gradOutput.Shape[-1];
                backend.ActivationBiasBackward(LastOutput.Buffer, gradOutput.Buffer, gradPre.Buffer, gradBias.Buffer,
                    gradOutput.Length / channels, channels, Activation.Kernel);
                return BackwardFromPreActivation(gradPre, needInputGradient, biasGradientWritten: true);
            }
            // Activations that do not fuse are differentiated from their input, the logits the forward pass kept.
            var preActivation = Activation.Fuses ? null : Workspace("logits", backend, gradOutput.Shape);
            Activation.Backward(backend, preActivation, LastOutput, gradOutput, gradPre);
        }
        return BackwardLinear(gradPre, needInputGradient);
    }

    private bool _biasGradientWritten;

    /// <summary>Set while <see cref="BackwardLinear"/> runs after a fused kernel has already written the bias gradient.</summary>
    private protected bool BiasGradientWritten => _biasGradientWritten;

    /// <summary>The bias's gradient buffer when the layer has a trainable bias (the fused backward kernels write it), else null.</summary>
    internal virtual Tensor? BiasGradient => null;

    /// <summary>
    /// Whether the last forward pass lets the layer this one feeds compute d(loss)/d(pre-activation) for it (the fused
    /// pool backward): an activation that fuses (its derivative written from its output), and no logits kept for the loss.
    /// </summary>
    internal bool TakesPreActivationGradient => !_keptLogits && Activation.Fuses;

    /// <summary>The buffer d(loss)/d(pre-activation) is written into, by this layer or by a fused kernel of its consumer.</summary>
    internal Tensor PreActivationGradient(IBackend backend, TensorShape shape) => Workspace("grad_pre_activation", backend, shape);

    /// <summary>The rest of the backward pass once d(loss)/d(pre-activation) is known (and the bias gradient, if written).</summary>
    internal Tensor?[] BackwardFromPreActivation(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient, bool biasGradientWritten)
    {
        _ = LastOutput;   // fails clearly without a forward pass
        _biasGradientWritten = biasGradientWritten;
        try
        {
            return BackwardLinear(gradPreActivation, needInputGradient);
        }
        finally
        {
            _biasGradientWritten = false;
        }
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["activation"] = Activation.Name;
        return config;
    }
}
