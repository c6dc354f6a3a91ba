using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras Permute: reorders the axes of each sample; <see cref="Dims"/> is a permutation of 1…rank (the batch axis 0
/// stays first), output axis i being input axis Dims[i]. (H·W, g, C/g) with dims (1, 3, 2) is a channel shuffle.
/// Runs on the backend's transpose kernels; its gradient is the inverse permutation.
/// </summary>
public sealed class Permute : Layer
{
    private TransposeGeometry _forward, _backward;
    private int _batch;

    /// <summary>A permutation of the sample axes; <paramref name="dims"/> is Keras's (1-based, the batch left out).</summary>
    /// <param name="dims">Keras's dims: each of 1…rank once.</param>
    /// <param name="name">The layer's name; null for one generated from the class.</param>
    public Permute(int[] dims, string? name = null) : base(name)
    {
        if (dims.Length is < 1 or > 3 || !dims.Order().SequenceEqual(Enumerable.Range(1, dims.Length)))
            throw new ArgumentException($"Permute '{Name}': dims ({string.Join(", ", dims)}) must list each of 1…{Math.Max(dims.Length, 1)} once, for samples of rank 1 to 3.");
        Dims = (int[])dims.Clone();
    }

    /// <summary>"Permute", Keras's class name.</summary>
    public override string ClassName => "Permute";
    /// <summary>Output axis i (1-based, batch excluded) is input axis Dims[i − 1].</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <inheritdoc/>
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        var input = SingleInput(inputs);
        if (input.Shape.Length != Dims.Count)
            throw ShapeError(input, $"permutes {Dims.Count} sample axes (dims ({string.Join(", ", Dims)}))");
        return Dims.Select(d => input.Shape[d - 1]).ToArray();
    }

    /// <summary>The full permutation with the batch axis: (0, dims…).</summary>
    private int[] Perm() => [0, .. Dims];

    private int[] InversePerm()
    {
        int[] perm = Perm();
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return inverse;
    }

    private void Plan(Tensor input)
    {
        if (_batch == input.Shape[0] && _forward.Length != 0) return;
        _batch = input.Shape[0];
        string op = $"Permute '{Name}'";
        _forward = TransposeGeometry.Create(op, input.Shape.Dims, Perm());
        _backward = TransposeGeometry.Create(op, [_batch, .. OutputShape], InversePerm());
    }

    /// <inheritdoc/>
    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var x = inputs[0];
        Plan(x);
        var output = Workspace("output", x.Backend, BatchShape(x.Shape[0], OutputShape));
        x.Backend.Transpose(x.Buffer, output.Buffer, _forward);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient)
    {
        if (!needInputGradient[0]) return [null];
        var x = LastInput;
        Plan(x);
        var gradInput = Workspace("grad_input", x.Backend, x.Shape);
        x.Backend.Transpose(gradOutput.Buffer, gradInput.Buffer, _backward);
        return [gradInput];
    }

    /// <summary>Keras's config: dims.</summary>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["dims"] = new JsonArray(Dims.Select(d => (JsonNode?)d).ToArray());
        return config;
    }

    internal static Permute FromConfig(JsonObject c)
    {
        const string owner = "Permute";
        return new Permute(JsonConfig.Ints(c, owner, "dims"), JsonConfig.String(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
