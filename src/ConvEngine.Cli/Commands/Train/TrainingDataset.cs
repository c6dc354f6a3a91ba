using ConvEngine.Data;
using ConvEngine.Data.Idx;
using ConvEngine.Data.Images;
using ConvEngine.Training;

namespace ConvEngine.Cli.Commands;

/// <summary>The batches a training run reads, made for the model's label mode and input.</summary>
/// <param name="Summary">What was found, as Keras prints it ("Found 2000 files belonging to 2 classes.").</param>
internal sealed record TrainingBatches(IBatchSource Train, IBatchSource? Validation, string Summary);

/// <summary>
/// The data of `convengine train`, described before a model is chosen (classes, image size, colour) and
/// opened once the model's head fixes the label mode: an image folder with train/ and valid/ sub-folders,
/// one class-folder tree split by a validation fraction (Keras's validation_split), or Fashion-MNIST's
/// IDX files (60,000 training images, validated on the 10,000 test images).
/// </summary>
internal sealed class TrainingDataset
{
    /// <summary>Cache decoded images in memory when they take less than this (the bundled sample takes 6 MB).</summary>
    private const long CacheLimitBytes = 1L << 30;

    private static readonly string[] ValidationFolderNames = ["valid", "validation", "val"];

    private readonly string? _trainDirectory, _validationDirectory;
    private readonly double? _validationSplit;
    private readonly FashionMnistData? _fashionMnist;
    private readonly int _fileCount;

    private TrainingDataset(string name, IReadOnlyList<string> classNames, (int Height, int Width) nativeSize, ColorMode nativeColorMode,
        string? trainDirectory = null, string? validationDirectory = null, double? validationSplit = null, FashionMnistData? fashionMnist = null, int fileCount = 0)
    {
        Name = name;
        ClassNames = classNames;
        NativeSize = nativeSize;
        NativeColorMode = nativeColorMode;
        _trainDirectory = trainDirectory;
        _validationDirectory = validationDirectory;
        _validationSplit = validationSplit;
        _fashionMnist = fashionMnist;
        _fileCount = fileCount;
    }

    /// <summary>Where the data came from, for messages and dataset.json.</summary>
    public string Name { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The size of the first training image (every Fashion-MNIST image is 28×28).</summary>
    public (int Height, int Width) NativeSize { get; }
    /// <summary>Greyscale when the first training image is grey (R = G = B everywhere), else RGB.</summary>
    public ColorMode NativeColorMode { get; }
    public bool IsFashionMnist => _fashionMnist is not null;

    /// <summary>
    /// An image folder: with <paramref name="validationSplit"/>, its class folders (or those of its train/ sub-folder)
    /// split into training and validation; otherwise its train/ and valid/ (or validation/, val/) sub-folders.
    /// </summary>
    public static TrainingDataset FromDirectory(string directory, double? validationSplit)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Data directory '{directory}' does not exist.");
        string trainFolder = Path.Combine(directory, "train");
        bool hasTrain = Directory.Exists(trainFolder);
        string? validFolder = ValidationFolderNames.Select(n => Path.Combine(directory, n)).FirstOrDefault(Directory.Exists);

        string trainDirectory;
        if (validationSplit is not null)
            trainDirectory = hasTrain ? trainFolder : directory;
        else if (hasTrain && validFolder is not null)
            trainDirectory = trainFolder;
        else
            throw new ArgumentException(
                $"Data directory '{directory}' has no train/ and valid/ sub-folders" + (hasTrain ? " (it has train/ but no valid/)" : "") +
                $": put each split's class folders there, or pass --validation-split 0.2 to hold out part of {(hasTrain ? trainFolder : "its class folders")}.");

        var index = ImageDirectoryIndex.Build(trainDirectory, inferLabels: true, classNames: null);
        var first = ImageIO.Load(index.FilePaths[0], ColorMode.Rgb);
        var colour = IsGrey(first) ? ColorMode.Grayscale : ColorMode.Rgb;
        string name = validationSplit is null ? $"{trainDirectory} (validation: {validFolder})" : $"{trainDirectory} (validation split {validationSplit})";
        return new TrainingDataset(name, index.ClassNames, (first.Height, first.Width), colour,
            trainDirectory, validationSplit is null ? validFolder : null, validationSplit, fileCount: index.FilePaths.Length);
    }

