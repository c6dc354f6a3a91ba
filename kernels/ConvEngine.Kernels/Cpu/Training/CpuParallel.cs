namespace ConvEngine.Kernels.Cpu.Training;

/// <summary>
/// The one way the cpu training kernels split work over threads: a fixed, contiguous split of a
/// range into at most <c>threads</c> parts, decided only by the sizes, so a reduction that sums
/// per-part results in part order is bit-identical run to run.
/// </summary>
internal static class CpuParallel
{
    /// <summary>How many parts <paramref name="count"/> items split into when no part may hold fewer than <paramref name="minPerPart"/>.</summary>
    public static int Parts(int threads, long count, long minPerPart) =>
        (int)Math.Clamp(count / Math.Max(1, minPerPart), 1, Math.Max(1, threads));

    /// <summary>Start of part <paramref name="part"/> of <paramref name="parts"/> over [0, count).</summary>
    public static long Start(long count, int parts, int part) => count * part / parts;

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) on each part of [0, count); parts run in parallel,
    /// the calling thread takes one of them. With one part everything runs inline.
    /// </summary>
    public static void For(int threads, long count, long minPerPart, Action<long, long> body)
    {
        int parts = Parts(threads, count, minPerPart);
        if (parts == 1)
        {
            if (count > 0) body(0, count);
            return;
        }
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts },
            part => body(Start(count, parts, part), Start(count, parts, part + 1)));
    }

    /// <summary>Runs <paramref name="body"/>(part) for every part in [0, parts), at most <paramref name="threads"/> at a time.</summary>
    public static void ForEachPart(int threads, int parts, Action<int> body)
    {
        if (parts <= 1 || threads <= 1)
        {
            for (int part = 0; part < parts; part++) body(part);
            return;
        }
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }
}
