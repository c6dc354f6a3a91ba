using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// The random draws of the preprocessing layers: each a pure function of (seed, stream, index) through
/// <see cref="CounterRng"/>, so a seed gives the same draws on every backend, thread and run. Streams keep a
/// layer's quantities apart (RandomTranslation draws heights on one, widths on another).
/// </summary>
public static class AugmentDraws
{
    /// <summary>Uniform in [0, 1), 24 bits.</summary>
    public static float Unit(ulong seed, int stream, int index) =>
        CounterRng.Uniform(CounterRng.Hash(seed, (ulong)stream), (ulong)index);

    /// <summary>tf.random.uniform(minval, maxval) in float32: u·(max − min) + min, so (a, a) gives exactly a.</summary>
    public static float Uniform(ulong seed, int stream, int index, float min, float max) =>
        Unit(seed, stream, index) * (max - min) + min;
}
