using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ConvEngine.Serialization;

/// <summary>
/// Writes a file so that a crash never leaves it half-written: a temp file beside it, flushed, then renamed over it.
/// Only a regular file (or nothing) is ever replaced: renaming over a symbolic link would replace the link, and over
/// a device node (/dev/full, run as root) the device, so those targets are refused.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Lets <paramref name="write"/> fill a temporary file beside <paramref name="path"/>, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        CheckTarget(full);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            CheckTarget(full);   // again: the target may have changed while the file was written
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Refuses a target that is not a regular file or absent (a symbolic link, a folder, a device, a pipe), with a
    /// message naming it; commands call it for their output options before they start any work.
    /// </summary>
    public static void CheckTarget(string path)
    {
        var kind = FileKinds.Of(path, followLinks: false);
        if (kind is FileKind.Missing or FileKind.Regular) return;
        throw new IOException($"Output '{path}' is {FileKinds.Describe(kind)}; only a regular file or a new path is written (a link, device or folder is never replaced).");
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>
    /// Cleans up after a writer that was killed mid-write, under <paramref name="directory"/> (recursively):
    /// removes ".NAME.PID.GUID.tmp" files and folders whose process is gone, and for each ".NAME.PID.GUID.old"
    /// folder a dead <see cref="AtomicDirectory"/> writer left either restores it (when NAME is missing: the kill came
    /// between its two renames) or removes it. Returns how many entries it removed or restored.
    /// </summary>
    public static int RemoveLeftovers(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        int cleaned = 0;
        foreach (string entry in Directory.EnumerateFileSystemEntries(directory, ".*", SearchOption.AllDirectories).OrderByDescending(e => e.Length).ToArray())
        {
            string name = Path.GetFileName(entry), parent = Path.GetDirectoryName(entry)!;
            var match = LeftoverName().Match(name);
            if (!match.Success || IsRunning(int.Parse(match.Groups["pid"].Value))) continue;
            if (match.Groups["kind"].Value == "tmp")
            {
                Delete(entry);
                cleaned++;
            }
            else if (Directory.Exists(entry))
            {
                string target = Path.Combine(parent, match.Groups["name"].Value);
                if (Directory.Exists(target)) Directory.Delete(entry, recursive: true);
                else Directory.Move(entry, target);
                cleaned++;
            }
        }
        return cleaned;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static void Delete(string entry)
    {
        if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
        else if (File.Exists(entry)) File.Delete(entry);
    }

    /// <summary>".NAME.PID.GUID.tmp" (a write in progress) or ".NAME.PID.GUID.old" (a replaced folder not yet deleted).</summary>
    [GeneratedRegex(@"^\.(?<name>.+)\.(?<pid>\d+)\.[0-9a-f]{32}\.(?<kind>tmp|old)$")]
    private static partial Regex LeftoverName();
}
