using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Losses;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;

namespace ConvEngine.Benchmarks.Training;

/// <summary>
/// Our side of the training benchmark: the net as a Keras-style Sequential on the `cpu` backend, compiled
/// with Adam and no metrics, stepped with <see cref="Model.TrainOnBatch"/> (forward, loss, backward, Adam)
/// on one batch. TrainOnBatch takes host arrays, so each step also copies the batch in (a memcpy on `cpu`).
/// </summary>
public sealed class OurTrainingStep : IDisposable
{
    private readonly Batch _batch;
    private readonly bool _ownsBackend;

    /// <param name="backend">The backend to train on (left to the caller to dispose); by default a `cpu` backend with
    /// <paramref name="threads"/> threads.</param>
    public OurTrainingStep(TrainingData data, int threads, IBackend? backend = null, ulong seed = 42)
    {
        var net = data.Net;
        _ownsBackend = backend is null;
        Backend = backend ?? new CpuBackend(threads);
        Model = Build(net, Backend, seed);
        Loss loss = net.Loss switch
        {
            TrainingLoss.SparseCategoricalCrossentropy => new SparseCategoricalCrossentropy(),
            TrainingLoss.BinaryCrossentropy => new BinaryCrossentropy(),
            _ => throw new ArgumentOutOfRangeException(nameof(data), net.Loss, "unknown loss"),
        };
        Model.Compile(new Adam(TrainingNet.LearningRate, TrainingNet.Beta1, TrainingNet.Beta2, TrainingNet.Epsilon), loss);
        _batch = new Batch(data.InputsNhwc, [net.BatchSize, net.Height, net.Width, net.Channels], data.Targets, [net.BatchSize, 1]);
    }

    public IBackend Backend { get; }
    public Sequential Model { get; }
    public Batch Batch => _batch;

    /// <summary>One training step; returns the batch loss (before the update).</summary>
    public double Step() => Model.TrainOnBatch(_batch)["loss"];

    /// <summary>The batch loss in inference mode (no dropout, no update).</summary>
    public double InferenceLoss() => Model.TestOnBatch(_batch)["loss"];

    /// <summary>The net as our layers: Conv2D SAME + ReLU, MaxPool2D 2, Flatten, Dense, Dropout.</summary>
    public static Sequential Build(TrainingNet net, IBackend backend, ulong seed)
    {
        var model = new Sequential(name: net.Id, backend: backend, seed: seed) { new InputLayer(net.Height, net.Width, net.Channels) };
        foreach (var spec in net.Layers) model.Add(Layer(spec));
        return model;
    }

    /// <summary>One spec as our layer.</summary>
    public static Layer Layer(LayerSpec spec) => spec switch
    {
        ConvSpec c => new Conv2D(c.Filters, c.Kernel, padding: "same", activation: "relu"),
        PoolSpec => new MaxPool2D(2),
        FlattenSpec => new Flatten(),
        DenseSpec d => new Dense(d.Units, d.Activation),
        DropoutSpec d => new Dropout(d.Rate),
        _ => throw new ArgumentException($"No layer for {spec}."),
    };

    public void Dispose()
    {
        Model.Dispose();
        if (_ownsBackend) Backend.Dispose();
    }
}
