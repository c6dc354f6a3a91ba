using System.Runtime.ExceptionServices;
using ConvEngine.Data.Images;
using ConvEngine.Training;

namespace ConvEngine.Data;

/// <summary>
/// Keras' <c>image_dataset_from_directory</c> (keras/utils/image_dataset.py, v2.15) as an <see cref="IBatchSource"/>:
/// one sub-folder per class; images decoded, converted to the colour mode and resized to <see cref="ImageDatasetOptions.ImageSize"/>
/// as floats in [0, 255]; batches of (N, H, W, C) inputs with targets per <see cref="ImageDatasetOptions.LabelMode"/>.
/// With shuffling, the file list is shuffled once with the seed before a validation split (so training and
/// validation datasets made with the same seed are disjoint), and each epoch is reshuffled as Keras'
/// <c>dataset.shuffle(buffer_size = 8 · batch_size)</c> does. Batches are decoded on a background task ahead of use.
/// </summary>
public sealed class ImageDatasetFromDirectory : IBatchSource
{
    private readonly string[] filePaths;
    private readonly int[] labels;
    private readonly ImageData?[]? cache;
    private readonly int height, width, channels, targetWidth;

    /// <summary>Indexes <paramref name="directory"/> and prepares the dataset; images are decoded when batches are read.</summary>
    public ImageDatasetFromDirectory(string directory, ImageDatasetOptions? options = null)
    {
        Options = options ?? new ImageDatasetOptions();
        Directory = directory;
        CheckOptions(directory, Options);
        (height, width) = Options.ImageSize;
        channels = Options.ColorMode == ColorMode.Rgb ? 3 : 1;

        var index = ImageDirectoryIndex.Build(directory, Options.LabelMode != LabelMode.None, Options.ClassNames);
        ClassNames = index.ClassNames;
        LabelEncoding.Validate(Options.LabelMode, ClassNames, $"Image dataset '{directory}'");
        targetWidth = LabelEncoding.Width(Options.LabelMode, ClassNames.Count);
        Seed = Options.Seed ?? Random.Shared.Next();

        string[] paths = index.FilePaths;
        int[] indexLabels = index.Labels;
        if (Options.Shuffle)
        {
            // dataset_utils.index_directory: "Shuffle globally to erase macro-structure", paths and labels alike.
            var permutation = SeededShuffle.Permutation(paths.Length, (ulong)Seed);
            paths = [.. permutation.Select(i => index.FilePaths[i])];
            indexLabels = [.. permutation.Select(i => index.Labels[i])];
        }
        TotalFileCount = paths.Length;
        var (start, count) = SubsetRange(directory, paths.Length, Options);
        filePaths = paths[start..(start + count)];
        labels = indexLabels[start..(start + count)];

        if (Options.CacheImages)
            cache = new ImageData?[filePaths.Length];
        if (Options.OnBadImage == BadImagePolicy.Skip)
            (filePaths, labels, cache, SkippedFiles) = DropUnreadable(filePaths, labels, cache);
        if (filePaths.Length == 0)
            throw new InvalidDataException($"Image dataset '{directory}': no readable images remain (all {count} failed to decode).");
    }

    /// <summary>Builds the training and the validation dataset of one split with the same seed (Keras' <c>subset="both"</c>).</summary>
    public static (ImageDatasetFromDirectory Training, ImageDatasetFromDirectory Validation) Split(
        string directory, ImageDatasetOptions options)
    {
        if (options.ValidationSplit is null)
            throw new ArgumentException($"Image dataset '{directory}': a training/validation split needs ValidationSplit in (0, 1).");
        var shared = options with { Seed = options.Seed ?? Random.Shared.Next() };
        return (new ImageDatasetFromDirectory(directory, shared with { Subset = DatasetSubset.Training }),
                new ImageDatasetFromDirectory(directory, shared with { Subset = DatasetSubset.Validation }));
    }

    /// <summary>The options the dataset was made with (the subset and seed filled in for a split).</summary>
    public ImageDatasetOptions Options { get; }
    /// <summary>The folder read: one sub-folder per class, or images directly with label mode none.</summary>
    public string Directory { get; }
    /// <summary>Class names in label order (empty with label mode none).</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The files of this dataset, in the order of the shuffled, split list (Keras' <c>file_paths</c>).</summary>
    public IReadOnlyList<string> FilePaths => filePaths;
    /// <summary>The class index of each file in <see cref="FilePaths"/>.</summary>
    public IReadOnlyList<int> Labels => labels;
    /// <summary>Files left out as unreadable under <see cref="BadImagePolicy.Skip"/>.</summary>
    public IReadOnlyList<string> SkippedFiles { get; } = [];
    /// <summary>The seed used for the shuffles: <see cref="ImageDatasetOptions.Seed"/>, or the one picked when none was given.</summary>
    public int Seed { get; }
    /// <summary>Image files found before the split.</summary>
    public int TotalFileCount { get; }

