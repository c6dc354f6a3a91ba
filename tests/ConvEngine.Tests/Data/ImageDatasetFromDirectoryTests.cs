using ConvEngine.Data;
using ConvEngine.Data.Images;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

// Keras' image_dataset_from_directory (keras/utils/image_dataset.py and dataset_utils.py, v2.15) and
// keras-semantics.md A: classes from sorted sub-folders, label modes, validation split, shuffling, formats.
public class ImageDatasetFromDirectoryTests
{
    private TempImageTree tree = null!;

    [SetUp] public void CreateTree() => tree = new TempImageTree();
    [TearDown] public void DeleteTree() => tree.Dispose();

    // Three classes of 2x2 uniform images; the pixel value identifies the file: class k, image i → 10·(k+1) + i.
    private Dictionary<byte, int> ThreeClasses(int perClass = 4, string[]? names = null)
    {
        names ??= ["cat", "dog", "fox"];
        var classOfValue = new Dictionary<byte, int>();
        for (int k = 0; k < names.Length; k++)
        for (int i = 0; i < perClass; i++)
        {
            byte value = (byte)(10 * (k + 1) + i);
            tree.Uniform($"{names[k]}/img{i}.png", value);
            classOfValue[value] = k;
        }
        return classOfValue;
    }

    private static ImageDatasetOptions Small => new() { ImageSize = (2, 2), ColorMode = ColorMode.Grayscale, BatchSize = 3, Seed = 7 };

    // Each sample is uniform, so its first value names its file.
    private static List<byte> Values(Batch batch)
    {
        int size = batch.InputShape[1] * batch.InputShape[2] * batch.InputShape[3];
        return [.. Enumerable.Range(0, batch.Count).Select(i => (byte)batch.Inputs[i * size])];
    }

    private static List<byte> EpochValues(IBatchSource source, int epoch) => [.. source.GetBatches(epoch).SelectMany(Values)];

