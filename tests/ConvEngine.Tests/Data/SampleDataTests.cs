using ConvEngine.Data;
using ConvEngine.Data.Idx;
using ConvEngine.Data.Images;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

public class SampleDataTests
{
    [Test]
    public void BundledShoes_HaveTwoClassesWithTheDocumentedCounts()
    {
        string root = SampleData.FindDefault();
        var options = new ImageDatasetOptions { ImageSize = (28, 28), ColorMode = ColorMode.Grayscale, Shuffle = false };
        var train = new ImageDatasetFromDirectory(Path.Combine(root, "train"), options);
        var valid = new ImageDatasetFromDirectory(Path.Combine(root, "valid"), options);
        Assert.That(train.ClassNames, Is.EqualTo(new[] { "ankle_boot", "sneaker" }));
        Assert.That(valid.ClassNames, Is.EqualTo(new[] { "ankle_boot", "sneaker" }));
        Assert.That(train.Labels.CountBy(l => l).OrderBy(g => g.Key).Select(g => g.Value), Is.EqualTo(new[] { 1000, 1000 }));
        Assert.That(valid.Labels.CountBy(l => l).OrderBy(g => g.Key).Select(g => g.Value), Is.EqualTo(new[] { 250, 250 }));
        // The images are real pictures, not blank: a few hundred pixels each and both dark and bright ones.
        var first = train.GetBatches(0).First();
        Assert.That(first.Inputs.Min(), Is.EqualTo(0f));
        Assert.That(first.Inputs.Max(), Is.GreaterThan(200f));
    }

    [Test]
    public void BundledShoes_ArePixelForPixelTheFashionMnistImages()
    {
        FashionMnistTests.RequireInstalled();
        var data = FashionMnistTests.Installed;
        string root = SampleData.FindDefault();
        foreach (var (folder, split, label) in new[] { ("train/sneaker", data.Train, 7), ("valid/ankle_boot", data.Test, 9) })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder)).Take(50))
            {
                // train-00132.png is image 132 of the split's file.
                int index = int.Parse(Path.GetFileNameWithoutExtension(file).Split('-')[1]);
                Assert.That(split.Labels[index], Is.EqualTo(label), file);
                var image = ImageIO.Load(file, ColorMode.Grayscale);
                Assert.That(image.Pixels, Is.EqualTo(split.Image(index).ToArray().Select(b => (float)b)), file);
            }
    }

    [Test]
    public void Export_WithTheBundledSeed_ReproducesBundledFilesByteForByte()
    {
        FashionMnistTests.RequireInstalled();
        // The exporter keeps the first k of one seeded permutation per class and split, so a smaller export
        // is a subset of the bundled one (the full export of 2,500 files takes too long for the suite).
        using var tree = new TempImageTree();
        int written = SampleDataExporter.Export(FashionMnist.DefaultDirectory, tree.Root, SampleDataExporter.ShoeClasses,
                                                trainPerClass: 20, validPerClass: 5, SampleDataExporter.ShoesSeed);
        Assert.That(written, Is.EqualTo(50));
        string bundled = SampleData.FindDefault();
        foreach (var file in Directory.EnumerateFiles(tree.Root, "*.png", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(tree.Root, file);
            string committed = Path.Combine(bundled, relative);
            Assert.That(File.Exists(committed), relative);
            Assert.That(File.ReadAllBytes(file), Is.EqualTo(File.ReadAllBytes(committed)), relative);
        }
    }

    [Test]
    public void Find_UnknownDataset_Throws_NamingIt()
    {
        var ex = Assert.Throws<DirectoryNotFoundException>(() => SampleData.Find("no-such-dataset"));
        Assert.That(ex!.Message, Does.Contain("no-such-dataset"));
    }
}
