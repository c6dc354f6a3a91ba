namespace ConvEngine.Kernels.Cpu.Forward;

/// <summary>The one parallel split each cpu op makes: a few contiguous chunks, one per thread.</summary>
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
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, body);
    }

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
        (int)Math.Clamp(work / Math.Max(1, minWorkPerPart), 1, threads);

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
}
