namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The one way cpu kernels split work over threads: a few contiguous parts, decided only by the sizes (never by
/// timing), one parallel split per op; the calling thread and the workers (<see cref="CpuWorkers"/>) each take the
/// next part nobody has taken. Because the split is fixed, a reduction
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
        CpuWorkers.Run(parts, parts, body);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(chunk) for every chunk in [0, chunks) on up to <paramref name="threads"/> threads,
    /// each taking the next unclaimed chunk (see <see cref="CpuWorkers"/>): more chunks than threads, so a thread the
    /// OS holds back costs the op little.
    /// </summary>
    public static void ForChunks(int threads, int chunks, Action<int> body)
    {
        if (chunks <= 0) return;
        if (chunks == 1 || threads <= 1)
        {
            for (int chunk = 0; chunk < chunks; chunk++) body(chunk);
            return;
        }
        CpuWorkers.Run(threads, chunks, body);
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
    /// Whether to split a tiled output over row panels or column panels, and into how many parts: the split whose
    /// busiest part costs less, counting both its tiles (ragged panels in full) and the packing it repeats. Each part
    /// packs the A panels of its rows and the B panels of its columns, so a column split packs all of A in every part
    /// and a row split all of B: <paramref name="aPanelPackTiles"/> and <paramref name="bPanelPackTiles"/> say what
    /// packing one panel costs, in tiles (an im2col gather costs more than a plain copy; a B packed ahead, or shared
    /// by the threads, costs nothing per part). Ties go to rows.
    /// </summary>
    public static (bool SplitRows, int Parts) TileSplit(int rowPanels, int columnPanels, int parts,
        double aPanelPackTiles = DefaultPanelPackTiles, double bPanelPackTiles = DefaultPanelPackTiles)
    {
        int rowParts = Math.Min(parts, rowPanels), columnParts = Math.Min(parts, columnPanels);
        long rowsPerPart = (rowPanels + rowParts - 1) / rowParts, columnsPerPart = (columnPanels + columnParts - 1) / columnParts;
        double rowCost = rowsPerPart * (columnPanels + aPanelPackTiles) + columnPanels * bPanelPackTiles;
        double columnCost = columnsPerPart * (rowPanels + bPanelPackTiles) + rowPanels * aPanelPackTiles;
        bool splitRows = rowCost <= columnCost;
        return (splitRows, splitRows ? rowParts : columnParts);
    }

    /// <summary>
    /// What packing one plain A or B panel costs next to computing one tile over the same depth: a panel of the
    /// micro-kernel's 6–16 rows is read once and written once, about half a tile's FMA time on AVX2 (measured on
    /// GEMM shapes whose two splits tie on tiles: on a Zen 2, 3136×64×576 ran 155–162 GFLOP/s split by rows against
    /// 125–141 by columns).
    /// </summary>
    public const double DefaultPanelPackTiles = 0.5;

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
        CpuWorkers.Run(parts, parts, part => body(Start(count, parts, part), Start(count, parts, part + 1)));
    }

    /// <summary>Runs <paramref name="body"/>(part) for every part in [0, parts) on at most <paramref name="threads"/> threads.</summary>
    public static void ForEachPart(int threads, int parts, Action<int> body)
    {
        if (parts <= 1 || threads <= 1)
        {
            for (int part = 0; part < parts; part++) body(part);
            return;
        }
        CpuWorkers.Run(threads, parts, body);
    }
}
