using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Applications;

/// <summary>How a pretrained file expects its input images (Keras's preprocess_input mode and its constants).</summary>
public sealed class WeightsPreprocessing
{
    /// <summary>"caffe" (BGR, mean subtraction), "torch" (RGB, mean/std on 0–1), "mean-image", …</summary>
    public string Mode { get; init; } = "";
    /// <summary>"RGB" or "BGR": the channel order the network expects.</summary>
    public string? ColorOrder { get; init; }
    /// <summary>The pixel range the network expects, e.g. "0-255" or "0-1".</summary>
    public string? ValueRange { get; init; }
    /// <summary>Per-channel means subtracted (in the expected channel order); null when none.</summary>
    public double[]? Mean { get; init; }
    /// <summary>Per-channel standard deviations divided by; null when none.</summary>
    public double[]? Std { get; init; }
    /// <summary>Anything else about the preprocessing, in words.</summary>
    public string? Note { get; init; }
}

/// <summary>One known pretrained file: where it comes from, how to recognise it, its layout and its preprocessing.</summary>
public sealed class WeightsEntry
{
    /// <summary>The entry's unique name, e.g. "keras-vgg16-notop".</summary>
    public string Name { get; init; } = "";
    /// <summary>What the file is, in words.</summary>
    public string? Description { get; init; }
    /// <summary>The file's usual name, as downloaded or as it lies in its package.</summary>
    public string File { get; init; } = "";
    /// <summary>Where the file is published.</summary>
    public string? SourceUrl { get; init; }
    /// <summary>Mirrors of <see cref="SourceUrl"/>.</summary>
    public string[]? OtherUrls { get; init; }
    /// <summary>Null when the exact size is not known.</summary>
    public long? SizeBytes { get; init; }
    /// <summary>Lower-case hex; null when not known (never guessed).</summary>
    public string? Md5 { get; init; }
    /// <summary>Lower-case hex; null when not known (never guessed).</summary>
    public string? Sha256 { get; init; }
    /// <summary>Where the size and checksums come from.</summary>
    public string? ChecksumSource { get; init; }
    /// <summary>"keras-hdf5", "onnx", "safetensors".</summary>
    public string FormatKind { get; init; } = "";
    /// <summary>How the weights are named and laid out inside the file.</summary>
    public string? Layout { get; init; }
    /// <summary>The network the weights belong to, e.g. "vgg16".</summary>
    public string? Architecture { get; init; }
    /// <summary>Whether the classifier layers are included (Keras's <c>include_top</c>).</summary>
    public bool IncludeTop { get; init; }
    /// <summary>The number of weights in the file; null when not known.</summary>
    public long? Parameters { get; init; }
    /// <summary>The input the network takes, in words (shape and limits).</summary>
    public string? Input { get; init; }
    /// <summary>How the input images must be prepared; null when not known.</summary>
    public WeightsPreprocessing? Preprocessing { get; init; }
    /// <summary>For files shipped in a NuGet package: its id, version and the path inside it.</summary>
    public string? NugetPackage { get; init; }
    /// <summary>The version of <see cref="NugetPackage"/>.</summary>
    public string? NugetVersion { get; init; }
    /// <summary>The file's path inside <see cref="NugetPackage"/>.</summary>
    public string? PackagePath { get; init; }
    /// <summary>How to turn it into engine weights (a command line, or which importer).</summary>
    public string? Convert { get; init; }
    /// <summary>Whether the manifest records the file as obtainable here (e.g. from a NuGet package the build restores).</summary>
    public bool AvailableHere { get; init; }
    /// <summary>Why the file is or is not available here.</summary>
    public string? AvailabilityNote { get; init; }

    /// <summary>Where NuGet restored the file on this machine (NUGET_PACKAGES or ~/.nuget/packages), if it is a package file.</summary>
    public string? NuGetCachePath()
    {
        if (NugetPackage is null || NugetVersion is null || PackagePath is null) return null;
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return System.IO.Path.Combine(root, NugetPackage.ToLowerInvariant(), NugetVersion, PackagePath);
    }
}

/// <summary>What checking a file against the manifest found.</summary>
public enum WeightsCheckStatus
{
    /// <summary>No known file has this size.</summary>
    Unknown,
    /// <summary>A known file has this size and no checksum is known for it.</summary>
    SizeMatchOnly,
    /// <summary>A known file has this size and checksum.</summary>
    Verified,
    /// <summary>Known files have this size but none has this checksum: corrupt or a different file.</summary>
    ChecksumMismatch,
}

/// <summary>The result of <see cref="WeightsManifest.Check"/>: the entry the file's size matches, and the checksums computed.</summary>
public sealed record WeightsCheck(WeightsCheckStatus Status, WeightsEntry? Entry, string? Md5, string? Sha256, string Message);

/// <summary>
/// The manifest of known pretrained weights (weights/manifest.json, built into this assembly): names, sources,
/// sizes and checksums as known from their publishers (null where not known), layouts and preprocessing.
/// </summary>
public sealed class WeightsManifest
{
    private const string ResourceName = "ConvEngine.Import.weights-manifest.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    private WeightsManifest(string source, IReadOnlyList<WeightsEntry> entries)
    {
        Source = source;
        Entries = entries;
    }

    /// <summary>Where the manifest was read from: a path, or "built-in".</summary>
    public string Source { get; }
    /// <summary>The known files, in manifest order.</summary>
    public IReadOnlyList<WeightsEntry> Entries { get; }