    /// <summary>What Keras prints: "Found N files belonging to K classes." and, with a split, the files this subset uses.</summary>
    public string Summary =>
        (ClassNames.Count > 0 ? $"Found {TotalFileCount} files belonging to {ClassNames.Count} classes." : $"Found {TotalFileCount} files.")
        + (Options.Subset is { } subset ? $" Using {filePaths.Length + SkippedFiles.Count} files for {subset.ToString().ToLowerInvariant()}." : "")
        + (SkippedFiles.Count > 0 ? $" Skipped {SkippedFiles.Count} unreadable." : "");

    /// <inheritdoc/>
    public int SampleCount => filePaths.Length;
    /// <inheritdoc/>
    public int BatchCount => (filePaths.Length + Options.BatchSize - 1) / Options.BatchSize;
    /// <summary>One sample's shape: (image height, image width, channels), or what the transform makes of it.</summary>
    public int[] SampleShape => Options.Transform is { } transform ? transform.OutputSampleShape([height, width, channels]) : [height, width, channels];
    /// <summary>The shape of one sample's targets: (1) for int and binary, (K) for categorical, (0) for none.</summary>
    public int[] TargetSampleShape => [targetWidth];

    /// <summary>The batches of <paramref name="epoch"/>, decoded <see cref="ImageDatasetOptions.PrefetchBatches"/> ahead on a background task.</summary>
    public IEnumerable<Batch> GetBatches(int epoch) => GetBatches(epoch, CancellationToken.None);

    /// <inheritdoc cref="GetBatches(int)"/>
    public IEnumerable<Batch> GetBatches(int epoch, CancellationToken cancellationToken)
    {
        var order = SampleOrder(epoch);
        // The transform stage runs here, on the prefetch task, ahead of the training step.
        return Prefetch.Run(BatchCount, (b, ct) => Options.Transform is { } transform
            ? transform.Apply(BuildBatch(order, b, ct), epoch, b)
            : BuildBatch(order, b, ct), Options.PrefetchBatches, cancellationToken);
    }

    /// <summary>The order in which <paramref name="epoch"/> visits the samples (indices into <see cref="FilePaths"/>).</summary>
    public int[] SampleOrder(int epoch) =>
        Options.Shuffle
            ? SeededShuffle.BufferedOrder(filePaths.Length, Options.BatchSize * 8, SeededShuffle.EpochSeed((ulong)Seed, epoch))
            : SeededShuffle.Identity(filePaths.Length);

    /// <summary>Writes sample <paramref name="index"/> of <see cref="FilePaths"/>, decoded and resized, into <paramref name="destination"/>: (H, W, C) floats in [0, 255].</summary>
    public void LoadSample(int index, Span<float> destination)
    {
        if (destination.Length != height * width * channels)
            throw new ArgumentException($"Image dataset '{Directory}': a sample is {height}x{width}x{channels} floats, not {destination.Length}.");
        var image = cache?[index] ?? Cache(index, Decode(filePaths[index]));
        if (image.Height == height && image.Width == width)
            image.Pixels.CopyTo(destination);
        else
            Resize.Into(image.Pixels, image.Height, image.Width, channels, destination, height, width, Options.Interpolation);
    }

    // Keeps the smaller of the decoded and the resized image, so caching small pictures shown large costs little.
    private ImageData Cache(int index, ImageData decoded)
    {
        if (cache is null)
            return decoded;
        var kept = (long)decoded.Height * decoded.Width <= (long)height * width
            ? decoded
            : Resize.Apply(decoded, height, width, Options.Interpolation);
        cache[index] = kept;
        return kept;
    }

    private Batch BuildBatch(int[] order, int batchIndex, CancellationToken cancellationToken)
    {
        int start = batchIndex * Options.BatchSize;
        int count = Math.Min(Options.BatchSize, filePaths.Length - start);
        int sampleSize = height * width * channels;
        var inputs = new float[count * sampleSize];
        var batchLabels = new int[count];
        void Load(int k)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int sample = order[start + k];
            LoadSample(sample, inputs.AsSpan(k * sampleSize, sampleSize));
            batchLabels[k] = labels[sample];
        }

