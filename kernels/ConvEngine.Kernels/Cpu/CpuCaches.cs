using System.Globalization;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The data cache sizes of this machine's first core, read once from Linux's
/// /sys/devices/system/cpu/cpu0/cache (per-core L1d and L2, the L3 slice that core shares). The GEMM's
/// blocking is derived from them, so it fits the machine it runs on rather than the one it was tuned on.
/// Where sysfs is missing (other systems, containers that hide it), a conservative 32 KiB / 512 KiB / 8 MiB.
/// </summary>
internal sealed record CpuCaches(long L1Data, long L2, long L3, string Source)
{
    public static CpuCaches Fallback { get; } = new(32 << 10, 512 << 10, 8 << 20, "fallback (no sysfs cache description)");

    private static readonly Lazy<CpuCaches> s_current = new(() => Read("/sys/devices/system/cpu/cpu0/cache"));

    /// <summary>This machine's caches.</summary>
    public static CpuCaches Current => s_current.Value;

    /// <summary>Reads a sysfs cache folder (index*/level, type, size); missing levels keep the fallback's size.</summary>
    public static CpuCaches Read(string folder)
    {
        long l1 = 0, l2 = 0, l3 = 0;
        try
        {
            if (!Directory.Exists(folder)) return Fallback;
            foreach (string index in Directory.EnumerateDirectories(folder, "index*"))
            {
                string type = ReadText(Path.Combine(index, "type"));
                if (type is not ("Data" or "Unified")) continue;
                int level = int.Parse(ReadText(Path.Combine(index, "level")), CultureInfo.InvariantCulture);
                long size = ParseSize(ReadText(Path.Combine(index, "size")));
                switch (level)
                {
                    case 1: l1 = size; break;
                    case 2: l2 = size; break;
                    case 3: l3 = size; break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return Fallback;
        }
        if (l1 == 0 && l2 == 0) return Fallback;
        return new CpuCaches(l1 > 0 ? l1 : Fallback.L1Data, l2 > 0 ? l2 : Fallback.L2, l3 > 0 ? l3 : Fallback.L3, folder);
    }

    /// <summary>"32K", "512K", "32768K", "1M" or plain bytes.</summary>
    public static long ParseSize(string text)
    {
        text = text.Trim();
        long unit = 1;
        if (text.EndsWith('K')) unit = 1 << 10;
        else if (text.EndsWith('M')) unit = 1 << 20;
        else if (text.EndsWith('G')) unit = 1 << 30;
        if (unit > 1) text = text[..^1];
        return long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture) * unit;
    }

    private static string ReadText(string path) => File.ReadAllText(path).Trim();

    public override string ToString() => $"L1d {L1Data >> 10} KiB, L2 {L2 >> 10} KiB, L3 {L3 >> 20} MiB";
}
