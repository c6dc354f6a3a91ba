using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>Keras GlobalAveragePooling2D: (N, H, W, C) → (N, C), the mean over all positions.</summary>
public sealed class GlobalAveragePooling2D : Layer
{
    public GlobalAveragePooling2D(string? name = null) : base(name) { }

    public override string ClassName => "GlobalAveragePooling2D";

    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3)
            throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        return [input.Shape[2]];
    }

    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        int n = x.Shape[0], channels = x.Shape[-1];
        var output = Workspace("output", x.Backend, new(n, channels));
        x.Backend.GlobalPool(x.Buffer, output.Buffer, n, (int)(x.Length / n / channels), channels, PoolKind.Average);
        return output;
    }

    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        int n = x.Shape[0], channels = x.Shape[-1];
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.GlobalPoolBackward(x.Buffer, gradOutput.Buffer, gradInput.Buffer, n, (int)(x.Length / n / channels), channels, PoolKind.Average);
        return [gradInput];
    }

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        config["keepdims"] = false;
        return config;
    }

    internal static GlobalAveragePooling2D FromConfig(JsonObject c)
    {
        const string owner = "GlobalAveragePooling2D";
        JsonConfig.RequireChannelsLast(c, owner);
        if (JsonConfig.Bool(c, owner, "keepdims", false))
            throw new FormatException("GlobalAveragePooling2D config: keepdims true is not supported.");
        return new GlobalAveragePooling2D(JsonConfig.String(c, owner, "name")) { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