    /// <summary>The entry named <paramref name="name"/>; a <see cref="KeyNotFoundException"/> listing the names when there is none.</summary>
    public WeightsEntry this[string name] => Entries.FirstOrDefault(e => e.Name == name)
        ?? throw new KeyNotFoundException($"The weights manifest ({Source}) has no entry {QuotedName.Of(name)}; it has {string.Join(", ", Entries.Select(e => e.Name))}.");

    /// <summary>The manifest built into the assembly (a copy of weights/manifest.json at build time).</summary>
    public static WeightsManifest BuiltIn { get; } = LoadBuiltIn();

    private static WeightsManifest LoadBuiltIn()
    {
        using var stream = typeof(WeightsManifest).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The built-in weights manifest resource '{ResourceName}' is missing from {typeof(WeightsManifest).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "built-in");
    }

    /// <summary>Reads and validates the manifest file at <paramref name="path"/> (see <see cref="Parse"/>).</summary>
    public static WeightsManifest Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"No weights manifest at {path}.", path);
        return Parse(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates a manifest: unique names, files named, checksums lower-case hex of the right length.</summary>
    public static WeightsManifest Parse(string json, string source)
    {
        ManifestDocument document;
        try
        {
            document = JsonSerializer.Deserialize<ManifestDocument>(json, Options) ?? throw new FormatException("empty document");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not a valid weights manifest ({e.Message}).", e);
        }
        var entries = document.Entries ?? [];
        foreach (var entry in entries)
        {
            if (string.IsNullOrWhiteSpace(entry.Name)) throw new FormatException($"{source}: an entry has no name.");
            if (string.IsNullOrWhiteSpace(entry.File)) throw new FormatException($"{source}: entry {QuotedName.Of(entry.Name)} names no file.");
            if (entry.SizeBytes is < 0) throw new FormatException($"{source}: entry {QuotedName.Of(entry.Name)} has a negative size.");
            CheckHex(entry.Md5, 32, "md5", entry.Name, source);
            CheckHex(entry.Sha256, 64, "sha256", entry.Name, source);
        }
        var duplicate = entries.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new FormatException($"{source}: entry {QuotedName.Of(duplicate.Key)} is listed twice.");
        return new WeightsManifest(source, entries);
    }

    private static void CheckHex(string? value, int length, string what, string entry, string source)
    {
        if (value is null) return;
        if (value.Length != length || !value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            throw new FormatException($"{source}: entry {QuotedName.Of(entry)} has {what} {QuotedName.Of(value)}; expected {length} lower-case hex digits or null.");
    }

    /// <summary>
    /// Recognises a file by its size; when a known file has that size, computes the checksums the manifest knows
    /// for it and compares them. A size match with a wrong checksum is <see cref="WeightsCheckStatus.ChecksumMismatch"/>.
    /// </summary>
    public WeightsCheck Check(string path)
    {
        long size = new FileInfo(path).Length;
        var candidates = Entries.Where(e => e.SizeBytes == size).ToList();
        if (candidates.Count == 0)
            return new WeightsCheck(WeightsCheckStatus.Unknown, null, null, null, $"{path}: {size:N0} bytes, the size of no file in the manifest; not verified.");
        var withChecksum = candidates.Where(e => e.Md5 is not null || e.Sha256 is not null).ToList();
        if (withChecksum.Count == 0)
            return new WeightsCheck(WeightsCheckStatus.SizeMatchOnly, candidates[0], null, null,
                $"{path}: {size:N0} bytes, the size of {QuotedName.Of(candidates[0].Name)}, which has no known checksum.");

        var (md5, sha256) = Hashes(path, withChecksum.Any(e => e.Md5 is not null), withChecksum.Any(e => e.Sha256 is not null));
        foreach (var entry in withChecksum)
            if ((entry.Sha256 is null || entry.Sha256 == sha256) && (entry.Md5 is null || entry.Md5 == md5))
                return new WeightsCheck(WeightsCheckStatus.Verified, entry, md5, sha256,
                    $"{path}: verified as {QuotedName.Of(entry.Name)} ({string.Join(", ", new[] { entry.Md5 is null ? null : "md5", entry.Sha256 is null ? null : "sha256" }.OfType<string>())} match).");
        var expected = withChecksum[0];
        string got = expected.Sha256 is not null ? $"sha256 {sha256}, not {expected.Sha256}" : $"md5 {md5}, not {expected.Md5}";
        return new WeightsCheck(WeightsCheckStatus.ChecksumMismatch, expected, md5, sha256,
            $"{path}: {size:N0} bytes, the size of {QuotedName.Of(expected.Name)}, but its {got}: the file is corrupt or not the published one.");
    }

    private static (string? Md5, string? Sha256) Hashes(string path, bool md5, bool sha256)
    {
        using var md5Hash = md5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        using var shaHash = sha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            md5Hash?.AppendData(buffer, 0, read);
            shaHash?.AppendData(buffer, 0, read);
        }
        return (md5Hash is null ? null : Convert.ToHexStringLower(md5Hash.GetHashAndReset()),
            shaHash is null ? null : Convert.ToHexStringLower(shaHash.GetHashAndReset()));
    }

    private sealed class ManifestDocument
    {
        public string? Format { get; init; }
        public int FormatVersion { get; init; }
        public List<WeightsEntry>? Entries { get; init; }
    }
}
