using ConvEngine.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace ConvEngine.Benchmarks.Training;

/// <summary>How torch lays out the images and conv kernels in memory; the tensors are (N, C, H, W) either way.</summary>
public enum TorchLayout
{
    /// <summary>Contiguous NCHW, torch's default.</summary>
    Nchw,
    /// <summary>
    /// PyTorch's channels_last memory format (NHWC strides), which its oneDNN convolutions run without converting to
    /// and from their blocked layout. TorchSharp 0.107 has no memory_format argument, so the strides are made by
    /// permuting to NHWC, copying, and permuting back; torch recognises the format from the strides.
    /// </summary>
    ChannelsLast,
}

/// <summary>
/// The peer: the same net in TorchSharp (libtorch CPU), trained with torch's Adam given Keras's
/// hyper-parameters; logits go to CrossEntropyLoss / BCEWithLogitsLoss (the softmax/sigmoid that Keras
/// fuses into the loss). The batch lives in torch tensors made once.
/// </summary>
public sealed class TorchTrainingStep : IDisposable
{
    private readonly nn.Module<TorchTensor, TorchTensor> _net;
    // The conv and linear modules in order; a linear right after Flatten remembers the (H, W, C) it flattens.
    private readonly List<(LayerSpec Spec, nn.Module Module, (int H, int W, int C)? FlattenedFrom)> _weighted = [];
    private readonly nn.Module<TorchTensor, TorchTensor, TorchTensor> _loss;
    private readonly optim.Optimizer _optimizer;
    private readonly TorchTensor _inputs, _targets;

    public TorchTrainingStep(TrainingData data, int threads, TorchLayout layout = TorchLayout.Nchw, long seed = 42)
    {
        UseThreads(threads);
        torch.random.manual_seed(seed);
        var net = data.Net;
        Layout = layout;
        _net = Build(net);
        _optimizer = optim.Adam(_net.parameters(), lr: TrainingNet.LearningRate,
            beta1: TrainingNet.Beta1, beta2: TrainingNet.Beta2, eps: TrainingNet.Epsilon);
        _inputs = InLayout(tensor(data.InputsNchw(), [net.BatchSize, net.Channels, net.Height, net.Width]));
        if (net.Loss == TrainingLoss.SparseCategoricalCrossentropy)
        {
            _loss = nn.CrossEntropyLoss();
            _targets = tensor(data.Targets.Select(t => (long)t).ToArray(), [net.BatchSize]);
        }
        else
        {
            _loss = nn.BCEWithLogitsLoss();
            _targets = tensor(data.Targets, [net.BatchSize, 1]);
        }
        Net = net;
    }

    public TrainingNet Net { get; }
    public TorchLayout Layout { get; }

    /// <summary>A 4-D tensor in this step's layout: as is for NCHW, with NHWC strides for channels-last.</summary>
    private TorchTensor InLayout(TorchTensor nchw) =>
        Layout == TorchLayout.ChannelsLast ? nchw.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : nchw;

    /// <summary>Torch's intra-op threads (the compute pool) to match ours; one inter-op thread, set once per process.</summary>
    public static void UseThreads(int threads)
    {
        try
        {
            torch.set_num_threads(threads);
        }
        catch (TypeInitializationException e)
        {
            throw new InvalidOperationException(
                "TorchSharp could not load libtorch. On Debian 12 libLibTorchSharp.so needs a newer libstdc++ (GLIBCXX_3.4.32): " +
                "run the built benchmark DLL through benchmarks/ConvEngine.Benchmarks/Training/debian13-runtime.sh " +
                "(BenchmarkDotNet with --inProcess). " + (e.InnerException?.Message.Split('\n')[0] ?? e.Message), e);
        }
        if (!s_interOpSet)
        {
            torch.set_num_interop_threads(1);
            s_interOpSet = true;
        }
    }
    private static bool s_interOpSet;

    /// <summary>Torch's threads as it reports them, e.g. "2 intra-op threads, 1 inter-op thread(s)".</summary>
    public static string ThreadsText => $"{get_num_threads()} intra-op threads, {get_num_interop_threads()} inter-op thread(s)";

    /// <summary>One training step (zero grads, forward, loss, backward, Adam); returns the batch loss before the update.</summary>
    public double Step()
    {
        using var scope = NewDisposeScope();
        _net.train();
        _optimizer.zero_grad();
        var loss = _loss.forward(_net.forward(_inputs), _targets);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }

