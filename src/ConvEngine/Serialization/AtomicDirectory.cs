namespace ConvEngine.Serialization;

/// <summary>
/// Writes a folder of files that belong together (a model, a checkpoint): they are written into a temp
/// folder beside the target, then the folder is renamed into place, so a reader sees all of them or none.
/// </summary>
public static class AtomicDirectory
{
    /// <summary>Lets <paramref name="writeFiles"/> fill a temporary folder beside <paramref name="path"/>, then renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> writeFiles)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(full) ?? ".";
        string name = Path.GetFileName(full);
        CheckTarget(full);
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            writeFiles(temp);
            CheckTarget(full);
            if (Directory.Exists(full))
            {
                // Replacing: move the old folder aside first; a crash in between leaves it beside the target, never half-written.
                string old = Path.Combine(parent, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.old");
                Directory.Move(full, old);
                Directory.Move(temp, full);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(temp, full);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Refuses a target that exists and is not a real folder (a symbolic link, a file, a device): it is never replaced.</summary>
    public static void CheckTarget(string path)
    {
        var kind = FileKinds.Of(path, followLinks: false);
        if (kind is FileKind.Missing or FileKind.Directory) return;
        throw new IOException($"Output folder '{path}' is {FileKinds.Describe(kind)}; only a real folder or a new path is written (a link or file is never replaced).");
    }
}
