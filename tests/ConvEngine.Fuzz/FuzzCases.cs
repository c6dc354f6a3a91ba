using System.Runtime.InteropServices;
using ConvEngine.Cli.Commands;

namespace ConvEngine.Fuzz;

/// <summary>What one case did.</summary>
internal enum Outcome
{
    /// <summary>Read without error (the mutation left a valid file).</summary>
    Ok,
    /// <summary>Refused with a user-facing error of one line that names the file.</summary>
    Clean,
    /// <summary>Refused with a user-facing error that does not name the file, or takes several lines.</summary>
    Unnamed,
    /// <summary>An exception that is a bug (NullReference, IndexOutOfRange, …) or the worker process died (stack overflow).</summary>
    Crash,
    /// <summary>Over the time budget.</summary>
    Hang,
    /// <summary>Out of memory (OutOfMemoryException, or over the worker's memory cap).</summary>
    Oom,
}

/// <summary>
/// Builds case number i of a format, deterministically from (format, seed, i): the first five put a device, a link
/// loop, a FIFO, an empty file or a folder where the file should be; the rest mutate a seed's bytes.
/// </summary>
internal static partial class FuzzCases
{
    public const int SpecialCases = 5;

    public static (string Entry, string Description) Build(FuzzTarget target, IReadOnlyList<SeedCase> seeds, int baseSeed, int index, string directory)
    {
        var random = new Random(StableHash($"{target.Name}/{baseSeed}/{index}") & 0x7FFFFFFF);
        var seed = seeds[random.Next(seeds.Count)];
        Directory.CreateDirectory(directory);
        string victim = seed.Mutable[random.Next(seed.Mutable.Count)];
        string description = $"seed '{seed.Name}'";
        foreach (var (relative, bytes) in seed.Files)
        {
            string path = Path.Combine(directory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (index >= SpecialCases && relative == victim)
            {
                var mutated = Mutator.Mutate(bytes, random, target.Json && relative.EndsWith(".json", StringComparison.Ordinal));
                File.WriteAllBytes(path, mutated);
                description += $", {relative} mutated ({bytes.Length} → {mutated.Length} bytes)";
            }
            else File.WriteAllBytes(path, bytes);
        }
        if (index < SpecialCases)
        {
            string special = Path.Combine(directory, seed.Mutable[0]);
            File.Delete(special);
            switch (index)
            {
                case 0: File.CreateSymbolicLink(special, "/dev/zero"); description += $", {seed.Mutable[0]} → /dev/zero"; break;
                case 1: File.CreateSymbolicLink(special, special); description += $", {seed.Mutable[0]} a link to itself"; break;
                case 2:
                    if (OperatingSystem.IsWindows() || MakeFifo(special, 0x1B6) != 0) File.WriteAllBytes(special, []);
                    description += $", {seed.Mutable[0]} a FIFO";
                    break;
                case 3: File.WriteAllBytes(special, []); description += $", {seed.Mutable[0]} empty"; break;
                default: Directory.CreateDirectory(special); description += $", {seed.Mutable[0]} a folder"; break;
            }
        }
        return (seed.Entry.Length == 0 ? directory : Path.Combine(directory, seed.Entry), description);
    }

    /// <summary>Runs the read and classifies what happened; <paramref name="directory"/> is the case's folder (its files' names count as naming the file).</summary>
    public static (Outcome Outcome, string Message) Run(FuzzTarget target, string entry, string directory)
    {
        try
        {
            target.Read(entry);
            return (Outcome.Ok, "");
        }
        catch (Exception e) when (e is OutOfMemoryException or InsufficientExecutionStackException)
        {
            return (Outcome.Oom, $"{e.GetType().Name}: {e.Message}");
        }
        catch (Exception e)
        {
            string message = e.Message;
            if (!CommandErrors.IsUserError(e)) return (Outcome.Crash, $"{e.GetType().Name}: {OneLine(message)} {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
            var names = Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
                .Select(Path.GetFileName).Where(n => n!.Length >= 4).Append(Path.GetFileName(directory)).ToList();
            bool named = message.Contains(directory, StringComparison.Ordinal) || names.Any(n => message.Contains(n!, StringComparison.Ordinal));
            bool oneLine = !message.Contains('\n');
            return (named && oneLine ? Outcome.Clean : Outcome.Unnamed, $"{e.GetType().Name}: {OneLine(message)}");
        }
    }

    public static string OneLine(string text) => text.ReplaceLineEndings(" ⏎ ");

    private static int StableHash(string text)
    {
        unchecked
        {
            int h = (int)2166136261;
            foreach (char c in text) h = (h ^ c) * 16777619;
            return h;
        }
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeFifo(string path, int mode);
}