    /// <summary>The batch loss in inference mode (no dropout, no update).</summary>
    public double InferenceLoss()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _net.eval();
        return _loss.forward(_net.forward(_inputs), _targets).item<float>();
    }

    private nn.Module<TorchTensor, TorchTensor> Build(TrainingNet net)
    {
        var modules = new List<(string, nn.Module<TorchTensor, TorchTensor>)>();
        int h = net.Height, w = net.Width, c = net.Channels, features = 0, index = 0;
        LayerSpec? previous = null;
        foreach (var spec in net.Layers)
        {
            string name = $"{index++}";
            switch (spec)
            {
                case ConvSpec conv:
                    var conv2d = nn.Conv2d(c, conv.Filters, conv.Kernel, padding: Padding.Same);
                    if (Layout == TorchLayout.ChannelsLast)
                        using (no_grad()) conv2d.weight = new TorchSharp.Modules.Parameter(InLayout(conv2d.weight!.detach()));
                    _weighted.Add((spec, conv2d, null));
                    modules.Add((name + "_conv", conv2d));
                    modules.Add((name + "_relu", nn.ReLU()));
                    c = conv.Filters;
                    break;
                case PoolSpec:
                    modules.Add((name + "_pool", nn.MaxPool2d(2)));
                    h /= 2;
                    w /= 2;
                    break;
                case FlattenSpec:
                    modules.Add((name + "_flatten", nn.Flatten()));
                    features = h * w * c;
                    break;
                case DenseSpec dense:
                    var linear = nn.Linear(features, dense.Units);
                    _weighted.Add((spec, linear, previous is FlattenSpec ? (h, w, c) : null));
                    modules.Add((name + "_linear", linear));
                    if (dense.Activation == "relu") modules.Add((name + "_relu", nn.ReLU()));
                    // softmax/sigmoid on the output layer are left to the loss, as Keras fuses them.
                    features = dense.Units;
                    break;
                case DropoutSpec dropout:
                    modules.Add((name + "_dropout", nn.Dropout(dropout.Rate)));
                    break;
                default:
                    throw new ArgumentException($"Training net '{net.Id}': no torch module for {spec}.");
            }
            previous = spec;
        }
        return nn.Sequential(modules);
    }

    /// <summary>
    /// Copies our model's weights in, so both sides start from the same point: HWIO kernels become OIHW,
    /// Dense (in, out) becomes Linear (out, in), and the Dense after Flatten has its rows reordered from
    /// our (h, w, c) flattening to torch's (c, h, w).
    /// </summary>
    public void LoadWeightsFrom(ConvEngine.Models.Sequential ours)
    {
        var ourWeighted = ours.Layers.Where(l => l is Conv2D or Dense).ToList();
        if (ourWeighted.Count != _weighted.Count)
            throw new InvalidOperationException($"Model '{ours.Name}' has {ourWeighted.Count} weighted layers; the torch net has {_weighted.Count}.");
        using var noGrad = no_grad();
        for (int i = 0; i < _weighted.Count; i++)
        {
            var (spec, module, flattenedFrom) = _weighted[i];
            switch (ourWeighted[i], module)
            {
                case (Conv2D conv, Conv2d torchConv):
                    var k = conv.Kernel!.Shape;  // (KH, KW, C, O)
                    var hwio = tensor(conv.Kernel.ToArray(), [k[0], k[1], k[2], k[3]]);
                    torchConv.weight!.copy_(hwio.permute(3, 2, 0, 1));
                    torchConv.bias!.copy_(tensor(conv.Bias!.ToArray()));
                    break;
                case (Dense dense, Linear linear):
                    int units = dense.Units, inputs = dense.Kernel!.Shape[0];
                    var kernel = tensor(dense.Kernel.ToArray(), [inputs, units]);
                    if (flattenedFrom is { } f)
                        kernel = kernel.reshape(f.H, f.W, f.C, units).permute(2, 0, 1, 3).reshape(inputs, units);
                    linear.weight!.copy_(kernel.t());
                    linear.bias!.copy_(tensor(dense.Bias!.ToArray()));
                    break;
                default:
                    throw new InvalidOperationException($"Layer {i} of '{ours.Name}' ({ourWeighted[i].ClassName}) does not match torch's {spec}.");
            }
        }
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _loss.Dispose();
        _net.Dispose();
        _inputs.Dispose();
        _targets.Dispose();
    }
}