    [Test]
    public void ClassNames_AreSubfoldersInOrdinalOrder_HiddenFoldersIgnored()
    {
        // Python's sorted() compares code points, so "Zebra" (Z = 90) comes before "ant" (a = 97).
        tree.Uniform("ant/a.png", 1);
        tree.Uniform("Zebra/a.png", 2);
        tree.Uniform("bee/a.png", 3);
        tree.Uniform(".cache/a.png", 4);
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small);
        Assert.That(dataset.ClassNames, Is.EqualTo(new[] { "Zebra", "ant", "bee" }));
        Assert.That(dataset.SampleCount, Is.EqualTo(3));
    }

    [Test]
    public void ExplicitClassNames_SetTheLabelOrder()
    {
        var classOfValue = ThreeClasses(2);
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { ClassNames = ["fox", "cat", "dog"] });
        Assert.That(dataset.ClassNames, Is.EqualTo(new[] { "fox", "cat", "dog" }));
        foreach (var batch in dataset.GetBatches(0))
        {
            var values = Values(batch);
            for (int i = 0; i < batch.Count; i++)
                // Folder cat (index 0 of the sorted folders) is label 1 here, fox label 0.
                Assert.That(batch.Targets[i], Is.EqualTo(new[] { 1, 2, 0 }[classOfValue[values[i]]]));
        }
    }

    [Test]
    public void ClassNameThatIsNoFolder_Throws_ListingTheFolders()
    {
        ThreeClasses(1);
        var ex = Assert.Throws<ArgumentException>(() => new ImageDatasetFromDirectory(tree.Root, Small with { ClassNames = ["cat", "wolf"] }));
        Assert.That(ex!.Message, Does.Contain("wolf").And.Contain("cat, dog, fox"));
    }

    [Test]
    public void IntLabels_AreClassIndicesAsFloats_ShapeN1()
    {
        var classOfValue = ThreeClasses();
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small);
        Assert.That(dataset.ClassNames, Is.EqualTo(new[] { "cat", "dog", "fox" }));
        int seen = 0;
        foreach (var batch in dataset.GetBatches(0))
        {
            Assert.That(batch.TargetShape, Is.EqualTo(new[] { batch.Count, 1 }));
            var values = Values(batch);
            for (int i = 0; i < batch.Count; i++, seen++)
                Assert.That(batch.Targets[i], Is.EqualTo((float)classOfValue[values[i]]));
        }
        Assert.That(seen, Is.EqualTo(12));
    }

    [Test]
    public void CategoricalLabels_AreOneHot_ShapeNK()
    {
        var classOfValue = ThreeClasses();
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { LabelMode = LabelMode.Categorical });
        foreach (var batch in dataset.GetBatches(0))
        {
            Assert.That(batch.TargetShape, Is.EqualTo(new[] { batch.Count, 3 }));
            var values = Values(batch);
            for (int i = 0; i < batch.Count; i++)
            {
                var expected = new float[3];
                expected[classOfValue[values[i]]] = 1;
                Assert.That(batch.Targets.AsSpan(i * 3, 3).ToArray(), Is.EqualTo(expected));
            }
        }
    }

    [Test]
    public void BinaryLabels_AreZeroOrOne_ForTwoClasses()
    {
        var classOfValue = ThreeClasses(3, ["no", "yes"]);
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { LabelMode = LabelMode.Binary });
        var targets = dataset.GetBatches(0).SelectMany(b => Values(b).Zip(b.Targets)).ToList();
        Assert.That(targets, Has.Count.EqualTo(6));
        Assert.That(targets.Select(t => t.Second), Is.EqualTo(targets.Select(t => (float)classOfValue[t.First])));
        Assert.That(dataset.GetBatches(0).First().TargetShape[1], Is.EqualTo(1));
    }

    [Test]
    public void BinaryLabels_WithThreeClasses_Throw()
    {
        // image_dataset.py: 'When passing label_mode="binary", there must be exactly 2 class_names.'
        ThreeClasses(1);
        var ex = Assert.Throws<ArgumentException>(() => new ImageDatasetFromDirectory(tree.Root, Small with { LabelMode = LabelMode.Binary }));
        Assert.That(ex!.Message, Does.Contain("binary").And.Contain("exactly 2").And.Contain("found 3"));
    }

    [Test]
    public void NoLabels_IndexesTheWholeTree_WithEmptyTargets()
    {
        ThreeClasses(2);
        tree.Uniform("loose.png", 99);
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { LabelMode = LabelMode.None });
        Assert.That(dataset.ClassNames, Is.Empty);
        Assert.That(dataset.SampleCount, Is.EqualTo(7));
        Assert.That(dataset.GetBatches(0).All(b => b.Targets.Length == 0 && b.TargetShape[1] == 0));
    }

    [Test]
    public void Formats_AreMatchedCaseInsensitively_OtherFilesIgnored_SubfoldersWalked()
    {
        tree.Uniform("a/one.PNG", 1);
        tree.Uniform("a/deeper/two.png", 2);
        tree.Text("a/notes.txt", "not an image");
        tree.Text("a/data.png.bak", "not an image either");
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { Shuffle = false });
        Assert.That(dataset.FilePaths.Select(Path.GetFileName), Is.EqualTo(new[] { "one.PNG", "two.png" }));
    }

    [Test]
    public void NoShuffle_KeepsClassThenNameOrder_AndBatchesInOrder()
    {
        ThreeClasses(2);
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { Shuffle = false });
        Assert.That(EpochValues(dataset, 0), Is.EqualTo(new byte[] { 10, 11, 20, 21, 30, 31 }));
        Assert.That(EpochValues(dataset, 5), Is.EqualTo(EpochValues(dataset, 0)));
    }

    [Test]
    public void LastBatch_HoldsTheRemainder()
    {
        ThreeClasses(); // 12 images in batches of 5: 5, 5, 2
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { BatchSize = 5 });
        Assert.That(dataset.BatchCount, Is.EqualTo(3));
        Assert.That(dataset.GetBatches(0).Select(b => b.Count), Is.EqualTo(new[] { 5, 5, 2 }));
        Assert.That(dataset.GetBatches(0).First().InputShape, Is.EqualTo(new[] { 5, 2, 2, 1 }));
    }

    [Test]
    public void Shuffle_SameSeed_GivesTheSameOrder_DifferentSeedAnother()
    {
        ThreeClasses(6);
        var a = new ImageDatasetFromDirectory(tree.Root, Small with { Seed = 1 });
        var b = new ImageDatasetFromDirectory(tree.Root, Small with { Seed = 1 });
        var c = new ImageDatasetFromDirectory(tree.Root, Small with { Seed = 2 });
        Assert.That(a.FilePaths, Is.EqualTo(b.FilePaths));
        Assert.That(EpochValues(a, 3), Is.EqualTo(EpochValues(b, 3)));
        Assert.That(c.FilePaths, Is.Not.EqualTo(a.FilePaths));
        Assert.That(a.FilePaths, Is.EquivalentTo(c.FilePaths));
    }

    [Test]
    public void EachEpoch_VisitsEverySampleOnce_InANewOrder()
    {
        ThreeClasses(6);
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small);
        var epoch0 = EpochValues(dataset, 0);
        var epoch1 = EpochValues(dataset, 1);
        Assert.That(epoch1, Is.EquivalentTo(epoch0));
        Assert.That(epoch0, Is.Unique);
        Assert.That(epoch0, Has.Count.EqualTo(18));
        Assert.That(epoch1, Is.Not.EqualTo(epoch0));
        Assert.That(EpochValues(dataset, 0), Is.EqualTo(epoch0), "an epoch's order is a function of the seed and the epoch");
    }

    [Test]
    public void EpochShuffle_IsKerasBufferedShuffle_OfEightBatches()
    {
        // dataset.shuffle(buffer_size=batch_size * 8): a sample can move at most 8·batch − 1 places earlier.
        ThreeClasses(10); // 30 files, batch 2 → buffer 16
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { BatchSize = 2 });
        for (int epoch = 0; epoch < 5; epoch++)
        {
            var order = dataset.SampleOrder(epoch);
            for (int position = 0; position < order.Length; position++)
                Assert.That(order[position] - position, Is.LessThanOrEqualTo(15));
        }
    }

    [Test]
    public void ValidationSplit_SameSeed_GivesDisjointSubsets_CoveringAllFiles()
    {
        // get_training_or_validation_split: int(0.3 · 11) = 3 files for validation, the last 3 of the shuffled list.
        tree.Uniform("a/0.png", 0);
        ThreeClasses(5, ["b", "c"]);
        var options = Small with { ValidationSplit = 0.3, Seed = 1337 };
        var training = new ImageDatasetFromDirectory(tree.Root, options with { Subset = DatasetSubset.Training });
        var validation = new ImageDatasetFromDirectory(tree.Root, options with { Subset = DatasetSubset.Validation });
        Assert.That(training.SampleCount, Is.EqualTo(8));
        Assert.That(validation.SampleCount, Is.EqualTo(3));
        Assert.That(training.FilePaths.Intersect(validation.FilePaths), Is.Empty);
        Assert.That(training.FilePaths.Concat(validation.FilePaths), Is.EquivalentTo(Directory.EnumerateFiles(tree.Root, "*.png", SearchOption.AllDirectories)));
        Assert.That(EpochValues(training, 0).Concat(EpochValues(validation, 0)), Is.Unique);

        var (bothTraining, bothValidation) = ImageDatasetFromDirectory.Split(tree.Root, options);
        Assert.That(bothTraining.FilePaths, Is.EqualTo(training.FilePaths));
        Assert.That(bothValidation.FilePaths, Is.EqualTo(validation.FilePaths));
        Assert.That(training.Summary, Is.EqualTo("Found 11 files belonging to 3 classes. Using 8 files for training."));
    }

    [Test]
    public void ValidationSplit_WithShuffleButNoSeed_Throws()
    {
        // check_validation_split_arg: "If using `validation_split` and shuffling the data, you must provide a `seed`".
        ThreeClasses(2);
        var ex = Assert.Throws<ArgumentException>(() => new ImageDatasetFromDirectory(tree.Root,
            Small with { Seed = null, ValidationSplit = 0.5, Subset = DatasetSubset.Training }));
        Assert.That(ex!.Message, Does.Contain("seed"));
        Assert.Throws<ArgumentException>(() => new ImageDatasetFromDirectory(tree.Root, Small with { ValidationSplit = 0.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageDatasetFromDirectory(tree.Root,
            Small with { ValidationSplit = 1.0, Subset = DatasetSubset.Validation }));
    }

    [Test]
    public void RgbAndGrayscale_GiveThreeOrOneChannels()
    {
        // BT.601 luma as ImageIO documents it: 0.299·200 + 0.587·100 + 0.114·50 = 59.8 + 58.7 + 5.7 = 124.2 → 124.
        tree.Rgb("c/x.png", 2, 2, (_, _) => (200, 100, 50));
        var rgb = new ImageDatasetFromDirectory(tree.Root, Small with { ColorMode = ColorMode.Rgb });
        var gray = new ImageDatasetFromDirectory(tree.Root, Small);
        Assert.That(rgb.SampleShape, Is.EqualTo(new[] { 2, 2, 3 }));
        Assert.That(gray.SampleShape, Is.EqualTo(new[] { 2, 2, 1 }));
        Assert.That(rgb.GetBatches(0).Single().Inputs, Is.EqualTo(new float[] { 200, 100, 50, 200, 100, 50, 200, 100, 50, 200, 100, 50 }));
        Assert.That(gray.GetBatches(0).Single().Inputs, Is.EqualTo(new float[] { 124, 124, 124, 124 }));
    }

    [Test]
    public void ImagesAreResizedToImageSize_WithTheChosenInterpolation()
    {
        // The 2x2 image 10 20 / 30 40 upsampled to 4x4: the values worked out in ResizeTests.
        byte[,] pixels = { { 10, 20 }, { 30, 40 } };
        tree.Rgb("c/x.png", 2, 2, (y, x) => (pixels[y, x], pixels[y, x], pixels[y, x]));
        var nearest = new ImageDatasetFromDirectory(tree.Root, Small with { ImageSize = (4, 4), Interpolation = Interpolation.Nearest });
        var bilinear = new ImageDatasetFromDirectory(tree.Root, Small with { ImageSize = (4, 4) });
        Assert.That(nearest.GetBatches(0).Single().Inputs,
            Is.EqualTo(new float[] { 10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40 }));
        Assert.That(bilinear.GetBatches(0).Single().Inputs,
            Is.EqualTo(new float[] { 10, 12.5f, 17.5f, 20, 15, 17.5f, 22.5f, 25, 25, 27.5f, 32.5f, 35, 30, 32.5f, 37.5f, 40 }));
    }

    [Test]
    public void EmptyClassFolder_Throws_NamingIt()
    {
        ThreeClasses(1);
        tree.Folder("empty_class");
        tree.Text("empty_class/readme.txt", "no images here");
        var ex = Assert.Throws<InvalidDataException>(() => new ImageDatasetFromDirectory(tree.Root, Small));
        Assert.That(ex!.Message, Does.Contain(tree.PathOf("empty_class")));
    }

    [Test]
    public void DirectoryWithoutImages_Throws()
    {
        tree.Text("readme.txt", "nothing");
        var ex = Assert.Throws<InvalidDataException>(() => new ImageDatasetFromDirectory(tree.Root, Small));
        Assert.That(ex!.Message, Does.Contain(tree.Root));
        Assert.Throws<InvalidDataException>(() => new ImageDatasetFromDirectory(tree.Root, Small with { LabelMode = LabelMode.None }));
        Assert.Throws<DirectoryNotFoundException>(() => new ImageDatasetFromDirectory(tree.PathOf("missing"), Small));
    }

    [Test]
    public void CorruptImage_ThrowsImageLoadException_NamingTheFile_ThroughThePrefetcher()
    {
        ThreeClasses(2);
        string corrupt = tree.Text("dog/broken.png", "this is not a PNG");
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { Shuffle = false, BatchSize = 2 });
        var batches = new List<Batch>();
        // Sorted order: cat 0, cat 1 | dog broken, dog 0 | ...: the first batch arrives, the second fails.
        var ex = Assert.Throws<ImageLoadException>(() => { foreach (var b in dataset.GetBatches(0)) batches.Add(b); });
        Assert.That(ex!.Message, Does.Contain(corrupt));
        Assert.That(batches, Has.Count.EqualTo(1));
    }

    [Test]
    public void CorruptImage_InSkipMode_IsLeftOutWithAWarning()
    {
        ThreeClasses(2);
        string corrupt = tree.Text("dog/broken.jpg", "this is not a JPEG");
        var warnings = new List<string>();
        var dataset = new ImageDatasetFromDirectory(tree.Root, Small with { OnBadImage = BadImagePolicy.Skip, Warning = warnings.Add });
        Assert.That(dataset.SampleCount, Is.EqualTo(6));
        Assert.That(dataset.SkippedFiles, Is.EqualTo(new[] { corrupt }));
        Assert.That(dataset.FilePaths, Does.Not.Contain(corrupt));
        Assert.That(warnings, Has.Count.EqualTo(1).And.Some.Contain(corrupt));
        Assert.That(EpochValues(dataset, 0), Has.Count.EqualTo(6));
    }

    // The cache keeps the smaller of decoded and resized: size 4 stores the 3x3 originals, size 2 the resized ones.
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(2)]
    public void CachedImages_AreServedWithoutTheFiles_AtAnySize(int size)
    {
        for (int k = 0; k < 4; k++)
            tree.Rgb($"c{k % 2}/{k}.png", 3, 3, (y, x) => ((byte)(k * 50 + y * 3 + x), (byte)(k * 50 + y * 3 + x), 0));
        var options = Small with { ImageSize = (size, size), ColorMode = ColorMode.Rgb };
        var expected = new ImageDatasetFromDirectory(tree.Root, options).GetBatches(1).Select(b => b.Inputs).ToList();
        var cached = new ImageDatasetFromDirectory(tree.Root, options with { CacheImages = true });
        Assert.That(cached.GetBatches(0).Count(), Is.EqualTo(2));
        foreach (var file in cached.FilePaths)
            File.Delete(file);
        Assert.That(cached.GetBatches(1).Select(b => b.Inputs), Is.EqualTo(expected));
    }

    [Test]
    public void ParallelDecoding_GivesTheSameBatches()
    {
        ThreeClasses(5);
        var serial = new ImageDatasetFromDirectory(tree.Root, Small);
        var parallel = new ImageDatasetFromDirectory(tree.Root, Small with { DecodeThreads = 3 });
        var a = serial.GetBatches(2).ToList();
        var b = parallel.GetBatches(2).ToList();
        Assert.That(b.Select(x => x.Inputs), Is.EqualTo(a.Select(x => x.Inputs)));
        Assert.That(b.Select(x => x.Targets), Is.EqualTo(a.Select(x => x.Targets)));
    }
}
