using ConvEngine.Data;
using ConvEngine.Data.Images;
using ConvEngine.Import.Transfer;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Cli;
using NUnit.Framework;

namespace ConvEngine.Tests.Transfer;

/// <summary>An identity layer that counts the samples passing forward through it: how often a base really runs.</summary>
internal sealed class CountingIdentity(string? name = null) : Layer(name)
{
    public int SamplesSeen { get; private set; }
    public override string ClassName => "CountingIdentity";
    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs) => SingleInput(inputs).Shape;

    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        SamplesSeen += inputs[0].Shape[0];
        return inputs[0];
    }

    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) => [needInputGradient[0] ? gradOutput : null];
}

/// <summary>
/// Keras's transfer-learning recipe on a tiny base: a frozen base runs once per image however many epochs the head
/// trains, its features can be cached on disk, its weights do not move while the head trains, and --unfreeze-top
/// trains only the top block.
/// </summary>
[NonParallelizable]
public class TransferLearningTests
{
    private const int ImageSize = 8;
    private SyntheticImages _images = null!;
    private string _data = null!;
    private CpuBackend _cpu = null!;

    [OneTimeSetUp]
    public void WriteImages()
    {
        _images = new SyntheticImages();
        _data = _images.TrainValid(["bright", "dark"]);   // 16 + 16 training, 4 + 4 validation images, 12×12 grey
        _cpu = new CpuBackend(threads: 2);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _images.Dispose();
        _cpu.Dispose();
    }

    /// <summary>A base in Keras's naming: preprocessing, a counter, block1 (conv, pool) and block2 (conv), global pooling.</summary>
    private (TransferBase Base, CountingIdentity Counter) TinyBase(ulong seed = 3)
    {
        var input = new InputLayer([ImageSize, ImageSize, 3], "image");
        var preprocessing = new ImagePreprocessing(reverseChannels: true, scale: 1 / 255.0, [3], "preprocessing");
        var counter = new CountingIdentity("counter");
        SymbolicTensor x = counter.Apply(preprocessing.Apply(input));
        x = new Conv2D(4, 3, activation: "relu", name: "block1_conv1").Apply(x);
        x = new MaxPool2D(name: "block1_pool").Apply(x);
        x = new Conv2D(6, 3, padding: "same", activation: "relu", name: "block2_conv1").Apply(x);
        x = new GlobalAveragePooling2D("gap").Apply(x);
        var model = new Model(input, x, "tiny", _cpu, seed);
        model.Initialize();
        preprocessing.Mean!.Assign(_cpu, [0.1f, 0.2f, 0.3f]);
        return (new TransferBase("tiny", model, pretrained: false, "random (test)"), counter);
    }

    private ImageDatasetFromDirectory Images(string split, LabelMode labelMode = LabelMode.Binary) =>
        new(Path.Combine(_data, split), new ImageDatasetOptions
        {
            ImageSize = (ImageSize, ImageSize), ColorMode = ColorMode.Rgb, LabelMode = labelMode, BatchSize = 8, Seed = 5, Shuffle = split == "train",
        });

    private static float[][] Weights(IEnumerable<Parameter> parameters) => parameters.Select(p => p.ToArray()).ToArray();

    [Test]
    public void FrozenBase_RunsOncePerImage_NotOncePerEpoch_WhileTheHeadTrainsOnItsFeatures()
    {
        var (tiny, counter) = TinyBase();
        using var transfer = TransferModel.Create(tiny, HeadSpec.Parse("dense:8"), classCount: 2, seed: 1);
        var train = FeatureCache.Extract(tiny, Images("train"), batchSize: 8);
        var valid = FeatureCache.Extract(tiny, Images("valid"), batchSize: 8);
        Assert.That(counter.SamplesSeen, Is.EqualTo(32 + 8), "each image once");
        Assert.That(train.FeatureShape, Is.EqualTo(new[] { 6 }));

        transfer.CompileHead(1e-2);
        var history = transfer.TrainHead(train, valid, epochs: 3, batchSize: 8, seed: 1);

        Assert.That(history.Count, Is.EqualTo(3));
        Assert.That(counter.SamplesSeen, Is.EqualTo(40), "three epochs of head training did not run the base again");
    }

    [Test]
    public void FeatureCacheOnDisk_IsReadBackWithoutRunningTheBase_AndMissedWhenTheBaseWeightsDiffer()
    {
        string cache = _images.PathOf("feature-cache-" + Guid.NewGuid().ToString("N"));
        var (tiny, counter) = TinyBase(seed: 3);
        var first = FeatureCache.Extract(tiny, Images("valid"), cache);
        Assert.That(counter.SamplesSeen, Is.EqualTo(8));
        Assert.That(Directory.GetFiles(cache, "*.safetensors"), Has.Length.EqualTo(1));

        var again = FeatureCache.Extract(tiny, Images("valid"), cache);
        Assert.That(counter.SamplesSeen, Is.EqualTo(8), "the second run read the cache");
        Assert.That(again.Features, Is.EqualTo(first.Features));
        Assert.That(again.Labels, Is.EqualTo(first.Labels));

        var (other, otherCounter) = TinyBase(seed: 4);   // same architecture, other weights: another fingerprint
        FeatureCache.Extract(other, Images("valid"), cache);
        Assert.That(otherCounter.SamplesSeen, Is.EqualTo(8), "a base with other weights does not read the first base's features");
        Assert.That(Directory.GetFiles(cache, "*.safetensors"), Has.Length.EqualTo(2));
    }

