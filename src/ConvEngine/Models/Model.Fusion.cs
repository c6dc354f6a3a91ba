using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;

namespace ConvEngine.Models;

public partial class Model
{
    /// <summary>
    /// What inference on the cpu backend runs in place of some nodes, found once from the graph. A conv chain (a conv, the
    /// BatchNormalization that alone reads it, the fusable Activation that alone reads that) runs as one conv with the
    /// batch norm folded into its weights and the activation in its epilogue. A chain without an activation whose only
    /// reader is a two-input Add runs at the Add, adding the other operand in the same epilogue (and the Activation that alone
    /// reads the sum); the chains whose only reader is a Concatenate write their channels of its output in place. Training
    /// passes, and passes that observe every node (feature maps), run the layers one by one.
    /// </summary>
    private sealed class InferenceFusions(int nodes)
    {
        /// <summary>Per node: what runs at it instead of its layer.</summary>
        public readonly Fusion?[] At = new Fusion?[nodes];
        /// <summary>Per node: computed by the fusion of another node, so skipped at its own place.</summary>
        public readonly int[] RunsAt = Enumerable.Repeat(-1, nodes).ToArray();
    }

    /// <summary>A conv and what folds into it: the batch norm that alone reads it, then the activation that alone reads the result.</summary>
    private sealed record ConvChain(int Conv, int? BatchNorm, int? Activation)
    {
        /// <summary>The node whose value the chain computes.</summary>
        public int Result => Activation ?? BatchNorm ?? Conv;
        public IEnumerable<int> Nodes => new[] { (int?)Conv, BatchNorm, Activation }.OfType<int>();
    }

    private abstract record Fusion;

    /// <summary>At a chain's result: the chain as one conv.</summary>
    private sealed record ChainFusion(ConvChain Chain) : Fusion;

    /// <summary>At an Add: act(<see cref="Chain"/> + <see cref="Other"/>), the activation that of the <see cref="Activation"/> node, if any.</summary>
    private sealed record ResidualFusion(ConvChain Chain, int Other, int? Activation) : Fusion;

    /// <summary>At a Concatenate: per input, the chain that writes its channels in place, or null for an input copied in.</summary>
    private sealed record ConcatFusion(ConvChain?[] Chains) : Fusion;

    private InferenceFusions? _fusions;

    /// <summary>The fusions a pass on <paramref name="input"/> runs: the graph's on the cpu backend at inference, unless the pass observes every node; else none.</summary>
    private InferenceFusions? FusionsFor(Tensor input, ForwardContext context) =>
        context.Training || context.Observer is not null || input.Backend is not CpuBackend ? null : _fusions ??= FindFusions();

    private InferenceFusions FindFusions()
    {
        int count = _nodes.Count;
        var fusions = new InferenceFusions(count);
        var consumers = new List<int>[count];
        for (int i = 0; i < count; i++) consumers[i] = [];
        for (int i = 0; i < count; i++)
            foreach (int j in _inputsOf[i]) consumers[j].Add(i);

        // Read by exactly one input slot of one node, and neither the model's input nor its output.
        bool ReadOnce(int node) => node != _inputNode && node != _outputNode && _consumerCounts[node] == 1;
        int? ReaderIf(int node, Func<Layer, bool> test) => ReadOnce(node) && test(_nodes[consumers[node][0]].Layer) ? consumers[node][0] : null;
        // The fusable Activation that alone reads a node; not the model's output, whose logits a loss may read.
        int? ActivationAfter(int node) => ReaderIf(node, layer => layer is Activation { Activation.Fuses: true }) is int a && a != _outputNode ? a : null;

        var chainWithResult = new ConvChain?[count];
        for (int c = 0; c < count; c++)
        {
            if (_nodes[c].Layer is not ConvolutionLayer conv) continue;
            ConvChain chain;
            if (conv.Activation.IsLinear)
            {
                int? bn = ReaderIf(c, layer => layer is BatchNormalization);
                chain = new ConvChain(c, bn, ActivationAfter(bn ?? c));
            }
            else if (conv.Activation.Fuses) chain = new ConvChain(c, null, null);
            else continue;
            chainWithResult[chain.Result] = chain;
        }

        void Claim(ConvChain chain, int at)
        {
            foreach (int node in chain.Nodes) fusions.RunsAt[node] = at;
        }

        for (int i = 0; i < count; i++)
        {
            var from = _inputsOf[i];
            switch (_nodes[i].Layer)
            {
                case Add when from.Length == 2 && from[0] != from[1]:
                {
                    bool Linear(int node) => ReadOnce(node) && chainWithResult[node] is { Activation: null } chain
                        && ((ConvolutionLayer)_nodes[chain.Conv].Layer).Activation.IsLinear;
                    int slot = Linear(from[1]) ? 1 : Linear(from[0]) ? 0 : -1;
                    if (slot < 0) break;
                    var chain = chainWithResult[from[slot]]!;
                    int? activation = ActivationAfter(i);
                    fusions.At[i] = new ResidualFusion(chain, from[1 - slot], activation);
                    Claim(chain, i);
                    if (activation is int a) fusions.RunsAt[a] = i;
                    break;
                }
                case Concatenate when from.Distinct().Count() == from.Length:
                {
                    var chains = from.Select(j => ReadOnce(j) ? chainWithResult[j] : null).ToArray();
                    if (chains.All(c => c is null)) break;
                    fusions.At[i] = new ConcatFusion(chains);
                    foreach (var chain in chains) if (chain is not null) Claim(chain, i);
                    break;
                }
            }
        }
        // The chains left run at their result; a lone conv runs as its layer (which keeps its packed kernel too).
        foreach (var chain in chainWithResult)
        {
            if (chain is null || fusions.RunsAt[chain.Conv] >= 0 || chain.Result == chain.Conv) continue;
            Claim(chain, chain.Result);
            fusions.RunsAt[chain.Result] = -1;
            fusions.At[chain.Result] = new ChainFusion(chain);
        }
        return fusions;
    }

