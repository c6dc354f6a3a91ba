using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ConvEngine.Data;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Transfer;

/// <summary>The base's features of every image of a dataset, in the dataset's file order, with their labels.</summary>
public sealed record FeatureSet(float[] Features, int[] FeatureShape, int[] Labels, IReadOnlyList<string> ClassNames)
{
    /// <summary>The number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Batches of features for the head, shuffled each epoch as Keras's fit(x, y, shuffle=True).</summary>
    public ArrayBatchSource ToBatchSource(LabelMode labelMode, int batchSize, bool shuffle, int seed) =>
        new(Features, FeatureShape, Labels, ClassNames, labelMode, batchSize, shuffle, seed);
}

/// <summary>
/// Runs a frozen base once per image and keeps its features: the head then trains on them for as many epochs as
/// it likes without running the base again (valid because nothing random, no augmentation or dropout, comes before
/// or inside a frozen base at inference). With a cache folder the features also go to disk, as safetensors named
/// by a SHA-256 of the base's <see cref="TransferBase.Fingerprint"/>, the image size and the dataset's files
/// (path, length, last write time, label), so a later run on the same files with the same base reads them back.
/// </summary>
public static class FeatureCache
{
    private const string FormatTag = "convengine.feature-cache";

    /// <summary>Features of every image of <paramref name="data"/> (resized as the dataset resizes them), from the cache when it holds them.</summary>
    /// <param name="log">Receives progress lines ("features: 640/2000 images") and cache hits or misses.</param>
    /// <param name="base">The base that computes the features.</param>
    /// <param name="data">The images; their order and labels are kept.</param>
    /// <param name="cacheDirectory">Where features are stored, keyed by the base's and the dataset's fingerprints; null for no cache.</param>
    /// <param name="batchSize">Images per forward pass of the base.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static FeatureSet Extract(TransferBase @base, ImageDatasetFromDirectory data, string? cacheDirectory = null, int batchSize = 32,
        Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        if (!data.SampleShape.SequenceEqual(@base.Model.InputShape))
            throw new ArgumentException(
                $"Dataset '{data.Directory}' gives images of ({string.Join(", ", data.SampleShape)}) but base '{@base.Name}' takes ({string.Join(", ", @base.Model.InputShape)}).");
        string? cachePath = cacheDirectory is null ? null : Path.Combine(cacheDirectory, CacheKey(@base, data) + ".safetensors");
        if (cachePath is not null && TryRead(cachePath, data, @base, log) is { } cached)
            return cached;

        int sampleLength = data.SampleShape.Aggregate(1, (a, d) => a * d);
        int featureLength = @base.FeatureShape.Aggregate(1, (a, d) => a * d);
        var features = new float[(long)data.SampleCount * featureLength];
        var batch = new float[(long)Math.Min(batchSize, data.SampleCount) * sampleLength];
        int reported = 0;
        for (int start = 0; start < data.SampleCount; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(batchSize, data.SampleCount - start);
            var inputs = count * sampleLength == batch.Length ? batch : new float[count * sampleLength];
            for (int i = 0; i < count; i++) data.LoadSample(start + i, inputs.AsSpan(i * sampleLength, sampleLength));
            @base.Model.Predict(inputs, count).CopyTo(features, (long)start * featureLength);
            int done = start + count;
            if (log is not null && (done * 10L / data.SampleCount > reported || done == data.SampleCount))
            {
                reported = (int)(done * 10L / data.SampleCount);
                log($"  {@base.Name} features: {done}/{data.SampleCount} images of {data.Directory}");
            }
        }
        var set = new FeatureSet(features, @base.FeatureShape, data.Labels.ToArray(), data.ClassNames);
        if (cachePath is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            Write(cachePath, set, @base, data);
            log?.Invoke($"  cached the features in {cachePath}");
        }
        return set;
    }

    /// <summary>The cache file's name: a hash of what the features depend on.</summary>
    public static string CacheKey(TransferBase @base, ImageDatasetFromDirectory data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        Add(FormatTag + " 1");
        Add(@base.Fingerprint());
        Add(string.Join("x", data.SampleShape));
        Add(data.Options.Interpolation.ToString());
        for (int i = 0; i < data.FilePaths.Count; i++)
        {
            var file = new FileInfo(data.FilePaths[i]);
            Add(string.Create(CultureInfo.InvariantCulture, $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}|{data.Labels[i]}"));
        }
        return $"{@base.Name}-{Convert.ToHexStringLower(hash.GetHashAndReset())[..32]}";
    }

    private static void Write(string path, FeatureSet set, TransferBase @base, ImageDatasetFromDirectory data) =>
        SafeTensors.Write(path,
        [
            ("features", [set.Count, .. set.FeatureShape], set.Features),
            ("labels", [set.Count], set.Labels.Select(l => (float)l).ToArray()),
        ],
        new Dictionary<string, string>
        {
            ["format"] = FormatTag,
            ["base"] = @base.Fingerprint(),
            ["dataset"] = data.Directory,
            ["images"] = set.Count.ToString(CultureInfo.InvariantCulture),
            ["class_names"] = string.Join(",", set.ClassNames),
        });

    /// <summary>The cached features, or null (logged) when the file is absent, unreadable or does not match.</summary>
    private static FeatureSet? TryRead(string path, ImageDatasetFromDirectory data, TransferBase @base, Action<string>? log)
    {
        if (!File.Exists(path))
        {
            log?.Invoke($"  no cached features for these {data.SampleCount} images and this base yet ({Path.GetFileName(path)}); computing them");
            return null;
        }
        try
        {
            using var file = SafeTensors.Open(path);
            int[] expected = [data.SampleCount, .. @base.FeatureShape];
            if (file.Metadata.GetValueOrDefault("base") != @base.Fingerprint() || !file["features"].Shape.SequenceEqual(expected)
                || !file["labels"].Shape.SequenceEqual([data.SampleCount]))
            {
                log?.Invoke($"  {path} does not match this base and dataset; computing the features again");
                return null;
            }
            var labels = file.Read("labels").Select(v => (int)v).ToArray();
            if (!labels.SequenceEqual(data.Labels))
            {
                log?.Invoke($"  {path} holds other labels; computing the features again");
                return null;
            }
            log?.Invoke($"  read {data.SampleCount} cached feature vectors from {path}");
            return new FeatureSet(file.Read("features"), @base.FeatureShape, labels, data.ClassNames);
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidDataException or KeyNotFoundException)
        {
            log?.Invoke($"  cannot read {path} ({e.Message}); computing the features again");
            return null;
        }
    }
}
