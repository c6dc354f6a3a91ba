using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

/// <summary>
/// The same seeded model trained on two backends (cpu and ILGPU's CPU accelerator, which runs the CUDA/OpenCL
/// kernels): the layers, graph and optimizer code are shared, so the losses may differ only by float rounding.
/// </summary>
public class CrossBackendTrainingTests
{
    private static History Train(IBackend backend)
    {
        using var model = new Sequential(backend: backend, seed: 31)
        {
            new InputLayer([6, 6, 2], "img"),
            new Conv2D(3, 3, padding: "same", activation: "relu", name: "conv"),
            new MaxPool2D(name: "pool"),
            new Flatten(name: "flat"),
            new Dropout(0.2, name: "drop"),
            new Dense(3, activation: "softmax", name: "probs"),
        };
        model.Compile(new Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"]);
        var data = MemoryBatches.Split(TestData.Uniform(8 * 72, 3), [6, 6, 2], [0, 1, 2, 0, 1, 2, 0, 1], [1], 4);
        return model.Fit(data, data, epochs: 2);
    }

    [Test]
    public void Cpu_And_IlgpuCpu_TrainTheSameModel_ToTheSameLosses()
    {
        using var cpu = Backends.Create("cpu");
        using var ilgpu = Backends.Create("ilgpu-cpu");
        var a = Train(cpu);
        var b = Train(ilgpu);
        foreach (var key in a.Keys) Assert.That(b[key], Is.EqualTo(a[key]).Within(1e-4).Percent, key);
    }
}
