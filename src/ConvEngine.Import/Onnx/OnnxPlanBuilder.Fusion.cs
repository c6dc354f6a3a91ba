using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// A conv step of a plan on the cpu backend, whose packed filter is prepared at plan time and whose output
/// handling later nodes may still change while the plan is built: an Add of its output and another tensor becomes
/// its residual, an activation after that Add its activation, and a Concat of its output writes it straight into the
/// concatenation's channels. Each rewrite applies only where the conv's output has no other reader.
/// </summary>
internal sealed class CpuConvStep(CpuBackend cpu, Conv2DGeometry g, PackedConv2DFilter filter, Tensor? bias, KernelActivation activation)
{
    public Conv2DGeometry Geometry { get; } = g;
    public KernelActivation Activation { get; set; } = activation;
    /// <summary>Input index of the residual in the step's inputs (1), or -1.</summary>
    public bool HasResidual { get; set; }
    public int ChannelOffset { get; set; }
    /// <summary>Pixel width of the tensor written (0: the conv's own channels).</summary>
    public int ChannelStride { get; set; }
    public bool WritesIntoConcat => ChannelStride != 0;

    public void Run(Tensor[] inputs, Tensor output) =>
        cpu.Conv2D(inputs[0].Buffer, filter, bias?.Buffer, output.Buffer, Geometry, Activation,
            new Conv2DOutput(ChannelOffset, ChannelStride, HasResidual ? inputs[1].Buffer : null));
}

internal sealed partial class OnnxPlanBuilder
{
    /// <summary>The cpu conv steps by their output slot, with the index of their step.</summary>
    private readonly Dictionary<int, (CpuConvStep Conv, int Step)> _convSteps = [];
    private Dictionary<string, int>? _readers;

    /// <summary>How many node inputs (and graph outputs) read each value.</summary>
    private Dictionary<string, int> ReaderCounts => _readers ??= _graph.Readers();

    /// <summary>Emits a conv: on the cpu backend with a packed filter (open to the rewrites above), elsewhere the backend's Conv2D.</summary>
    private RunValue EmitConv(int[] outDims, RunValue x, Conv2DGeometry g, Tensor filter, Tensor? bias, KernelActivation activation)
    {
        if (_backend is CpuBackend cpu)
        {
            var packed = cpu.PackConv2DFilter(filter.Buffer, g);
            _owned.Add(packed);
            var conv = new CpuConvStep(cpu, g, packed, bias, activation);
            var value = EmitInto(outDims, [x], conv.Run);
            _steps[^1].Flops = g.Flops;
            _convSteps[value.Slot] = (conv, _steps.Count - 1);
            return value;
        }
        var plain = EmitInto(outDims, [x], (a, y) => a[0].Backend.Conv2D(a[0].Buffer, filter.Buffer, bias?.Buffer, y.Buffer, g, activation));
        _steps[^1].Flops = g.Flops;
        return plain;
    }

    /// <summary>The cpu conv that produced input <paramref name="index"/> of the current node, if nothing else reads its output.</summary>
    private (CpuConvStep Conv, int Step)? SoleReaderOfConv(int index)
    {
        string? name = _node.Input(index);
        if (name is null || ReaderCounts.GetValueOrDefault(name) != 1) return null;
        if (_values.GetValueOrDefault(name) is not RunValue run || !_convSteps.TryGetValue(run.Slot, out var conv)) return null;
        return conv;
    }

    /// <summary>
    /// Add(conv, other) where only this Add reads the conv's output: the conv adds <paramref name="other"/> in its
    /// epilogue and its slot becomes the Add's output. Returns false where the rewrite does not apply.
    /// </summary>
    private bool TryFuseResidual(int convInput, RunValue other)
    {
        if (SoleReaderOfConv(convInput) is not { } found) return false;
        var (conv, step) = found;
        var convValue = (RunValue)_values[_node.Inputs[convInput]];
        if (conv.HasResidual || conv.WritesIntoConcat || conv.Activation.Kind != ActivationKind.None) return false;
        if (!convValue.Dims.SequenceEqual(other.Dims) || other.Slot == convValue.Slot) return false;
        conv.HasResidual = true;
        _steps[step].Inputs = [_steps[step].Inputs[0], other.Slot];
        Set(0, convValue);
        return true;
    }

    /// <summary>An activation whose input is a conv's output that only it reads (e.g. after a fused residual): the conv applies it.</summary>
    private bool TryFuseActivation(KernelActivation activation)
    {
        if (SoleReaderOfConv(0) is not { } found) return false;
        var (conv, _) = found;
        if (conv.Activation.Kind != ActivationKind.None || conv.WritesIntoConcat) return false;
        conv.Activation = activation;
        Set(0, _values[_node.Inputs[0]]);
        return true;
    }

    /// <summary>
    /// A channel concat on the cpu backend: every input that is a conv output read only here is written by its conv
    /// straight into the concatenation's channels; the concat step copies the others. Returns false where it does not apply.
    /// </summary>
    private bool TryConcatInPlace(OnnxValue[] inputs, int[] outDims)
    {
        if (_backend is not CpuBackend || outDims.Length is not (3 or 4)) return false;
        var fused = new (CpuConvStep Conv, int Step)?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            if (_node.Inputs.Count(n => n == _node.Inputs[i]) == 1 && SoleReaderOfConv(i) is { } found
                && !found.Conv.WritesIntoConcat && !found.Conv.HasResidual)
                fused[i] = found;
        if (fused.All(f => f is null)) return false;

        var runs = inputs.Select(Runtime).ToArray();
        int[] channels = runs.Select(r => r.Dims[1]).ToArray();
        int total = channels.Sum();
        int[] copied = Enumerable.Range(0, inputs.Length).Where(i => fused[i] is null).ToArray();
        long pixels = TensorDims(outDims).Aggregate(1L, (p, d) => p * d) / total;
        int[] offsets = new int[inputs.Length];
        for (int i = 1; i < inputs.Length; i++) offsets[i] = offsets[i - 1] + channels[i - 1];
        var value = EmitInto(outDims, runs, (a, y) =>
        {
            foreach (int i in copied) ((CpuBackend)y.Backend).CopyChannels(a[i].Buffer, y.Buffer, pixels, channels[i], offsets[i], total);
        });
        for (int i = 0; i < inputs.Length; i++)
        {
            if (fused[i] is not { } f) continue;
            f.Conv.ChannelOffset = offsets[i];
            f.Conv.ChannelStride = total;
            _steps[f.Step].Target = value.Slot;
        }
        Set(0, value);
        return true;
    }
}
