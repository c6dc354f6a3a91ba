using System.Collections;
using ConvEngine.Kernels;
using ConvEngine.Layers;

namespace ConvEngine.Models;

/// <summary>
/// Keras's Sequential: a chain of layers, each applied to the previous one's output. Start with an
/// <see cref="InputLayer"/> (or a model, whose input is reused):
/// <code>new Sequential { new Input(128, 128, 3), new Conv2D(32, 5, padding: "same", activation: "relu"), … }</code>
/// </summary>
public class Sequential : Model, IEnumerable<Layer>
{
    private readonly List<Layer> _layers = [];
    private InputLayer? _input;
    private SymbolicTensor? _current;

    /// <summary>A stack of <paramref name="layers"/> (more can be added with Add), on <paramref name="backend"/> (a new cpu backend when null).</summary>
    public Sequential(IEnumerable<Layer>? layers = null, string? name = null, IBackend? backend = null, ulong? seed = null)
        : base(name, backend, seed)
    {
        foreach (var layer in layers ?? []) Add(layer);
    }

    /// <inheritdoc/>
    public override string ClassName => "Sequential";
    /// <inheritdoc/>
    protected override string NamePrefix => "sequential";

    /// <summary>The layers after the input, as Keras's Sequential.layers.</summary>
    public override IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Appends a layer, applying it to the current output (Keras's add).</summary>
    public void Add(Layer layer)
    {
        if (layer is InputLayer input)
        {
            if (_input is not null)
                throw new InvalidOperationException($"Sequential '{Name}' already has Input '{_input.Name}'; '{input.Name}' can only come first.");
            _input = input;
            _current = input;
            SetGraph(input, input);
            return;
        }
        if (_current is null)
        {
            if (layer is not Model inner)
                throw new InvalidOperationException(
                    $"Sequential '{Name}': add an Input(...) before {layer.ClassName} '{layer.Name}' so the model knows one sample's shape (Keras's input_shape).");
            _input = new InputLayer(inner.InputShape, null);
            _current = _input;
        }
        _current = layer.Apply(_current);
        _layers.Add(layer);
        SetGraph(_input!, _current);
    }

    /// <summary>The layers in order.</summary>
    public IEnumerator<Layer> GetEnumerator() => _layers.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
