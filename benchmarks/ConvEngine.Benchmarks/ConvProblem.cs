namespace ConvEngine.Benchmarks;

/// <summary>
/// The data of one conv benchmark in our layouts (input NHWC, filter HWIO, bias): uniform random
/// values from a fixed seed, with the filter scaled by 1/sqrt(fan-in) so outputs stay near unit size.
/// </summary>
public sealed class ConvProblem
{
    public ConvProblem(ConvShape shape, int seed = 1234)
    {
        Shape = shape;
        var g = shape.Geometry;
        var random = new Random(seed);
        Input = Uniform(random, g.InputShape.Length, 1f);
        Filter = Uniform(random, g.FilterShape.Length, 1f / MathF.Sqrt(g.KH * g.KW * g.InChannelsPerGroup));
        Bias = Uniform(random, g.OC, 0.1f);
    }

    public ConvShape Shape { get; }
    public float[] Input { get; }
    public float[] Filter { get; }
    public float[] Bias { get; }

    private static float[] Uniform(Random random, long length, float scale)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (2f * random.NextSingle() - 1f) * scale;
        return values;
    }
}
