using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras Flatten: (N, ...) → (N, product), channels-last order (h·W + w)·C + c; a view, no copy.</summary>
public sealed class Flatten : Layer
{
    /// <summary>Flattens each sample to one dimension.</summary>
    public Flatten(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string ClassName => "Flatten";

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        long features = input.Shape.Aggregate(1L, (a, d) => a * d);
        if (features > int.MaxValue) throw ShapeError(input, $"can flatten at most {int.MaxValue} features per sample");
        return [(int)features];
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context) =>
        inputs[0].Reshape(inputs[0].Shape[0], (int)inputs[0].Shape.SampleLength);

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) =>
        [needInputGradient[0] ? gradOutput.Reshape(LastInput.Shape.ToArray()) : null];

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        return config;
    }

    internal static Flatten FromConfig(JsonObject c)
    {
        JsonConfig.RequireChannelsLast(c, "Flatten");
        return new Flatten(JsonConfig.String(c, "Flatten", "name")) { Trainable = JsonConfig.Bool(c, "Flatten", "trainable", true) };
    }
}
