namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The one way cpu kernels split work over threads: a few contiguous parts, decided only by the sizes (never by
/// timing), one parallel split per op, each part on its own thread (<see cref="CpuWorkers"/>); the calling thread
/// takes part 0. Because the split is fixed, a reduction
/// that sums per-part results in part order is bit-identical run to run.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Runs <paramref name="body"/>(part) for every part in [0, parts); the caller's thread takes a part too.</summary>
    public static void For(int parts, Action<int> body)
    {
        if (parts <= 0) return;
        if (parts == 1)
        {
            body(0);
            return;
        }
        CpuWorkers.Run(parts, body);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(chunk) for every chunk in [0, chunks) on up to <paramref name="threads"/> threads,
    /// each taking the next unclaimed chunk (see <see cref="CpuWorkers.RunChunks"/>). For ops whose chunks write
    /// disjoint outputs computed the same way whichever thread runs them (GEMM and conv tiles), so the result does
    /// not depend on the schedule.
    /// </summary>
    public static void ForChunks(int threads, int chunks, Action<int> body)
    {
        if (chunks <= 0) return;
        if (chunks == 1 || threads <= 1)
        {
            for (int chunk = 0; chunk < chunks; chunk++) body(chunk);
            return;
        }
        CpuWorkers.RunChunks(threads, chunks, body);
    }

    /// <summary>
    /// How many chunks to cut <paramref name="units"/> tiles into for <paramref name="threads"/> threads: about four per
    /// thread (so a held-back thread's share is small), but none under <paramref name="minUnitsPerChunk"/> tiles.
    /// </summary>
    public static int Chunks(int threads, long units, long minUnitsPerChunk) =>
        threads <= 1 ? 1 : (int)Math.Clamp(units / Math.Max(1, minUnitsPerChunk), 1, 4L * threads);

    /// <summary>
    /// Part <paramref name="part"/> of [0, count) cut into <paramref name="parts"/> near-equal chunks
    /// whose boundaries are multiples of <paramref name="align"/> (so tiles are not split).
    /// </summary>
    public static (int Start, int End) Range(int count, int parts, int part, int align = 1)
    {
        long units = (count + (long)align - 1) / align;
        long start = units * part / parts * align, end = units * (part + 1) / parts * align;
        return ((int)Math.Min(start, count), (int)Math.Min(end, count));
    }

    /// <summary>How many parts to cut <paramref name="work"/> units into so each is worth a thread start.</summary>
    public static int Parts(int threads, long work, long minWorkPerPart) =>
        (int)Math.Clamp(work / Math.Max(1, minWorkPerPart), 1, Math.Max(1, threads));

    /// <summary>
    /// Whether to split a tiled output over row panels or column panels: the one whose busiest
    /// part computes fewer tiles (ragged panels count in full). Ties, and column splits that save
    /// less than <paramref name="columnSplitCost"/> (a factor ≥ 1 for the work a column split
    /// repeats, such as im2col), go to rows. Returns the number of parts too.
    /// </summary>
    public static (bool SplitRows, int Parts) TileSplit(int rowPanels, int columnPanels, int parts, double columnSplitCost = 1.0)
    {
        int rowParts = Math.Min(parts, rowPanels), columnParts = Math.Min(parts, columnPanels);
        long rowTiles = (long)((rowPanels + rowParts - 1) / rowParts) * columnPanels;
        long columnTiles = (long)rowPanels * ((columnPanels + columnParts - 1) / columnParts);
        bool splitRows = rowTiles <= columnTiles * columnSplitCost;
        return (splitRows, splitRows ? rowParts : columnParts);
    }

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
        CpuWorkers.Run(parts, part => body(Start(count, parts, part), Start(count, parts, part + 1)));
    }

    /// <summary>
    /// Runs <paramref name="body"/>(part) for every part in [0, parts) on at most <paramref name="threads"/> threads:
    /// thread t takes parts t, t + threads, … in order.
    /// </summary>
    public static void ForEachPart(int threads, int parts, Action<int> body)
    {
        if (parts <= 1 || threads <= 1)
        {
            for (int part = 0; part < parts; part++) body(part);
            return;
        }
        int used = Math.Min(threads, parts);
        CpuWorkers.Run(used, t =>
        {
            for (int part = t; part < parts; part += used) body(part);
        });
    }
}