        if (Options.DecodeThreads == 1)
            for (int k = 0; k < count; k++)
                Load(k);
        else
        {
            // Report the failure of the first failing sample in batch order, whichever thread met it first.
            var failures = new Exception?[count];
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Options.DecodeThreads }, k =>
            {
                try { Load(k); }
                catch (Exception e) { failures[k] = e; }
            });
            if (failures.FirstOrDefault(e => e is not null) is { } first)
                ExceptionDispatchInfo.Throw(first);
        }

        var targets = new float[count * targetWidth];
        LabelEncoding.Encode(batchLabels, Options.LabelMode, ClassNames.Count, targets);
        return new Batch(inputs, [count, height, width, channels], targets, [count, targetWidth]);
    }

    private ImageData Decode(string path)
    {
        try
        {
            return ImageIO.Load(path, Options.ColorMode, Options.MaxPixels);
        }
        catch (ImageLoadException) { throw; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A decoder failure ImageIO does not translate still has to name the file.
            throw new ImageLoadException($"Cannot decode image '{path}': {e.GetType().Name}: {e.Message}", e);
        }
    }

    private (string[], int[], ImageData?[]?, IReadOnlyList<string>) DropUnreadable(string[] paths, int[] pathLabels, ImageData?[]? decoded)
    {
        var failures = new string?[paths.Length];
        Parallel.For(0, paths.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(Options.DecodeThreads, Environment.ProcessorCount) }, i =>
        {
            try { Cache(i, Decode(paths[i])); }
            catch (ImageLoadException e) { failures[i] = e.Message; }
        });
        var keep = Enumerable.Range(0, paths.Length).Where(i => failures[i] is null).ToArray();
        if (keep.Length == paths.Length)
            return (paths, pathLabels, decoded, []);
        var warn = Options.Warning ?? (message => Console.Error.WriteLine($"warning: {message}"));
        foreach (var failure in failures.Where(f => f is not null))
            warn($"Skipping unreadable image: {failure}");
        return ([.. keep.Select(i => paths[i])], [.. keep.Select(i => pathLabels[i])],
                decoded is null ? null : [.. keep.Select(i => decoded[i])],
                [.. Enumerable.Range(0, paths.Length).Where(i => failures[i] is not null).Select(i => paths[i])]);
    }

    private static void CheckOptions(string directory, ImageDatasetOptions o)
    {
        string source = $"Image dataset '{directory}'";
        if (o.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(o.BatchSize), $"{source}: batch size must be at least 1, got {o.BatchSize}.");
        if (o.ImageSize.Height < 1 || o.ImageSize.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(o.ImageSize), $"{source}: image size must be positive, got {o.ImageSize.Height}x{o.ImageSize.Width}.");
        if (o.PrefetchBatches < 1 || o.DecodeThreads < 1)
            throw new ArgumentOutOfRangeException(nameof(o.PrefetchBatches), $"{source}: prefetch batches ({o.PrefetchBatches}) and decode threads ({o.DecodeThreads}) must be at least 1.");
        // dataset_utils.check_validation_split_arg.
        if (o.ValidationSplit is { } split && !(split > 0 && split < 1))
            throw new ArgumentOutOfRangeException(nameof(o.ValidationSplit), $"{source}: validation split must be between 0 and 1, got {split}.");
        if ((o.ValidationSplit is null) != (o.Subset is null))
            throw new ArgumentException($"{source}: a subset needs a validation split and a validation split needs a subset (training or validation).");
        if (o.ValidationSplit is not null && o.Shuffle && o.Seed is null)
            throw new ArgumentException($"{source}: with a validation split and shuffling, give a seed, so that the training and validation subsets do not overlap.");
    }

    // dataset_utils.get_training_or_validation_split: int(split · n) files go to validation, taken from the end.
    private static (int Start, int Count) SubsetRange(string directory, int total, ImageDatasetOptions o)
    {
        if (o.ValidationSplit is not { } split)
            return (0, total);
        int validation = (int)(split * total);
        if (o.Subset == DatasetSubset.Training)
            return (0, total - validation);
        if (validation == 0)
            throw new InvalidDataException($"Image dataset '{directory}': a validation split of {split} of {total} files leaves no validation files.");
        return (total - validation, validation);
    }
}
