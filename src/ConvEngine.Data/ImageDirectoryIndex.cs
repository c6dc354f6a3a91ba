using ConvEngine.Data.Images;

namespace ConvEngine.Data;

/// <summary>
/// The image files under a directory and their class indices, found as Keras' <c>index_directory</c> finds them
/// (keras/utils/dataset_utils.py): classes are the sub-folders, sorted by ordinal name unless given; each class
/// folder is walked recursively, folders in path order and files in name order; extensions match case-insensitively.
/// </summary>
public sealed record ImageDirectoryIndex(string Directory, IReadOnlyList<string> ClassNames, string[] FilePaths, int[] Labels)
{
    /// <summary>Indexes <paramref name="directory"/>. With <paramref name="inferLabels"/> false the whole tree is one unlabelled group.</summary>
    public static ImageDirectoryIndex Build(string directory, bool inferLabels, IReadOnlyList<string>? classNames)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Image dataset directory '{directory}' does not exist.");
        if (!inferLabels)
        {
            if (classNames is not null)
                throw new ArgumentException($"Image dataset '{directory}': class names cannot be given with label mode 'none' (Keras: no labels, no class_names).");
            var all = ImageFilesUnder(directory);
            if (all.Count == 0)
                throw new InvalidDataException($"No images found in directory '{directory}'. Allowed formats: {string.Join(" ", ImageIO.Extensions)}.");
            return new ImageDirectoryIndex(directory, [], [.. all], new int[all.Count]);
        }

        // Python's sorted() on str compares code points: ordinal order.
        var subfolders = new DirectoryInfo(directory).EnumerateDirectories()
            .Where(d => !d.Name.StartsWith('.') && !d.Attributes.HasFlag(FileAttributes.ReparsePoint))
            .Select(d => d.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
        List<string> classes;
        if (classNames is null)
            classes = subfolders;
        else
        {
            var missing = classNames.Where(c => !subfolders.Contains(c, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0)
                throw new ArgumentException(
                    $"Image dataset '{directory}': class names [{string.Join(", ", missing)}] are not sub-folders; the sub-folders are [{string.Join(", ", subfolders)}].");
            if (classNames.Distinct(StringComparer.Ordinal).Count() != classNames.Count)
                throw new ArgumentException($"Image dataset '{directory}': class names [{string.Join(", ", classNames)}] repeat a name.");
            classes = [.. classNames];
        }
        if (classes.Count == 0)
            throw new InvalidDataException(
                $"Image dataset '{directory}' has no class sub-folders: put each class's images in a folder of its own (e.g. {Path.Combine(directory, "cat")}).");

        var paths = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classes.Count; label++)
        {
            string classFolder = Path.Combine(directory, classes[label]);
            var files = ImageFilesUnder(classFolder);
            if (files.Count == 0)
                throw new InvalidDataException(
                    $"Class folder '{classFolder}' (class '{classes[label]}') holds no images with extensions {string.Join(" ", ImageIO.Extensions)}.");
            paths.AddRange(files);
            labels.AddRange(Enumerable.Repeat(label, files.Count));
        }
        return new ImageDirectoryIndex(directory, classes, [.. paths], [.. labels]);
    }

    /// <summary>Image files below <paramref name="root"/>: folders in ordinal path order, files by ordinal name within each.</summary>
    private static List<string> ImageFilesUnder(string root)
    {
        var folders = new List<string> { root };
        for (int i = 0; i < folders.Count; i++)
        {
            string parent = folders[i];
            folders.AddRange(new DirectoryInfo(parent).EnumerateDirectories()
                .Where(d => !d.Attributes.HasFlag(FileAttributes.ReparsePoint))
                .Select(d => Path.Combine(parent, d.Name)));
        }
        folders.Sort(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var folder in folders)
            files.AddRange(new DirectoryInfo(folder).EnumerateFiles()
                .Where(f => IsImageFile(f.Name))
                .Select(f => f.Name)
                .Order(StringComparer.Ordinal)
                .Select(name => Path.Combine(folder, name)));
        return files;
    }

    /// <summary>Whether the name ends with one of Keras' allowed image extensions, in any case.</summary>
    public static bool IsImageFile(string name) =>
        ImageIO.Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}
