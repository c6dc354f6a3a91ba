using System.Text.Json.Nodes;
using ConvEngine.Layers;

namespace ConvEngine.Optimizers;

/// <summary>
/// Keras Adam (lr 0.001, β1 0.9, β2 0.999, ε 1e−7) in Keras's form: the bias correction is folded into the
/// step size lr·√(1−β2^t)/(1−β1^t) and ε is added to √v uncorrected ("epsilon hat"), unlike PyTorch.
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>Adam with Keras's defaults.</summary>
    public Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) : base(learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new ArgumentException($"Adam: beta_1 and beta_2 must be in [0, 1), got {beta1} and {beta2}.");
        if (!(epsilon >= 0)) throw new ArgumentException($"Adam: epsilon must be non-negative, got {epsilon}.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <inheritdoc/>
    public override string ClassName => "Adam";
    /// <summary>Decay of the running mean of the gradients.</summary>
    public double Beta1 { get; }
    /// <summary>Decay of the running mean of the squared gradients.</summary>
    public double Beta2 { get; }
    /// <summary>Added to the denominator's square root, for stability (Keras's 1e-7).</summary>
    public double Epsilon { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<string> SlotNames { get; } = ["m", "v"];

    /// <summary>lr·√(1−β2^t)/(1−β1^t), the step size the kernel receives at step t.</summary>
    public double StepSize(long step) => LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, step)) / (1 - Math.Pow(Beta1, step));

    /// <inheritdoc/>
    protected override void Update(Parameter parameter, IReadOnlyList<Tensor> slots, long step)
    {
        var value = parameter.Value!;
        value.Backend.AdamUpdate(value.Buffer, parameter.Gradient!.Buffer, slots[0].Buffer, slots[1].Buffer, value.Length,
            (float)StepSize(step), (float)Beta1, (float)Beta2, (float)Epsilon);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["beta_1"] = Beta1;
        config["beta_2"] = Beta2;
        config["epsilon"] = Epsilon;
        config["amsgrad"] = false;
        return config;
    }
}
