using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Conv2D on (N, H, W, C): cross-correlation with a (kh, kw, in, filters) kernel, then bias and
/// activation. Defaults as Keras: strides 1, padding "valid", dilation 1, use_bias, glorot_uniform kernel, zero bias.
/// </summary>
public sealed class Conv2D : ConvolutionLayer
{
    /// <param name="padding">"valid" or "same" (TensorFlow's split: the odd pixel goes bottom/right).</param>
    /// <param name="dilationRate">The spacing of the kernel's taps; null for 1.</param>
    /// <param name="filters">The number of output channels.</param>
    /// <param name="kernelSize">The kernel's (height, width); one number for both.</param>
    /// <param name="strides">The step between windows along (height, width); null for 1.</param>
    /// <param name="activation">A Keras activation name ("relu", "sigmoid", …) applied to the output; null for linear.</param>
    /// <param name="useBias">Whether a bias is added per output channel.</param>
    /// <param name="groups">Channel groups convolved on their own (Keras groups).</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Conv2D(int filters, Size2D kernelSize, Size2D? strides = null, string padding = "valid", Size2D? dilationRate = null,
        string? activation = null, bool useBias = true, int groups = 1, string? name = null)
        : base(filters, kernelSize, strides ?? 1, padding, dilationRate ?? 1, groups, activation, useBias, name)
    {
        if (Padding.Mode is not (Kernels.Geometry.PaddingMode.Valid or Kernels.Geometry.PaddingMode.Same))
            throw new ArgumentException($"Conv2D '{Name}': padding must be 'valid' or 'same', got '{padding}'.");
    }

    /// <inheritdoc/>
    public override string ClassName => "Conv2D";
    private protected override int SpatialRank => 2;
    private protected override string InputLayoutText => "(None, H, W, C)";

    internal static Conv2D FromConfig(JsonObject c)
    {
        const string owner = "Conv2D";
        JsonConfig.RequireChannelsLast(c, owner);
        return new Conv2D(JsonConfig.Int(c, owner, "filters"), JsonConfig.Pair(c, owner, "kernel_size"),
            JsonConfig.Pair(c, owner, "strides", 1), JsonConfig.String(c, owner, "padding", "valid"),
            JsonConfig.Pair(c, owner, "dilation_rate", 1), JsonConfig.OptionalString(c, owner, "activation"),
            JsonConfig.Bool(c, owner, "use_bias", true), JsonConfig.Int(c, owner, "groups", 1), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
