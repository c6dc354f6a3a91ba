using System.ComponentModel;
using System.Globalization;
using ConvEngine.Import.Applications;
using ConvEngine.Serialization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine weights list`: every known pretrained file (size, checksum, preprocessing) and whether it is here,
/// under the weights folder or in the NuGet cache; then the other files of the weights folder (converted safetensors),
/// then every file format the engine reads and writes.
/// </summary>
internal sealed class WeightsListCommand : Command<WeightsListCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-d|--dir <DIR>")]
        [Description("The weights folder to look in.")]
        [DefaultValue("weights")]
        public string Dir { get; init; } = "weights";

        [CommandOption("--manifest <FILE>")]
        [Description("Manifest to read; default DIR/manifest.json when it exists, else the one built into convengine.")]
        public string? Manifest { get; init; }

        [CommandOption("--verify")]
        [Description("Also compute the checksums of the files present and compare them with the manifest.")]
        public bool Verify { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = WeightsFiles.OpenManifest(settings.Manifest, settings.Dir);
            AnsiConsole.MarkupLineInterpolated($"Weights manifest: {manifest.Source} ({manifest.Entries.Count} entries); local folder: {Path.GetFullPath(settings.Dir)}");
            // One block per entry rather than a table: file names, paths and checksums are too long for table cells.
            foreach (var entry in manifest.Entries)
            {
                AnsiConsole.WriteLine();
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(entry.Name)}[/]  {Markup.Escape(entry.File)}");
                string what = string.Join(" · ", new[] { entry.FormatKind, entry.Architecture, entry.IncludeTop ? "with top" : "no top",
                    entry.Parameters is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) + " parameters" : null }.Where(t => !string.IsNullOrEmpty(t)));
                AnsiConsole.WriteLine($"  {Size(entry.SizeBytes)} · {Checksum(entry)} · {what}");
                AnsiConsole.WriteLine($"  source: {entry.SourceUrl ?? (entry.NugetPackage is null ? "unknown" : $"NuGet {entry.NugetPackage} {entry.NugetVersion}, {entry.PackagePath}")}");
                AnsiConsole.WriteLine($"  preprocessing: {Preprocessing(entry.Preprocessing)}");
                AnsiConsole.WriteLine($"  here: {LocalStatus(entry, settings, manifest)}");
            }
            ListOtherFiles(settings.Dir, manifest);
            ListFormats();
            return 0;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"convengine weights list: {e.Message}");
            return 1;
        }
    }

    private static string Size(long? bytes) => bytes is { } b ? b.ToString("N0", CultureInfo.InvariantCulture) + " bytes" : "size unknown";

    private static string Checksum(WeightsEntry entry) =>
        entry.Sha256 is not null ? $"sha256 {entry.Sha256}" : entry.Md5 is not null ? $"md5 {entry.Md5}" : "checksum unknown";

    private static string Preprocessing(WeightsPreprocessing? p) => p is null ? "-"
        : $"{p.Mode}, {p.ColorOrder} {p.ValueRange}" + (p.Mean is null ? "" : $", mean [{string.Join(", ", p.Mean.Select(m => m.ToString(CultureInfo.InvariantCulture)))}]")
          + (p.Std is null ? "" : $", std [{string.Join(", ", p.Std.Select(s => s.ToString(CultureInfo.InvariantCulture)))}]");

    private static string LocalStatus(WeightsEntry entry, Settings settings, WeightsManifest manifest)
    {
        string? path = new[] { Path.Combine(settings.Dir, entry.File), entry.NuGetCachePath() }.FirstOrDefault(File.Exists);
        if (path is null) return entry.AvailableHere ? "missing (restore the NuGet package)" : "missing (not downloadable here)";
        long size = new FileInfo(path).Length;
        if (entry.SizeBytes is { } expected && size != expected) return $"present, but {size:N0} bytes, not {expected:N0}: {path}";
        if (!settings.Verify) return $"present: {path}";
        var check = manifest.Check(path);
        return check.Status switch
        {
            WeightsCheckStatus.Verified when check.Entry == entry => $"present, checksum verified: {path}",
            WeightsCheckStatus.ChecksumMismatch => $"present, CHECKSUM MISMATCH: {path}",
            _ => $"present, no checksum known: {path}",
        };
    }

    /// <summary>Files in the weights folder that are not manifest entries: converted safetensors, with their tensor and value counts.</summary>
    private static void ListOtherFiles(string dir, WeightsManifest manifest)
    {
        if (!Directory.Exists(dir)) return;
        var known = manifest.Entries.Select(e => e.File).Append("manifest.json").Append("README.md").Append(".gitignore").ToHashSet(StringComparer.Ordinal);
        var others = Directory.EnumerateFiles(dir).Where(f => !known.Contains(Path.GetFileName(f))).Order(StringComparer.Ordinal).ToList();
        if (others.Count == 0) return;
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLineInterpolated($"[bold]Other files in {dir}[/]");
        foreach (string file in others)
            AnsiConsole.WriteLine($"  {Path.GetFileName(file)}  {Size(new FileInfo(file).Length)}  {Describe(file)}");
    }

    /// <summary>Every file format, recognised by content: what is read, what is written, what is refused.</summary>
    private static void ListFormats()
    {
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine("[bold]File formats[/] (recognised by content, not by extension)");
        foreach (var format in ConvEngine.Import.ModelFormats.FileFormatCatalog.Formats)
        {
            AnsiConsole.WriteLine($"  {format.Name}: {format.Recognised}");
            AnsiConsole.WriteLine($"    reads: {format.Reads}");
            AnsiConsole.WriteLine($"    writes: {format.Writes}");
            AnsiConsole.WriteLine($"    refuses: {format.Refuses}");
        }
    }

    private static string Describe(string file)
    {
        if (!file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return "";
        try
        {
            using var tensors = SafeTensors.Open(file);
            long values = tensors.Tensors.Sum(t => t.Length);
            string model = tensors.Metadata.TryGetValue("model", out var name) ? $", model '{name}'" : "";
            return $"safetensors: {tensors.Tensors.Count} tensors, {values:N0} values{model}";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return $"unreadable safetensors: {e.Message}";
        }
    }
}

/// <summary>What the weights commands share: finding the manifest.</summary>
internal static class WeightsFiles
{
    /// <summary>The manifest named, else DIR/manifest.json when it exists, else the built-in one.</summary>
    public static WeightsManifest OpenManifest(string? manifest, string dir)
    {
        if (manifest is not null) return WeightsManifest.Load(manifest);
        string local = Path.Combine(dir, "manifest.json");
        return File.Exists(local) ? WeightsManifest.Load(local) : WeightsManifest.BuiltIn;
    }
}
