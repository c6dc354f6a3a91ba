using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Local response normalisation across channels, as Caffe (ACROSS_CHANNELS) and ONNX LRN define it and the
/// Caffe/ONNX GoogLeNet uses it: y = x / (bias + α/size · Σ x²)^β over channels [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉].
/// Keras has no such layer; the class name "LRN" and the config keys (size, alpha, beta, bias) follow ONNX.
/// It has no weights and trains through its exact gradient (the backend's LrnBackward).
/// </summary>
public sealed class LRN : Layer
{
    private LrnGeometry _geometry;

    /// <param name="size">Channels in the window (GoogLeNet: 5).</param>
    /// <param name="alpha">Scale of the window's sum of squares.</param>
    /// <param name="beta">Exponent of the denominator.</param>
    /// <param name="bias">Added inside the denominator.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public LRN(int size, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f, string? name = null) : base(name)
    {
        if (size <= 0) throw new ArgumentException($"LRN '{Name}': size must be positive, got {size}.");
        if (!float.IsFinite(alpha) || !float.IsFinite(beta) || !float.IsFinite(bias) || bias <= 0)
            throw new ArgumentException($"LRN '{Name}': alpha {alpha} and beta {beta} must be finite and bias {bias} positive.");
        (Size, Alpha, Beta, Bias) = (size, alpha, beta, bias);
    }

    /// <inheritdoc/>
    public override string ClassName => "LRN";
    /// <summary>Channels in each normalisation window.</summary>
    public int Size { get; }
    /// <summary>Scale of the window's sum of squares.</summary>
    public float Alpha { get; }
    /// <summary>Exponent of the denominator.</summary>
    public float Beta { get; }
    /// <summary>Added inside the denominator.</summary>
    public float Bias { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) => SingleInput(inputs).Shape;

    private LrnGeometry GeometryFor(Tensor input)
    {
        long pixels = input.Length / input.Shape[-1];
        if (_geometry.Pixels != pixels || _geometry.Size == 0)
            _geometry = LrnGeometry.Create($"LRN '{Name}'", input.Shape, Size, Alpha, Beta, Bias);
        return _geometry;
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        var output = Workspace("output", x.Backend, x.Shape);
        x.Backend.Lrn(x.Buffer, output.Buffer, GeometryFor(x));
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.LrnBackward(x.Buffer, gradOutput.Buffer, gradInput.Buffer, GeometryFor(x));
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["size"] = Size;
        config["alpha"] = Alpha;
        config["beta"] = Beta;
        config["bias"] = Bias;
        return config;
    }

    internal static LRN FromConfig(JsonObject c)
    {
        const string owner = "LRN";
        return new LRN(JsonConfig.Int(c, owner, "size"), (float)JsonConfig.Double(c, owner, "alpha", 1e-4),
            (float)JsonConfig.Double(c, owner, "beta", 0.75), (float)JsonConfig.Double(c, owner, "bias", 1.0), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
