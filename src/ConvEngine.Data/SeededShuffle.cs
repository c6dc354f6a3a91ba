using ConvEngine.Kernels;

namespace ConvEngine.Data;

/// <summary>
/// Deterministic shuffles from an integer seed, drawn from <see cref="CounterRng"/> so that the same seed gives
/// the same order on every machine and .NET version.
/// </summary>
internal static class SeededShuffle
{
    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public static void Permute<T>(Span<T> items, ulong seed)
    {
        ulong draw = 0;
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Below(seed, draw++, i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A uniformly random permutation of 0..count−1.</summary>
    public static int[] Permutation(int count, ulong seed)
    {
        var order = Identity(count);
        Permute<int>(order, seed);
        return order;
    }

    /// <summary>
    /// The order tf.data's <c>shuffle(buffer_size)</c> yields 0..count−1 in: fill a buffer with the first
    /// <paramref name="bufferSize"/> elements, then repeatedly emit a uniformly chosen buffered element and put the
    /// next input element in its place. Elements move at most about a buffer's length earlier than their input position.
    /// </summary>
    public static int[] BufferedOrder(int count, int bufferSize, ulong seed)
    {
        if (bufferSize < 1)
            throw new ArgumentOutOfRangeException(nameof(bufferSize), $"Buffered shuffle: buffer size must be at least 1, got {bufferSize}.");
        var order = new int[count];
        var buffer = new int[Math.Min(bufferSize, count)];
        int filled = 0, next = 0;
        while (filled < buffer.Length)
            buffer[filled++] = next++;
        ulong draw = 0;
        for (int emitted = 0; emitted < count; emitted++)
        {
            int pick = Below(seed, draw++, filled);
            order[emitted] = buffer[pick];
            if (next < count)
                buffer[pick] = next++;
            else
                buffer[pick] = buffer[--filled];
        }
        return order;
    }

    /// <summary>The seed of one epoch's shuffle: a pure function of the dataset seed and the epoch.</summary>
    public static ulong EpochSeed(ulong seed, int epoch) => CounterRng.Hash(seed ^ 0x5EED_E90C_0000_0000UL, (ulong)(uint)epoch);

    internal static int[] Identity(int count)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
            order[i] = i;
        return order;
    }

    // Uniform in [0, bound): Lemire's multiply-high of a 64-bit draw, bias below 2^-32 for any int bound.
    private static int Below(ulong seed, ulong draw, int bound) =>
        (int)(((UInt128)CounterRng.Hash(seed, draw) * (ulong)bound) >> 64);
}
