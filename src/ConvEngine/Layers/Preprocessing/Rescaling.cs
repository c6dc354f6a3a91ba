using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras Rescaling: y = x·scale + offset, e.g. scale 1/255 to bring pixels into [0, 1].</summary>
public sealed class Rescaling : Layer
{
    public Rescaling(double scale, double offset = 0, string? name = null) : base(name)
    {
        Scale = scale;
        Offset = offset;
    }

    public override string ClassName => "Rescaling";
    public double Scale { get; }
    public double Offset { get; }

    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) => SingleInput(inputs).Shape;

    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var output = Workspace("output", x.Backend, x.Shape);
        x.Backend.Fill(output.Buffer, (float)Offset, x.Length);
        x.Backend.Axpy((float)Scale, x.Buffer, output.Buffer, x.Length);
        return output;
    }

    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var gradInput = Workspace("grad_input", gradOutput.Backend, gradOutput.Shape);
        gradOutput.Backend.Fill(gradInput.Buffer, 0f, gradOutput.Length);
        gradOutput.Backend.Axpy((float)Scale, gradOutput.Buffer, gradInput.Buffer, gradOutput.Length);
        return [gradInput];
    }

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["scale"] = Scale;
        config["offset"] = Offset;
        return config;
    }

    internal static Rescaling FromConfig(JsonObject c) =>
        new(JsonConfig.Double(c, "Rescaling", "scale"), JsonConfig.Double(c, "Rescaling", "offset", 0), JsonConfig.String(c, "Rescaling", "name"))
        { Trainable = JsonConfig.Bool(c, "Rescaling", "trainable", true) };
}
