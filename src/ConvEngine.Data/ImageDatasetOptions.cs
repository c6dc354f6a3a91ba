using ConvEngine.Data.Images;

namespace ConvEngine.Data;

/// <summary>Which part of a validation split a dataset holds (Keras' <c>subset</c>).</summary>
public enum DatasetSubset
{
    /// <summary>The files left after the validation share is taken.</summary>
    Training,
    /// <summary>The last <c>ValidationSplit</c> share of the shuffled files.</summary>
    Validation,
}

/// <summary>What to do with a file that has an image extension but does not decode.</summary>
public enum BadImagePolicy
{
    /// <summary>Throw <see cref="ImageLoadException"/> naming the file when its batch is built.</summary>
    Throw,
    /// <summary>Decode every file once when the dataset is created and leave out, with a warning, those that fail.</summary>
    Skip,
}

/// <summary>
/// The arguments of Keras' <c>image_dataset_from_directory</c> (keras/utils/image_dataset.py, v2.15), with Keras'
/// defaults, plus loading options of our own.
/// </summary>
public sealed record ImageDatasetOptions
{
    /// <summary>Keras <c>label_mode</c>; default int.</summary>
    public LabelMode LabelMode { get; init; } = LabelMode.Int;

    /// <summary>Keras <c>class_names</c>: sub-folder names in the order that gives their indices; default: all sub-folders, sorted.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Keras <c>color_mode</c>; default rgb.</summary>
    public ColorMode ColorMode { get; init; } = ColorMode.Rgb;

    /// <summary>Keras <c>batch_size</c>; default 32. The last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Keras <c>image_size</c> (height, width); default (256, 256). Every image is resized to it.</summary>
    public (int Height, int Width) ImageSize { get; init; } = (256, 256);

    /// <summary>Keras <c>shuffle</c>; default true: the file list once with the seed, then every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Keras <c>seed</c>; required with a validation split when shuffling. Null picks one at random.</summary>
    public int? Seed { get; init; }

    /// <summary>Keras <c>validation_split</c>: the fraction of files, in (0, 1), kept for validation.</summary>
    public double? ValidationSplit { get; init; }

    /// <summary>Keras <c>subset</c>: which side of <see cref="ValidationSplit"/> this dataset holds.</summary>
    public DatasetSubset? Subset { get; init; }

    /// <summary>Keras <c>interpolation</c>; default bilinear.</summary>
    public Interpolation Interpolation { get; init; } = Interpolation.Bilinear;

    /// <summary>Unreadable images: throw (default) or skip with a warning.</summary>
    public BadImagePolicy OnBadImage { get; init; } = BadImagePolicy.Throw;

    /// <summary>Keep decoded, resized images in memory after their first use (for small datasets).</summary>
    public bool CacheImages { get; init; }

    /// <summary>How many batches a background task decodes ahead of the consumer; default 2.</summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>Threads that decode the images of one batch; default 1 (training uses the other cores).</summary>
    public int DecodeThreads { get; init; } = 1;

    /// <summary>Images with more pixels are refused before decoding.</summary>
    public long MaxPixels { get; init; } = ImageIO.DefaultMaxPixels;

    /// <summary>
    /// A transform stage (e.g. <see cref="LayerAugmentation"/>) applied to every batch on the prefetch task, after decoding;
    /// <see cref="ImageDatasetFromDirectory.SampleShape"/> is then its output's shape.
    /// </summary>
    public IBatchTransform? Transform { get; init; }

    /// <summary>Receives warnings (skipped files); default writes them to standard error.</summary>
    public Action<string>? Warning { get; init; }
}