    /// <summary>Fashion-MNIST from Debian's dataset-fashion-mnist files in <paramref name="directory"/>.</summary>
    public static TrainingDataset FromFashionMnist(string directory)
    {
        if (!FashionMnist.IsAvailable(directory))
            throw new FileNotFoundException(
                $"Fashion-MNIST is not in '{directory}' (it needs {FashionMnist.TrainImagesFile}.gz, {FashionMnist.TrainLabelsFile}.gz, " +
                $"{FashionMnist.TestImagesFile}.gz and {FashionMnist.TestLabelsFile}.gz). Install it with: apt-get install dataset-fashion-mnist " +
                $"(it goes to {FashionMnist.DefaultDirectory}), or pass the folder that holds the files: --fashion-mnist DIR.");
        var data = FashionMnist.Load(directory);
        return new TrainingDataset($"Fashion-MNIST ({directory})", data.Train.ClassNames, (data.Train.Height, data.Train.Width),
            ColorMode.Grayscale, fashionMnist: data);
    }

    /// <summary>Opens the batches for a model that reads <paramref name="labelMode"/> targets and (size, colour) images.</summary>
    public TrainingBatches Open(LabelMode labelMode, (int Height, int Width) imageSize, ColorMode colorMode, int batchSize, int seed)
    {
        if (_fashionMnist is { } data)
        {
            if (imageSize != NativeSize || colorMode != ColorMode.Grayscale)
                throw new ArgumentException(
                    $"Fashion-MNIST images are {NativeSize.Height}x{NativeSize.Width} greyscale; the model wants {imageSize.Height}x{imageSize.Width} " +
                    $"{colorMode.ToString().ToLowerInvariant()}. Leave out --image-size and --color-mode, or give the model a {NativeSize.Height}x{NativeSize.Width}x1 input.");
            return new TrainingBatches(
                data.Train.ToBatchSource(batchSize, labelMode, shuffle: true, seed: seed),
                data.Test.ToBatchSource(batchSize, labelMode, shuffle: false),
                $"Fashion-MNIST: {data.Train.Count} training images, {data.Test.Count} test images (used for validation), {ClassNames.Count} classes.");
        }

        int channels = colorMode == ColorMode.Rgb ? 3 : 1;
        var options = new ImageDatasetOptions
        {
            LabelMode = labelMode,
            ClassNames = ClassNames,
            ColorMode = colorMode,
            BatchSize = batchSize,
            ImageSize = imageSize,
            Seed = seed,
            CacheImages = (long)_fileCount * imageSize.Height * imageSize.Width * channels * sizeof(float) <= CacheLimitBytes,
        };
        if (_validationSplit is { } split)
        {
            var (train, validation) = ImageDatasetFromDirectory.Split(_trainDirectory!, options with { ValidationSplit = split });
            return new TrainingBatches(train, validation, $"{train.Summary}\n{validation.Summary}");
        }
        var trainSet = new ImageDatasetFromDirectory(_trainDirectory!, options);
        var validSet = new ImageDatasetFromDirectory(_validationDirectory!, options with { Shuffle = false });
        return new TrainingBatches(trainSet, validSet, $"{trainSet.Summary} (train)\n{validSet.Summary} (validation)");
    }

    private static bool IsGrey(ImageData rgb)
    {
        var p = rgb.Pixels;
        for (int i = 0; i < p.Length; i += 3)
            if (p[i] != p[i + 1] || p[i] != p[i + 2]) return false;
        return true;
    }
}
