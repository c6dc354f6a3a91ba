using System.Runtime.InteropServices;
using System.Text;

namespace ConvEngine.Serialization;

/// <summary>What a path names on disk, as stat(2) tells it.</summary>
public enum FileKind
{
    /// <summary>Nothing at the path.</summary>
    Missing,
    /// <summary>A regular file.</summary>
    Regular,
    /// <summary>A directory.</summary>
    Directory,
    /// <summary>A symbolic link (not followed).</summary>
    SymbolicLink,
    /// <summary>A character device, e.g. /dev/zero.</summary>
    CharacterDevice,
    /// <summary>A block device.</summary>
    BlockDevice,
    /// <summary>A named pipe; opening it would block.</summary>
    Fifo,
    /// <summary>A Unix socket.</summary>
    Socket,
    /// <summary>Something stat(2) reports that none of the others name.</summary>
    Unknown,
}

/// <summary>
/// The kind of a file system entry. .NET's FileInfo cannot tell /dev/zero, a FIFO or /proc files from an empty regular
/// file (all report length 0), and opening a FIFO blocks, so readers and writers ask here before they open anything.
/// </summary>
public static partial class FileKinds
{
    /// <summary>
    /// The kind of <paramref name="path"/>; with <paramref name="followLinks"/> false a symbolic link is reported as
    /// one (lstat), otherwise as what it points to (a dangling or looping link is <see cref="FileKind.Missing"/>).
    /// </summary>
    public static FileKind Of(string path, bool followLinks = true)
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                return OfUnix(path, followLinks);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // A runtime without System.Native's stat: fall back to what FileInfo can tell.
            }
        }
        return OfManaged(path, followLinks);
    }

    /// <summary>A phrase for messages: "a regular file", "a character device", "a symbolic link".</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Fifo => "a named pipe (FIFO)",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    private static FileKind OfManaged(string path, bool followLinks)
    {
        var info = new FileInfo(path);
        if (!followLinks && info.LinkTarget is not null) return FileKind.SymbolicLink;
        if (Directory.Exists(path)) return FileKind.Directory;
        if (!info.Exists) return FileKind.Missing;
        // Devices and pipes report length 0 here; a real empty file is no valid input for any reader either.
        return info.Length > 0 ? FileKind.Regular : FileKind.Unknown;
    }

    private static FileKind OfUnix(string path, bool followLinks)
    {
        // System.Native's FileStatus: int32 Flags, int32 Mode (S_IFMT bits as POSIX), then sizes and times; the
        // buffer is larger than any version of the struct.
        Span<byte> status = stackalloc byte[512];
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        int result = followLinks ? Stat(name, status) : LStat(name, status);
        if (result != 0) return FileKind.Missing;
        int mode = MemoryMarshal.Read<int>(status[4..]);
        return (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            _ => FileKind.Unknown,
        };
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
    private static partial int Stat(byte[] path, Span<byte> status);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat")]
    private static partial int LStat(byte[] path, Span<byte> status);
}