    /// <summary>Runs the fusion at node <paramref name="node"/>, setting the values of the nodes it computes.</summary>
    private void RunFusion(int node, Fusion fusion)
    {
        switch (fusion)
        {
            case ChainFusion f:
            {
                var (conv, x, bn) = Unpack(f.Chain);
                var y = conv.InferenceOutput(x);
                conv.InferInto(x, y, ChainActivation(f.Chain), default, bn);
                _values[node] = y;
                break;
            }
            case ResidualFusion r:
            {
                var (conv, x, bn) = Unpack(r.Chain);
                var activation = r.Activation is int a ? ((Activation)_nodes[a].Layer).Activation.Kernel : KernelActivation.None;
                var y = conv.InferenceOutput(x);
                conv.InferInto(x, y, activation, new Conv2DOutput(Residual: _values[r.Other]!.Buffer), bn);
                _values[node] = y;
                if (r.Activation is int act) _values[act] = y;
                break;
            }
            case ConcatFusion c:
            {
                var concat = (Concatenate)_nodes[node].Layer;
                var from = _inputsOf[node];
                var first = c.Chains[0] is { } chain0 ? _values[_inputsOf[chain0.Conv][0]]! : _values[from[0]]!;
                var y = concat.OutputFor(first.Backend, first.Shape[0]);
                int total = y.Shape[-1], offset = 0;
                long pixels = y.Length / total;
                for (int k = 0; k < from.Length; k++)
                {
                    if (c.Chains[k] is { } chain)
                    {
                        var (conv, x, bn) = Unpack(chain);
                        conv.InferInto(x, y, ChainActivation(chain), new Conv2DOutput(offset, total), bn);
                    }
                    else ((CpuBackend)y.Backend).CopyChannels(_values[from[k]]!.Buffer, y.Buffer, pixels, concat.Channels[k], offset, total);
                    offset += concat.Channels[k];
                }
                _values[node] = y;
                break;
            }
        }
    }

    /// <summary>A chain's conv layer, its input value, and the batch norm folded into it.</summary>
    private (ConvolutionLayer Conv, Tensor Input, BatchNormalization? Folded) Unpack(ConvChain chain) =>
        ((ConvolutionLayer)_nodes[chain.Conv].Layer, _values[_inputsOf[chain.Conv][0]]!,
            chain.BatchNorm is int b ? (BatchNormalization)_nodes[b].Layer : null);

    /// <summary>The activation a chain ends with: its Activation node's, else its conv's own.</summary>
    private KernelActivation ChainActivation(ConvChain chain) => chain.Activation is int a
        ? ((Activation)_nodes[a].Layer).Activation.Kernel
        : ((ConvolutionLayer)_nodes[chain.Conv].Layer).Activation.Kernel;
}