    [Test]
    public void TrainingTheWholeModel_WithTheBaseFrozen_LeavesEveryBaseWeightUnchanged_AndMovesTheHead()
    {
        var (tiny, _) = TinyBase();
        using var transfer = TransferModel.Create(tiny, HeadSpec.Parse("dense:8,dropout:0.25"), classCount: 2, seed: 1);
        transfer.CompileFull(1e-2);
        var baseBefore = Weights(tiny.Model.Parameters);
        var headBefore = Weights(transfer.Head.Parameters);

        transfer.Full.Fit(Images("train"), epochs: 2);

        Assert.That(Weights(tiny.Model.Parameters), Is.EqualTo(baseBefore), "a frozen base (Keras's trainable = False) does not change");
        Assert.That(Weights(transfer.Head.Parameters), Is.Not.EqualTo(headBefore), "the head trained");
        Assert.That(transfer.Full.TrainableParameterCount, Is.EqualTo(transfer.Head.ParameterCount));
    }

    [Test]
    public void UnfreezeTop1_TrainsTheTopBlockAndTheHead_AndLeavesTheBlockBelowAsItWas()
    {
        var (tiny, _) = TinyBase();
        using var transfer = TransferModel.Create(tiny, HeadSpec.Parse("dense:8"), classCount: 2, seed: 1);
        var unfrozen = transfer.UnfreezeTop(1);
        Assert.That(unfrozen.Select(b => b.Name), Is.EqualTo(new[] { "block2" }));
        transfer.CompileFull(1e-2);
        var block1 = tiny.Model.GetLayer("block1_conv1").Parameters;
        var block2 = tiny.Model.GetLayer("block2_conv1").Parameters;
        var (block1Before, block2Before) = (Weights(block1), Weights(block2));

        transfer.Full.Fit(Images("train"), epochs: 1);

        Assert.That(Weights(block1), Is.EqualTo(block1Before));
        Assert.That(Weights(block2), Is.Not.EqualTo(block2Before));
    }

    // Keras's applications name layers block1_conv1 … blockN_pool: a block is one prefix. The preprocessing layer belongs to none.
    [Test]
    public void Blocks_OfKerasNamedLayers_GroupByPrefix()
    {
        var (tiny, _) = TinyBase();
        var blocks = ModelBlocks.Of(tiny.Model);
        Assert.That(blocks.Select(b => b.Name), Is.EqualTo(new[] { "block1", "block2" }));
        Assert.That(blocks[0].Layers.Select(l => l.Name), Is.EqualTo(new[] { "block1_conv1", "block1_pool" }));
    }

    // Without such names a graph is cut at the input of each residual block, the one tensor that feeds both the block's
    // conv and its skip connection: a stem, then one block per residual Add.
    [Test]
    public void Blocks_OfAResidualGraph_StartWhereTheSkipConnectionForks()
    {
        var input = new InputLayer([6, 6, 2], "x");
        var a = new Conv2D(3, 3, padding: "same", name: "a").Apply(input);
        var s1 = new Add("s1").Apply(a, new Conv2D(3, 3, padding: "same", name: "b1").Apply(a));
        var s2 = new Add("s2").Apply(s1, new Conv2D(3, 3, padding: "same", name: "b2").Apply(s1));
        var c = new Conv2D(2, 1, name: "c").Apply(s2);
        using var model = new Model(input, c, "residual", _cpu, 1);

        var blocks = ModelBlocks.Of(model);

        Assert.That(blocks.Select(bl => string.Join("+", bl.Layers.Select(l => l.Name))), Is.EqualTo(new[] { "a", "b1+s1", "b2+s2+c" }));
        Assert.That(blocks.Select(bl => bl.Name), Is.EqualTo(new[] { "stem", "block1", "block2" }));
    }

    // A chain without forks or Keras names: every layer with weights is a block.
    [Test]
    public void Blocks_OfAPlainChain_AreItsWeightedLayers()
    {
        var input = new InputLayer([6, 6, 2], "x");
        var x = new Conv2D(3, 3, name: "first").Apply(input);
        x = new MaxPool2D(name: "pool").Apply(x);
        x = new Conv2D(2, 1, name: "second").Apply(x);
        using var model = new Model(input, x, "chain", _cpu, 1);
        Assert.That(ModelBlocks.Of(model).Select(bl => string.Join("+", bl.Layers.Select(l => l.Name))), Is.EqualTo(new[] { "first", "pool+second" }));
    }

