using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;

namespace ConvEngine.Models;

public partial class Model
{
    /// <summary>
    /// What inference on the cpu backend runs in place of some nodes, found once from the graph: a conv whose only
    /// reader is a residual Add runs at the Add, adding the other operand in its own epilogue (and the ReLU-like
    /// Activation that alone reads the sum); the convs whose only reader is a Concatenate write their channels of its
    /// output in place. Training passes, and passes that observe every node (feature maps), run the layers one by one.
    /// </summary>
    private sealed class InferenceFusions(int nodes)
    {
        /// <summary>Per node: what runs at it instead of its layer.</summary>
        public readonly Fusion?[] At = new Fusion?[nodes];
        /// <summary>Per node: computed by the fusion of a later node, so skipped at its own place.</summary>
        public readonly int[] RunsAt = Enumerable.Repeat(-1, nodes).ToArray();
    }

    private abstract record Fusion;

    /// <summary>At an Add: act(<see cref="Conv"/>'s conv + <see cref="Other"/>), the activation that of <see cref="Activation"/>'s node, if any.</summary>
    private sealed record ResidualFusion(int Conv, int Other, int? Activation) : Fusion;

    /// <summary>At a Concatenate: per input, the conv node that writes its channels in place, or -1 for an input copied in.</summary>
    private sealed record ConcatFusion(int[] Convs) : Fusion;

    private InferenceFusions? _fusions;

    private InferenceFusions Fusions() => _fusions ??= FindFusions();

    private InferenceFusions FindFusions()
    {
        var fusions = new InferenceFusions(_nodes.Count);
        var consumers = new List<int>[_nodes.Count];
        for (int i = 0; i < _nodes.Count; i++) consumers[i] = [];
        for (int i = 0; i < _nodes.Count; i++)
            foreach (int j in _inputsOf[i]) consumers[j].Add(i);

        // A conv that can run at its one consumer: neither the model's input nor its output, read by nothing else.
        bool Movable(int node, bool activationAllowed) =>
            node != _inputNode && node != _outputNode && _consumerCounts[node] == 1 && fusions.RunsAt[node] < 0
            && _nodes[node].Layer is ConvolutionLayer conv
            && (conv.Activation.IsLinear || (activationAllowed && conv.Activation.Fuses));

        for (int i = 0; i < _nodes.Count; i++)
        {
            var from = _inputsOf[i];
            switch (_nodes[i].Layer)
            {
                case Add when from.Length == 2 && from[0] != from[1]:
                {
                    int slot = Movable(from[1], false) ? 1 : Movable(from[0], false) ? 0 : -1;
                    if (slot < 0) break;
                    int conv = from[slot], other = from[1 - slot];
                    int? activation = null;
                    if (i != _outputNode && consumers[i].Count == 1 && consumers[i][0] is int next && next != _outputNode
                        && _nodes[next].Layer is Activation { Activation.Fuses: true })
                        activation = next;
                    fusions.At[i] = new ResidualFusion(conv, other, activation);
                    fusions.RunsAt[conv] = i;
                    if (activation is int a) fusions.RunsAt[a] = i;
                    break;
                }
                case Concatenate when from.Distinct().Count() == from.Length:
                {
                    int[] convs = from.Select(j => Movable(j, true) ? j : -1).ToArray();
                    if (convs.All(c => c < 0)) break;
                    fusions.At[i] = new ConcatFusion(convs);
                    foreach (int c in convs) if (c >= 0) fusions.RunsAt[c] = i;
                    break;
                }
            }
        }
        return fusions;
    }

    /// <summary>Runs the fusion at node <paramref name="node"/>, setting the values of the nodes it computes.</summary>
    private void RunFusion(int node, Fusion fusion)
    {
        switch (fusion)
        {
            case ResidualFusion r:
            {
                var conv = (ConvolutionLayer)_nodes[r.Conv].Layer;
                var x = _values[_inputsOf[r.Conv][0]]!;
                var other = _values[r.Other]!;
                var activation = r.Activation is int a ? ((Activation)_nodes[a].Layer).Activation.Kernel : KernelActivation.None;
                var y = conv.InferenceOutput(x);
                conv.InferInto(x, y, activation, new Conv2DOutput(Residual: other.Buffer));
                _values[node] = y;
                if (r.Activation is int act) _values[act] = y;
                break;
            }
            case ConcatFusion c:
            {
                var concat = (Concatenate)_nodes[node].Layer;
                var from = _inputsOf[node];
                var first = c.Convs[0] >= 0 ? _values[_inputsOf[c.Convs[0]][0]]! : _values[from[0]]!;
                var y = concat.OutputFor(first.Backend, first.Shape[0]);
                int total = y.Shape[-1], offset = 0;
                long pixels = y.Length / total;
                for (int k = 0; k < from.Length; k++)
                {
                    int channels = concat.Channels[k];
                    if (c.Convs[k] is int convNode and >= 0)
                    {
                        var conv = (ConvolutionLayer)_nodes[convNode].Layer;
                        conv.InferInto(_values[_inputsOf[convNode][0]]!, y, conv.Activation.Kernel, new Conv2DOutput(offset, total));
                    }
                    else ((CpuBackend)y.Backend).CopyChannels(_values[from[k]]!.Buffer, y.Buffer, pixels, channels, offset, total);
                    offset += channels;
                }
                _values[node] = y;
                break;
            }
        }
    }
}
