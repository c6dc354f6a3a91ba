using ConvEngine.Data.Idx;
using ConvEngine.Data.Images;
using ConvEngine.Kernels;

namespace ConvEngine.Data;

/// <summary>A Fashion-MNIST class to export and the folder name its images go to.</summary>
public sealed record SampleClass(int Label, string Folder);

/// <summary>
/// Makes the bundled sample dataset: a few Fashion-MNIST classes written as image folders
/// (<c>train/&lt;class&gt;/*.png</c> from the training split, <c>valid/&lt;class&gt;/*.png</c> from the test split),
/// the layout <see cref="ImageDatasetFromDirectory"/> reads. The same inputs always give the same files.
/// </summary>
public static class SampleDataExporter
{
    /// <summary>The classes of the bundled <c>fashion-mnist-shoes</c> folder.</summary>
    public static readonly IReadOnlyList<SampleClass> ShoeClasses = [new(9, "ankle_boot"), new(7, "sneaker")];
    /// <summary>Training images per class in the bundled folder.</summary>
    public const int ShoesTrainPerClass = 1000;
    /// <summary>Validation images per class in the bundled folder.</summary>
    public const int ShoesValidPerClass = 250;
    /// <summary>Seed of the selection of the bundled images.</summary>
    public const int ShoesSeed = 20170825;  // Fashion-MNIST's release date

    /// <summary>Re-creates the bundled <c>fashion-mnist-shoes</c> folder's contents in <paramref name="outDir"/>.</summary>
    public static int ExportShoes(string idxDir, string outDir) =>
        Export(idxDir, outDir, ShoeClasses, ShoesTrainPerClass, ShoesValidPerClass, ShoesSeed);

    /// <summary>
    /// Writes <paramref name="trainPerClass"/> training and <paramref name="validPerClass"/> test images of each class,
    /// chosen at random with <paramref name="seed"/>, as 8-bit greyscale PNGs named by split and source index
    /// (e.g. <c>train/sneaker/train-00042.png</c> is image 42 of the training file). Refuses to write into a class
    /// folder that already holds images. Returns the number of files written.
    /// </summary>
    public static int Export(string idxDir, string outDir, IReadOnlyList<SampleClass> classes, int trainPerClass, int validPerClass, int seed)
    {
        if (classes.Count == 0 || classes.Select(c => c.Folder).Distinct().Count() != classes.Count)
            throw new ArgumentException($"SampleDataExporter: give one or more classes with distinct folder names, got [{string.Join(", ", classes)}].");
        var data = FashionMnist.Load(idxDir);
        int written = 0;
        foreach (var (split, images, perClass) in new[] { ("train", data.Train, trainPerClass), ("valid", data.Test, validPerClass) })
        {
            string sourceName = split == "train" ? "train" : "test";
            foreach (var cls in classes)
            {
                var candidates = images.IndicesOf(cls.Label);
                if (candidates.Length < perClass)
                    throw new ArgumentException($"SampleDataExporter: the {sourceName} split has {candidates.Length} images of label {cls.Label}, fewer than {perClass}.");
                // One stream per (split, class): the choice for one class does not depend on the others.
                SeededShuffle.Permute<int>(candidates, CounterRng.Hash((ulong)seed, (ulong)(cls.Label * 2 + (split == "train" ? 0 : 1))));
                var chosen = candidates[..perClass];
                Array.Sort(chosen);

                string folder = Path.Combine(outDir, split, cls.Folder);
                if (Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any(f => ImageDirectoryIndex.IsImageFile(f)))
                    throw new IOException($"SampleDataExporter: '{folder}' already holds images; delete it first.");
                foreach (int index in chosen)
                {
                    GrayPng.Save(Path.Combine(folder, $"{sourceName}-{index:D5}.png"), images.Image(index), images.Height, images.Width);
                    written++;
                }
            }
        }
        return written;
    }
}
