namespace ConvEngine.Benchmarks.Training;

/// <summary>
/// One batch of random training data, made once and given to both engines: images uniform in [0, 1)
/// in our NHWC layout (and permuted to torch's NCHW), targets as class indices or 0/1.
/// </summary>
public sealed class TrainingData
{
    public TrainingData(TrainingNet net, int seed = 1234)
    {
        Net = net;
        var random = new Random(seed);
        InputsNhwc = new float[net.BatchSize * net.SampleLength];
        for (int i = 0; i < InputsNhwc.Length; i++) InputsNhwc[i] = random.NextSingle();
        int classes = net.Loss == TrainingLoss.BinaryCrossentropy ? 2 : net.OutputUnits;
        Targets = new float[net.BatchSize];
        for (int i = 0; i < Targets.Length; i++) Targets[i] = random.Next(classes);
    }

    public TrainingNet Net { get; }
    /// <summary>(N, H, W, C) row-major.</summary>
    public float[] InputsNhwc { get; }
    /// <summary>One per sample: a class index (sparse CE) or 0/1 (binary CE).</summary>
    public float[] Targets { get; }

    /// <summary>The same images as (N, C, H, W) row-major.</summary>
    public float[] InputsNchw()
    {
        int n = Net.BatchSize, h = Net.Height, w = Net.Width, c = Net.Channels;
        var nchw = new float[InputsNhwc.Length];
        for (int b = 0; b < n; b++)
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        for (int ch = 0; ch < c; ch++)
            nchw[((b * c + ch) * h + y) * w + x] = InputsNhwc[((b * h + y) * w + x) * c + ch];
        return nchw;
    }
}
