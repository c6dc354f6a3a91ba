using System.Text.Json.Nodes;
using ConvEngine.Layers;

namespace ConvEngine.Optimizers;

/// <summary>
/// Keras SGD (lr 0.01, momentum 0): velocity = momentum·velocity − lr·g; θ += velocity,
/// or with Nesterov θ += momentum·velocity − lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>Stochastic gradient descent with Keras's defaults.</summary>
    public Sgd(double learningRate = 0.01, double momentum = 0, bool nesterov = false) : base(learningRate)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentException($"SGD: momentum must be in [0, 1], got {momentum}.");
        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <inheritdoc/>
    public override string ClassName => "SGD";
    /// <summary>Fraction of the previous step kept in each step (0: plain SGD).</summary>
    public double Momentum { get; }
    /// <summary>Whether the momentum is Nesterov's (the gradient taken after the momentum step).</summary>
    public bool Nesterov { get; }
    /// <inheritdoc/>
    public override IReadOnlyList<string> SlotNames { get; } = ["momentum"];

    /// <inheritdoc/>
    protected override void Update(Parameter parameter, IReadOnlyList<Tensor> slots, long step)
    {
        var value = parameter.Value!;
        value.Backend.SgdUpdate(value.Buffer, parameter.Gradient!.Buffer, slots[0].Buffer, value.Length,
            (float)LearningRate, (float)Momentum, Nesterov);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["momentum"] = Momentum;
        config["nesterov"] = Nesterov;
        return config;
    }
}