    // The Keras-application bases start with their preprocessing layer and end in global pooling: VGG16's 512 features
    // ("caffe": BGR minus the ImageNet means), InceptionV1's 1024 (x/127.5 − 1); both random here, and say so.
    [TestCase("vgg16", 512, true)]
    [TestCase("inceptionv1", 1024, false)]
    public void KerasApplicationBases_TakeRgbPixels_AndGivePooledFeatures(string name, int features, bool reverse)
    {
        var built = TransferBases.Create(name, weights: null, imageSize: (64, 64), _cpu, seed: 1);
        using var model = built.Model;
        Assert.That(model.InputShape, Is.EqualTo(new[] { 64, 64, 3 }));
        Assert.That(built.FeatureShape, Is.EqualTo(new[] { features }));
        Assert.That(built.Pretrained, Is.False);
        Assert.That(built.WeightsDescription, Does.Contain("random initialisation"));
        var preprocessing = (ImagePreprocessing)model.Layers[1];
        Assert.That(preprocessing.ReverseChannels, Is.EqualTo(reverse));
        Assert.That(preprocessing.Mean!.ToArray(), Is.EqualTo(reverse ? new[] { 103.939f, 116.779f, 123.68f } : new[] { 1f, 1f, 1f }));
        Assert.That(ModelBlocks.Of(model).Select(b => b.Name).Last(), Is.EqualTo(reverse ? "block5" : "Mixed_5c"));
    }

    [Test]
    public void HeadSpec_BuildsFlattenDenseDropout_AndTheOutputLayerForTheClassCount()
    {
        var features = new InputLayer([2, 2, 8], "features");
        var output = HeadSpec.Parse("dense:16, dropout:0.25").Apply(features, classCount: 3);
        using var head = new Model(features, output, "head", _cpu, 1);
        Assert.That(head.Layers.Skip(1).Select(l => l.ClassName), Is.EqualTo(new[] { "Flatten", "Dense", "Dropout", "Dense" }));
        var predictions = (Dense)head.GetLayer("predictions");
        Assert.That((predictions.Units, predictions.Activation.Name), Is.EqualTo((3, "softmax")));
        Assert.That(((Dense)head.GetLayer("head_dense_2")).Activation.Name, Is.EqualTo("relu"));

        var binary = new InputLayer([5], "f");
        using var sigmoid = new Model(binary, HeadSpec.Parse("").Apply(binary, classCount: 2), "binary", _cpu, 1);
        Assert.That(((Dense)sigmoid.GetLayer("predictions")).Activation.Name, Is.EqualTo("sigmoid"), "two classes: one sigmoid unit");
    }

    [TestCase("dense:x", "units must be a positive integer")]
    [TestCase("conv:3", "not understood")]
    [TestCase("dropout:1.5", "rate must be in [0, 1)")]
    [TestCase("dense:8:hard_tanh", "unknown activation 'hard_tanh'")]
    public void HeadSpec_BadItem_IsRefusedNamingIt(string text, string why) =>
        Assert.That(() => HeadSpec.Parse(text), Throws.TypeOf<FormatException>().With.Message.Contains($"'{text}'").And.Message.Contains(why));

    // y = reorder(x)·scale − mean, with reorder RGB → BGR: computed here pixel by pixel from the definition.
    [TestCase(false)]
    [TestCase(true)]
    public void ImagePreprocessing_ReversesScalesAndSubtractsTheMean(bool meanImage)
    {
        TransferLayers.Register();
        const int h = 2, w = 3;
        var input = new InputLayer([h, w, 3], "rgb");
        int[] meanShape = meanImage ? [h, w, 3] : [3];
        var layer = new ImagePreprocessing(reverseChannels: true, scale: 0.5, meanShape, "prep");
        using var model = new Model(input, layer.Apply(input), "prep_model", _cpu, 1);
        var mean = Enumerable.Range(0, meanShape.Aggregate(1, (p, d) => p * d)).Select(i => 10f + 3 * i).ToArray();
        model.Initialize();
        layer.Mean!.Assign(_cpu, mean);
        var x = Enumerable.Range(0, 2 * h * w * 3).Select(i => (float)(i * 7 % 23)).ToArray();

        var y = model.Predict(x, batchSize: 2);

        for (int n = 0; n < 2; n++)
            for (int p = 0; p < h * w; p++)
                for (int c = 0; c < 3; c++)
                {
                    float m = meanImage ? mean[p * 3 + c] : mean[c];
                    float expected = x[(n * h * w + p) * 3 + (2 - c)] * 0.5f - m;
                    Assert.That(y[(n * h * w + p) * 3 + c], Is.EqualTo(expected).Within(1e-5), $"sample {n} pixel {p} channel {c}");
                }

        // Saved and loaded, as a transfer model is: the mean is a weight of the model.
        string folder = _images.PathOf("prep-" + Guid.NewGuid().ToString("N"));
        model.Save(folder);
        using var loaded = Model.Load(folder, _cpu);
        Assert.That(loaded.Predict(x, batchSize: 2), Is.EqualTo(y));
        Assert.That(loaded.TrainableParameterCount, Is.EqualTo(0));
    }
}
