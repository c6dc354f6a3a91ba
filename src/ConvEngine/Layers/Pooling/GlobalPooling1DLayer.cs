using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>What GlobalAveragePooling1D and GlobalMaxPooling1D share: (N, L, C) → (N, C) over every step, on the global pool kernels.</summary>
public abstract class GlobalPooling1DLayer : Layer
{
    private protected GlobalPooling1DLayer(string? name) : base(name) { }

    private protected abstract PoolKind Kind { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != 2)
            throw ShapeError(input, "expects a 3-D input (None, L, C)");
        return [input.Shape[1]];
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        int n = x.Shape[0], steps = x.Shape[1], channels = x.Shape[2];
        var output = Workspace("output", x.Backend, new(n, channels));
        x.Backend.GlobalPool(x.Buffer, output.Buffer, n, steps, channels, Kind);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        int n = x.Shape[0], steps = x.Shape[1], channels = x.Shape[2];
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.GlobalPoolBackward(x.Buffer, gradOutput.Buffer, gradInput.Buffer, n, steps, channels, Kind);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        config["keepdims"] = false;
        return config;
    }

    /// <summary>Name and trainable from a Keras config, after refusing what the engine does not do (channels_first, keepdims).</summary>
    private protected static (string Name, bool Trainable) ReadConfig(JsonObject c, string owner)
    {
        JsonConfig.RequireChannelsLast(c, owner);
        if (JsonConfig.Bool(c, owner, "keepdims", false))
            throw new FormatException($"{owner} config: keepdims true is not supported.");
        return (JsonConfig.String(c, owner, "name"), JsonConfig.Bool(c, owner, "trainable", true));
    }
}

/// <summary>Keras GlobalAveragePooling1D (alias GlobalAvgPool1D): (N, L, C) → (N, C), the mean over the steps.</summary>
public sealed class GlobalAveragePooling1D : GlobalPooling1DLayer
{
    /// <summary>The mean of each channel over the steps: (steps, C) → (C).</summary>
    public GlobalAveragePooling1D(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string ClassName => "GlobalAveragePooling1D";
    private protected override PoolKind Kind => PoolKind.Average;

    internal static GlobalAveragePooling1D FromConfig(JsonObject c)
    {
        var (name, trainable) = ReadConfig(c, "GlobalAveragePooling1D");
        return new GlobalAveragePooling1D(name) { Trainable = trainable };
    }
}

/// <summary>Keras GlobalMaxPooling1D (alias GlobalMaxPool1D): (N, L, C) → (N, C), the max over the steps; the gradient goes to the first max.</summary>
public sealed class GlobalMaxPooling1D : GlobalPooling1DLayer
{
    /// <summary>The maximum of each channel over the steps: (steps, C) → (C).</summary>
    public GlobalMaxPooling1D(string? name = null) : base(name) { }

    /// <inheritdoc/>
    public override string ClassName => "GlobalMaxPooling1D";
    private protected override PoolKind Kind => PoolKind.Max;

    internal static GlobalMaxPooling1D FromConfig(JsonObject c)
    {
        var (name, trainable) = ReadConfig(c, "GlobalMaxPooling1D");
        return new GlobalMaxPooling1D(name) { Trainable = trainable };
    }
}
