using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Conv1D on (N, L, C) with a (k, in, filters) kernel. Padding "valid", "same" or "causal"
/// (dilation·(k−1) zeros on the left only, so output t sees inputs up to t).
/// </summary>
public sealed class Conv1D : ConvolutionLayer
{
    /// <summary>A 1-D convolution over (steps, channels) with Keras's arguments and defaults; padding "valid", "same" or "causal".</summary>
    public Conv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", int dilationRate = 1,
        string? activation = null, bool useBias = true, int groups = 1, string? name = null)
        : base(filters, new Size2D(1, kernelSize), new Size2D(1, strides), padding, new Size2D(1, dilationRate), groups, activation, useBias, name)
    {
    }

    /// <inheritdoc/>
    public override string ClassName => "Conv1D";
    private protected override int SpatialRank => 1;
    private protected override string InputLayoutText => "(None, L, C)";

    internal static Conv1D FromConfig(JsonObject c)
    {
        const string owner = "Conv1D";
        JsonConfig.RequireChannelsLast(c, owner);
        return new Conv1D(JsonConfig.Int(c, owner, "filters"), JsonConfig.Single(c, owner, "kernel_size"),
            JsonConfig.Single(c, owner, "strides", 1), JsonConfig.String(c, owner, "padding", "valid"),
            JsonConfig.Single(c, owner, "dilation_rate", 1), JsonConfig.OptionalString(c, owner, "activation"),
            JsonConfig.Bool(c, owner, "use_bias", true), JsonConfig.Int(c, owner, "groups", 1), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
