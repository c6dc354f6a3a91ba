using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Dropout: in training, zeroes each value with probability <see cref="Rate"/> and scales the kept
/// ones by 1/(1−rate) (inverted dropout); at inference it passes the input through. The mask comes from
/// the backend's counter-based kernel, seeded per step and per layer by the model.
/// </summary>
public sealed class Dropout : Layer
{
    private bool _maskedLastStep;

    /// <param name="seed">Mixed into the model's per-step seed; two dropouts with different seeds draw different masks.</param>
    public Dropout(double rate, ulong? seed = null, string? name = null) : base(name)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentException($"Dropout '{Name}': rate must be in [0, 1), got {rate}.");
        Rate = rate;
        Seed = seed;
    }

    public override string ClassName => "Dropout";
    public double Rate { get; }
    public ulong? Seed { get; }

    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) => SingleInput(inputs).Shape;

    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        _maskedLastStep = context.Training && Rate > 0;
        if (!_maskedLastStep) return x;
        var mask = Workspace("mask", x.Backend, x.Shape);
        var output = Workspace("output", x.Backend, x.Shape);
        ulong seed = Seed is { } own ? CounterRng.Hash(context.Seed, own) : context.Seed;
        x.Backend.Dropout(x.Buffer, mask.Buffer, output.Buffer, x.Length, (float)Rate, seed);
        return output;
    }

    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        if (!_maskedLastStep) return [gradOutput];
        var mask = Workspace("mask", gradOutput.Backend, gradOutput.Shape);
        var gradInput = Workspace("grad_input", gradOutput.Backend, gradOutput.Shape);
        gradOutput.Backend.Multiply(gradOutput.Buffer, mask.Buffer, gradInput.Buffer, gradOutput.Length);
        return [gradInput];
    }

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["rate"] = Rate;
        config["noise_shape"] = null;
        config["seed"] = Seed is { } s ? JsonValue.Create(s) : null;
        return config;
    }

    internal static Dropout FromConfig(JsonObject c)
    {
        const string owner = "Dropout";
        if (c["noise_shape"] is not null) throw new FormatException("Dropout config: noise_shape is not supported.");
        return new Dropout(JsonConfig.Double(c, owner, "rate"), JsonConfig.OptionalULong(c, owner, "seed"), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
