namespace ConvEngine.Data.Idx;

/// <summary>Greyscale images with class labels, as bytes: (Count, Height, Width) pixels in [0, 255], row-major.</summary>
public sealed record LabeledImages(byte[] Pixels, byte[] Labels, int Count, int Height, int Width, IReadOnlyList<string> ClassNames)
{
    /// <summary>
    /// An <see cref="ArrayBatchSource"/> over these images, samples shaped (Height, Width, 1); pixels are multiplied by
    /// <paramref name="scale"/> (1 keeps [0, 255], as image folders give; 1/255 gives [0, 1]).
    /// </summary>
    public ArrayBatchSource ToBatchSource(int batchSize = 32, LabelMode labelMode = LabelMode.Int, bool shuffle = true,
                                          int seed = 0, float scale = 1f) =>
        ArrayBatchSource.FromBytes(Pixels, [Height, Width, 1], [.. Labels.Select(l => (int)l)], ClassNames,
                                   labelMode, batchSize, shuffle, seed, scale);

    /// <summary>The indices of the images whose label is <paramref name="label"/>, in file order.</summary>
    public int[] IndicesOf(int label) => [.. Enumerable.Range(0, Count).Where(i => Labels[i] == label)];

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * Height * Width, Height * Width);
}

/// <summary>The two splits of Fashion-MNIST.</summary>
public sealed record FashionMnistData(LabeledImages Train, LabeledImages Test);

/// <summary>
/// Zalando Research's Fashion-MNIST (MIT licence): 60,000 training and 10,000 test 28×28 greyscale images of
/// 10 classes, read from the IDX files that Debian's package dataset-fashion-mnist installs.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's dataset-fashion-mnist puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>File name of the 60 000 training images.</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte";
    /// <summary>File name of the training labels.</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";
    /// <summary>File name of the 10 000 test images.</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte";
    /// <summary>File name of the test labels.</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    /// <summary>Class names by label, as Zalando lists them.</summary>
    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Whether all four files are in <paramref name="directory"/> (gzipped or not).</summary>
    public static bool IsAvailable(string directory = DefaultDirectory) =>
        new[] { TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile }.All(name => FindFile(directory, name) is not null);

    /// <summary>Reads both splits from <paramref name="directory"/>; each file may be gzipped (name.gz) or raw.</summary>
    public static FashionMnistData Load(string directory = DefaultDirectory) =>
        new(LoadSplit(directory, TrainImagesFile, TrainLabelsFile), LoadSplit(directory, TestImagesFile, TestLabelsFile));

    private static LabeledImages LoadSplit(string directory, string imagesName, string labelsName)
    {
        var (images, labels) = IdxReader.ReadLabeledImages(RequireFile(directory, imagesName), RequireFile(directory, labelsName));
        int bad = Array.FindIndex(labels, l => l >= ClassNames.Count);
        if (bad >= 0)
            throw new IdxFormatException($"Fashion-MNIST labels '{labelsName}' in '{directory}': label {labels[bad]} at {bad} is not one of the 10 classes.");
        return new LabeledImages(images.Data, labels, images.Dimensions[0], images.Dimensions[1], images.Dimensions[2], ClassNames);
    }

    private static string RequireFile(string directory, string name) =>
        FindFile(directory, name) ?? throw new FileNotFoundException(
            $"Fashion-MNIST file '{name}.gz' (or '{name}') is not in '{directory}'. On Debian or Ubuntu: apt-get install dataset-fashion-mnist.",
            Path.Combine(directory, name + ".gz"));

    private static string? FindFile(string directory, string name) =>
        new[] { Path.Combine(directory, name + ".gz"), Path.Combine(directory, name) }.FirstOrDefault(File.Exists);
}
