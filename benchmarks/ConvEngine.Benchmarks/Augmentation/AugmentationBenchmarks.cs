using BenchmarkDotNet.Attributes;
using ConvEngine.Benchmarks.Training;
using ConvEngine.Import.Applications;
using ConvEngine.Import.Transfer;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Losses;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;

namespace ConvEngine.Benchmarks.Augmentation;

/// <summary>
/// What augmentation costs next to the training step it precedes (issue budget: at most 5 %), side by side in one run on
/// the `cpu` backend: the step without augmentation (the baseline), the same step with the layers in the model after
/// its input (what `train --augment` runs), and the layers alone on the batch in training mode. The Ratio column of
/// "augmentation alone" is its share of the step. Cases: c28 = the course's convnet on the bundled 28×28×1 sample,
/// c128 = the same at 128×128×3, r18 = a frozen ResNet18 with a Dense head at 224×224×3 (when its NuGet package is
/// present); flipcontrast = RandomFlip('horizontal'), RandomContrast(0.5); courselist = the course's wider list.
/// </summary>
[BenchmarkCategory("augmentation")]
public class AugmentationBenchmarks
{
    private IBackend? _backend;
    private Model? _plain, _augmented;
    private AugmentationPipeline? _pipeline;
    private Batch? _batch;
    private Tensor? _images;
    private ulong _step;

    public static IEnumerable<AugmentationCase> Cases => AugmentationCase.All;

    [ParamsSource(nameof(Cases))]
    public AugmentationCase Case { get; set; } = null!;

    [GlobalSetup]
    public void SetUp()
    {
        _backend = new CpuBackend(BenchmarkThreads.Count);
        var data = new TrainingData(Case.Net);
        // Pixels in [0, 255], as the loaders give them (the contrast clip then matters).
        var pixels = data.InputsNhwc.Select(v => v * 255).ToArray();
        _batch = new Batch(pixels, [Case.Net.BatchSize, Case.Net.Height, Case.Net.Width, Case.Net.Channels], data.Targets, [Case.Net.BatchSize, 1]);
        _plain = Case.Build(_backend, null);
        _augmented = Case.Build(_backend, Case.Layers());
        _pipeline = new AugmentationPipeline(Case.Layers(), [Case.Net.Height, Case.Net.Width, Case.Net.Channels], _backend);
        _images = Tensor.FromArray(_backend, pixels, _batch.InputShape);
        Console.WriteLine($"// {Case}: {_backend.Device.Parallelism}; layers {string.Join(", ", _pipeline.Layers.Select(l => l.ClassName))}");
    }

    [Benchmark(Baseline = true, Description = "training step")]
    public double TrainingStep() => _plain!.TrainOnBatch(_batch!)["loss"];

    [Benchmark(Description = "training step with augmentation")]
    public double AugmentedTrainingStep() => _augmented!.TrainOnBatch(_batch!)["loss"];

    /// <summary>A new draw every call, as every training step makes; the batch is already on the backend.</summary>
    [Benchmark(Description = "augmentation alone")]
    public long AugmentationAlone() => _pipeline!.Run(_images!, training: true, seed: ++_step).Length;

    [GlobalCleanup]
    public void CleanUp()
    {
        _plain?.Dispose();
        _augmented?.Dispose();
        _pipeline?.Dispose();
        _images?.Dispose();
        _backend?.Dispose();
    }
}

/// <summary>A net, its batch and the augmentation before it.</summary>
public sealed record AugmentationCase(string Id, TrainingNet Net, string LayersText, Func<Layer[]> Layers, bool Transfer = false)
{
    /// <summary>The course's two augmentations: the lesson's model, and its wider list (RandomWidth left out: the convnet flattens).</summary>
    private static Layer[] FlipContrast() => [new RandomFlip("horizontal"), new RandomContrast(0.5)];
    private static Layer[] CourseList() =>
        [new RandomContrast(0.5), new RandomFlip("horizontal"), new RandomFlip("vertical"), new RandomRotation(0.2), new RandomTranslation(0.1, 0.1)];

    /// <summary>The course's custom convnet on the bundled 28×28 grey sample (batch 64).</summary>
    public static TrainingNet Course28 { get; } = TrainingNet.Custom128 with { Id = "course-28", Title = "Course custom convnet, 28x28x1, binary", Height = 28, Width = 28, Channels = 1 };

    /// <summary>A frozen ResNet18 (ImageNet, from NuGet) with a Dense 256 head at 224×224×3, batch 16: the course's transfer setting.</summary>
    public static TrainingNet ResNet224 { get; } = new("resnet18-224", "Frozen ResNet18 + dense head, 224x224x3", 224, 224, 3, [], TrainingLoss.BinaryCrossentropy, BatchSize: 16);

    public static IReadOnlyList<AugmentationCase> All { get; } = Available().ToList();

    private static IEnumerable<AugmentationCase> Available()
    {
        yield return new("c28-flipcontrast", Course28, "RandomFlip('horizontal'), RandomContrast(0.5)", FlipContrast);
        yield return new("c28-courselist", Course28, "contrast, h/v flips, rotation 0.2, translation 0.1", CourseList);
        yield return new("c128-flipcontrast", TrainingNet.Custom128, "RandomFlip('horizontal'), RandomContrast(0.5)", FlipContrast);
        yield return new("c128-courselist", TrainingNet.Custom128, "contrast, h/v flips, rotation 0.2, translation 0.1", CourseList);
        bool resnet;
        try { resnet = File.Exists(ResNet18Files.Locate().Model); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { resnet = false; }
        if (resnet) yield return new("r18-flipcontrast", ResNet224, "RandomFlip('horizontal'), RandomContrast(0.5)", FlipContrast, Transfer: true);
    }

    /// <summary>The net compiled with Adam and its loss, with <paramref name="augmentation"/> after the input when given.</summary>
    public Model Build(IBackend backend, Layer[]? augmentation)
    {
        if (Transfer)
        {
            var @base = TransferBases.Create("resnet18", null, null, backend, 42);
            var transfer = TransferModel.Create(@base, HeadSpec.Parse("dense:256"), 2, 42, augmentation);
            transfer.CompileFull(1e-3);
            return transfer.Full;
        }
        var model = new Sequential(name: Net.Id, backend: backend, seed: 42) { new InputLayer(Net.Height, Net.Width, Net.Channels) };
        foreach (var layer in augmentation ?? []) model.Add(layer);
        model.Add(new Rescaling(1 / 255.0));
        foreach (var spec in Net.Layers) model.Add(OurTrainingStep.Layer(spec));
        model.Compile(new Adam(TrainingNet.LearningRate, TrainingNet.Beta1, TrainingNet.Beta2, TrainingNet.Epsilon), new BinaryCrossentropy());
        return model;
    }

    public override string ToString() => Id;
}
