using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Dense: y = act(x·W + b) with kernel W (in, units), glorot_uniform, and a zero bias.
/// On inputs of rank above 2 it acts on the last axis, as Keras does.
/// </summary>
public sealed class Dense : ActivatedLayer
{
    /// <summary>A fully connected layer of <paramref name="units"/> outputs, with an optional Keras activation and bias.</summary>
    public Dense(int units, string? activation = null, bool useBias = true, string? name = null) : base(name, activation)
    {
        if (units <= 0) throw new ArgumentException($"Dense '{Name}': units must be positive, got {units}.");
        Units = units;
        UseBias = useBias;
    }

    /// <inheritdoc/>
    public override string ClassName => "Dense";
    /// <summary>The number of outputs.</summary>
    public int Units { get; }
    /// <summary>Whether a bias is added per output.</summary>
    public bool UseBias { get; }
    /// <summary>(in, units), as Keras stores it.</summary>
    public Parameter? Kernel { get; private set; }
    /// <summary>The bias (units), once built and when used.</summary>
    public Parameter? Bias { get; private set; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        int features = input.Shape[^1];
        if (Kernel is not null && Kernel.Shape[0] != features)
            throw ShapeError(input, $"expects {Kernel.Shape[0]} features");
        if (Kernel is null)
        {
            Kernel = AddParameter("kernel", [features, Units], Initializer.GlorotUniform(features, Units));
            if (UseBias) Bias = AddParameter("bias", [Units], Initializer.Zeros);
        }
        return [.. input.Shape[..^1], Units];
    }

    /// <inheritdoc/>
    protected override TensorShape OutputShapeFor(IReadOnlyList<Tensor> inputs) => BatchShape(inputs[0].Shape[0], OutputShape);

    private static int Rows(Tensor x) => (int)(x.Length / x.Shape[-1]);

    /// <inheritdoc/>
    protected override void ForwardLinear(IReadOnlyList<Tensor> inputs, Tensor output, KernelActivation fused)
    {
        var x = inputs[0];
        // The symbolic shape was checked when built; a batch can still differ when RandomWidth/RandomHeight resized it.
        if (x.Shape[-1] != Kernel!.Shape[0])
            throw new Kernels.Geometry.ShapeException($"Dense '{Name}' expects {Kernel.Shape[0]} features but receives a batch of shape {x.Shape}; a layer before it changed the size while running (RandomWidth or RandomHeight before a Flatten).");
        x.Backend.Dense(x.Buffer, Kernel!.Value!.Buffer, Bias?.Value!.Buffer, output.Buffer, Rows(x), x.Shape[-1], Units, fused);
    }

    internal override Tensor? BiasGradient => Bias is null ? null : GradientOf(Bias);

    /// <inheritdoc/>
    protected override Tensor?[] BackwardLinear(Tensor gradPreActivation, IReadOnlyList<bool> needInputGradient)
    {
        var x = LastInput;
        var backend = x.Backend;
        int rows = Rows(x), features = x.Shape[-1];
        // dW (in, units) = xᵀ (in, rows) · dz (rows, units); db = Σ_rows dz; dx (rows, in) = dz · Wᵀ.
        if (GradientOf(Kernel!) is { } gradKernel)
            backend.MatMul(x.Buffer, gradPreActivation.Buffer, gradKernel.Buffer, features, rows, Units, transposeA: true, transposeB: false, accumulate: false);
        if (Bias is not null && !BiasGradientWritten && GradientOf(Bias) is { } gradBias)
            backend.BiasBackward(gradPreActivation.Buffer, gradBias.Buffer, rows, Units);
        if (!needInputGradient[0]) return [null];
        var gradInput = Workspace("grad_input", backend, x.Shape);
        backend.MatMul(gradPreActivation.Buffer, Kernel!.Value!.Buffer, gradInput.Buffer, rows, Units, features, transposeA: false, transposeB: true, accumulate: false);
        return [gradInput];
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = Units;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = new JsonObject { ["class_name"] = "GlorotUniform", ["config"] = new JsonObject { ["seed"] = null } };
        config["bias_initializer"] = new JsonObject { ["class_name"] = "Zeros", ["config"] = new JsonObject() };
        return config;
    }

    internal static Dense FromConfig(JsonObject c)
    {
        const string owner = "Dense";
        return new Dense(JsonConfig.Int(c, owner, "units"), JsonConfig.OptionalString(c, owner, "activation"),
            JsonConfig.Bool(c, owner, "use_bias", true), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
