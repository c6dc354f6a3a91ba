using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Rescaling: y = x·scale + offset, e.g. scale 1/255 to bring pixels into [0, 1]. Scale and offset may also be one
/// value per channel (broadcast over the last axis), as EfficientNet's ImageNet preprocessing has them.
/// </summary>
public sealed class Rescaling : Layer
{
    private readonly double[]? _channelScales, _channelOffsets;

    /// <summary>y = x·<paramref name="scale"/> + <paramref name="offset"/> (Keras's Rescaling).</summary>
    public Rescaling(double scale, double offset = 0, string? name = null) : base(name)
    {
        Scale = scale;
        Offset = offset;
    }

    /// <summary>Per-channel scale and offset (an array of one value broadcasts to every channel).</summary>
    public Rescaling(double[] scales, double[] offsets, string? name = null) : base(name)
    {
        if (scales.Length == 0 || offsets.Length == 0)
            throw new ArgumentException($"Rescaling '{Name}': scale and offset need at least one value each.");
        _channelScales = scales.ToArray();
        _channelOffsets = offsets.ToArray();
        Scale = scales[0];
        Offset = offsets[0];
    }

    /// <inheritdoc/>
    public override string ClassName => "Rescaling";
    /// <summary>The scale (the first channel's, when they are per channel).</summary>
    public double Scale { get; }
    /// <summary>Added after the scaling.</summary>
    public double Offset { get; }
    /// <summary>Whether scale or offset differ per channel.</summary>
    public bool PerChannel => _channelScales is not null;
    /// <summary>The per-channel scales as given (one value broadcasts), or null when the scale is one number.</summary>
    public IReadOnlyList<double>? ChannelScales => _channelScales;
    /// <summary>The per-channel offsets as given (one value broadcasts), or null when the offset is one number.</summary>
    public IReadOnlyList<double>? ChannelOffsets => _channelOffsets;

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (PerChannel)
            foreach (var values in new[] { _channelScales!, _channelOffsets! })
                if (values.Length != 1 && values.Length != input.Shape[^1])
                    throw ShapeError(input, $"has {values.Length} scale/offset values for {input.Shape[^1]} channels");
        return input.Shape;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var output = Workspace("output", x.Backend, x.Shape);
        if (PerChannel)
        {
            int channels = x.Shape[-1];
            x.Backend.ChannelAffine(x.Buffer, ChannelValues("scale", _channelScales!, x).Buffer, ChannelValues("offset", _channelOffsets!, x).Buffer,
                output.Buffer, x.Length / channels, channels);
            return output;
        }
        x.Backend.Fill(output.Buffer, (float)Offset, x.Length);
        x.Backend.Axpy((float)Scale, x.Buffer, output.Buffer, x.Length);
        return output;
    }

    /// <summary>One value per channel on the input's backend (uploaded when the buffer is first made).</summary>
    private Tensor ChannelValues(string slot, double[] values, Tensor x)
    {
        int channels = x.Shape[-1];
        var tensor = Workspace(slot, x.Backend, new(channels));
        x.Backend.Upload(Enumerable.Range(0, channels).Select(c => (float)values[values.Length == 1 ? 0 : c]).ToArray(), tensor.Buffer);
        return tensor;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var gradInput = Workspace("grad_input", gradOutput.Backend, gradOutput.Shape);
        if (PerChannel)
        {
            int channels = gradOutput.Shape[-1];
            gradOutput.Backend.ChannelAffine(gradOutput.Buffer, ChannelValues("scale", _channelScales!, gradOutput).Buffer,
                ChannelValues("zero_offset", [0.0], gradOutput).Buffer, gradInput.Buffer, gradOutput.Length / channels, channels);
            return [gradInput];
        }
        gradOutput.Backend.Fill(gradInput.Buffer, 0f, gradOutput.Length);
        gradOutput.Backend.Axpy((float)Scale, gradOutput.Buffer, gradInput.Buffer, gradOutput.Length);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["scale"] = PerChannel ? new JsonArray(_channelScales!.Select(v => (JsonNode?)v).ToArray()) : Scale;
        config["offset"] = PerChannel ? new JsonArray(_channelOffsets!.Select(v => (JsonNode?)v).ToArray()) : Offset;
        return config;
    }

    internal static Rescaling FromConfig(JsonObject c)
    {
        const string owner = "Rescaling";
        string name = JsonConfig.String(c, owner, "name");
        bool trainable = JsonConfig.Bool(c, owner, "trainable", true);
        if (c["scale"] is JsonArray || c["offset"] is JsonArray)
            return new Rescaling(Normalization.Values(c, owner, "scale")!, Normalization.Values(c, owner, "offset") ?? [0.0], name) { Trainable = trainable };
        return new Rescaling(JsonConfig.Double(c, owner, "scale"), JsonConfig.Double(c, owner, "offset", 0), name) { Trainable = trainable };
    }
}
