namespace ConvEngine.Serialization;

/// <summary>
/// Opening a file the user named: it must exist and be a regular file (a device such as /dev/zero never ends, a FIFO
/// blocks on open), and whole-file reads are bounded. Errors name the file and say what it was expected to be.
/// </summary>
public static class InputFile
{
    /// <summary>Checks that <paramref name="path"/> is a regular file (links followed) and returns its length.</summary>
    /// <param name="what">What the file is, for messages: "Model config", "Image", "Weights file".</param>
    /// <exception cref="FileNotFoundException">It does not exist (or is a link to nothing).</exception>
    /// <exception cref="IOException">It is a folder, a device, a pipe or a socket.</exception>
    /// <param name="path">The file to check.</param>
    public static long Check(string path, string what)
    {
        var kind = FileKinds.Of(path);
        if (kind == FileKind.Missing)
        {
            if (FileKinds.Of(path, followLinks: false) == FileKind.SymbolicLink)
                throw new FileNotFoundException($"{what} '{path}' is a symbolic link to nothing (a missing target, or links that loop).", path);
            throw new FileNotFoundException($"{what} '{path}' does not exist.", path);
        }
        if (kind != FileKind.Regular)
            throw new IOException($"{what} '{path}' is {FileKinds.Describe(kind)}, not a regular file.");
        return new FileInfo(path).Length;
    }

    /// <summary>Opens a regular file for reading (see <see cref="Check"/>).</summary>
    public static FileStream OpenRead(string path, string what)
    {
        Check(path, what);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    /// <summary>The whole file, refused before reading when it is longer than <paramref name="maxBytes"/>.</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes)
    {
        long length = Check(path, what);
        long limit = Math.Min(maxBytes, Array.MaxLength);
        if (length > limit)
            throw new IOException($"{what} '{path}' is {length} bytes, more than the {limit} bytes such a file may have.");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var bytes = new byte[length];
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read < bytes.Length)
            throw new IOException($"{what} '{path}' shrank while it was read ({read} of {length} bytes).");
        return bytes;
    }
}
