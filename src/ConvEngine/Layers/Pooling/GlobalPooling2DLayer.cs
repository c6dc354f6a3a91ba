using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// What GlobalAveragePooling2D and GlobalMaxPooling2D share: (N, H, W, C) → (N, C), or (N, 1, 1, C) with keepdims
/// (Keras's keepdims, default false; the same values either way). Max pooling sends each gradient to the first
/// maximum in scan order.
/// </summary>
public abstract class GlobalPooling2DLayer : Layer
{
    private protected GlobalPooling2DLayer(string? name, bool keepDims) : base(name) => KeepDims = keepDims;

    /// <summary>Keep the pooled axes as size 1: (None, 1, 1, C) instead of (None, C).</summary>
    public bool KeepDims { get; }
    private protected abstract PoolKind Kind { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 3)
            throw ShapeError(input, "expects a 4-D input (None, H, W, C)");
        return KeepDims ? [1, 1, input.Shape[2]] : [input.Shape[2]];
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        int n = x.Shape[0], channels = x.Shape[-1];
        var output = Workspace("output", x.Backend, BatchShape(n, OutputShape));
        x.Backend.GlobalPool(x.Buffer, output.Buffer, n, (int)(x.Length / n / channels), channels, Kind);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        int n = x.Shape[0], channels = x.Shape[-1];
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.GlobalPoolBackward(x.Buffer, gradOutput.Buffer, gradInput.Buffer, n, (int)(x.Length / n / channels), channels, Kind);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        config["keepdims"] = KeepDims;
        return config;
    }

    /// <summary>The config's name and keepdims, after checking its data_format.</summary>
    private protected static (string Name, bool KeepDims, bool Trainable) ReadConfig(JsonObject c, string owner)
    {
        JsonConfig.RequireChannelsLast(c, owner);
        return (JsonConfig.String(c, owner, "name"), JsonConfig.Bool(c, owner, "keepdims", false), JsonConfig.Bool(c, owner, "trainable", true));
    }
}
