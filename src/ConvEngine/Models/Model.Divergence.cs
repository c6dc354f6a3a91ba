using System.Numerics.Tensors;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Training;

namespace ConvEngine.Models;

public partial class Model
{
    /// <summary>The trainable weight whose gradient the last training step found non-finite (the update was then not applied).</summary>
    private Parameter? _nonFiniteGradient;

    /// <summary>Whether every value of <paramref name="tensor"/> is finite (cpu buffers are read in place, others downloaded).</summary>
    internal static bool IsFinite(Tensor tensor)
    {
        ReadOnlySpan<float> values;
        if (tensor.Buffer is CpuBuffer cpu) values = cpu.Span[..(int)tensor.Length];
        else
        {
            var host = new float[tensor.Length];
            tensor.Backend.Download(tensor.Buffer, host);
            values = host;
        }
        // NaN wins a max-magnitude reduction and infinity is the largest magnitude: one vectorised pass decides.
        return values.Length == 0 || float.IsFinite(TensorPrimitives.MaxMagnitude(values));
    }

    /// <summary>The first trainable weight (in layer order) whose gradient holds a NaN or infinity, or null.</summary>
    private Parameter? FirstNonFiniteGradient(IReadOnlyList<Parameter> trainable) =>
        trainable.FirstOrDefault(p => p.Gradient is { } g && !IsFinite(g));

    /// <summary>The first weight whose value is non-finite (an update that overflowed), or null.</summary>
    private (string Path, Parameter Parameter)? FirstNonFiniteWeight() =>
        NamedParameters.Where(p => p.Parameter.Value is { } v && !IsFinite(v)).Select(p => ((string, Parameter)?)p).FirstOrDefault();

    /// <summary>
    /// The divergence at a step: what turned non-finite and the layer where it first shows, found after the fact (the
    /// step is not repeated): a gradient the step refused, a weight already non-finite, the inputs, or the first layer
    /// (in forward order) whose output of the last forward pass holds NaN or infinity; else the loss itself.
    /// </summary>
    private TrainingDivergedException Diverged(int epoch, int step, int steps, double loss, string? lastCheckpoint)
    {
        string what, layer;
        if (_nonFiniteGradient is { } p)
            (what, layer) = ($"the gradient of weight '{p.Owner.Name}/{p.Name}' is not finite (the loss was {loss})", p.Owner.Name);
        else if (FirstNonFiniteWeight() is { } w)
            (what, layer) = ($"the loss is {loss} and weight '{w.Path}' is not finite (an update overflowed)", w.Parameter.Owner.Name);
        else if (_values.Length > _inputNode && _values[_inputNode] is { } input && !IsFinite(input))
            (what, layer) = ($"the loss is {loss} because the input batch holds NaN or infinity", _nodes[_inputNode].Layer.Name);
        else
        {
            int first = Enumerable.Range(0, _nodes.Count).FirstOrDefault(i => i != _inputNode && _values[i] is { } v && !IsFinite(v), _outputNode);
            what = $"the loss is {loss}";
            layer = _nodes[first].Layer.Name;
        }
        _nonFiniteGradient = null;
        return new TrainingDivergedException(epoch, step, steps, loss, lastCheckpoint, what, layer);
    }
}
