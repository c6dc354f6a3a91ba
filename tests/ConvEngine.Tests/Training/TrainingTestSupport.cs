using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Training;

namespace ConvEngine.Tests.Training;

/// <summary>Fixed batches held in memory: the same batches every epoch, in order.</summary>
internal sealed class MemoryBatches(IReadOnlyList<Batch> batches) : IBatchSource
{
    public int BatchCount => batches.Count;
    public int SampleCount => batches.Sum(b => b.Count);
    public int[] SampleShape => batches[0].InputShape[1..];
    public IEnumerable<Batch> GetBatches(int epoch) => batches;

    /// <summary>Cuts (samples, sample shape) inputs and (samples, target shape) targets into batches of <paramref name="batchSize"/>.</summary>
    public static MemoryBatches Split(float[] inputs, int[] sampleShape, float[] targets, int[] targetShape, int batchSize)
    {
        int inLength = sampleShape.Aggregate(1, (a, d) => a * d), outLength = targetShape.Aggregate(1, (a, d) => a * d);
        int samples = inputs.Length / inLength;
        var list = new List<Batch>();
        for (int start = 0; start < samples; start += batchSize)
        {
            int n = Math.Min(batchSize, samples - start);
            list.Add(new Batch(inputs[(start * inLength)..((start + n) * inLength)], [n, .. sampleShape],
                targets[(start * outLength)..((start + n) * outLength)], [n, .. targetShape]));
        }
        return new MemoryBatches(list);
    }
}

internal static class TestData
{
    /// <summary>Uniform values in [−scale, scale) from a counter-based stream: the same on every run.</summary>
    public static float[] Uniform(int length, ulong seed, float scale = 1f) =>
        Enumerable.Range(0, length).Select(i => (2f * CounterRng.Uniform(seed, (ulong)i) - 1f) * scale).ToArray();

    /// <summary>
    /// Two Gaussian-free clusters in 2-D, separable by the line x0 + x1 = 0: label 1 above it. Points keep a margin of 0.2.
    /// </summary>
    public static (float[] X, float[] Y) SeparablePoints(int count, ulong seed)
    {
        var x = new float[count * 2];
        var y = new float[count];
        int i = 0;
        for (ulong k = 0; i < count; k++)
        {
            float a = 2f * CounterRng.Uniform(seed, 2 * k) - 1f, b = 2f * CounterRng.Uniform(seed, 2 * k + 1) - 1f;
            if (MathF.Abs(a + b) < 0.2f) continue;
            x[2 * i] = a;
            x[2 * i + 1] = b;
            y[i] = a + b > 0 ? 1f : 0f;
            i++;
        }
        return (x, y);
    }
}

/// <summary>The backend the training tests run on: cpu, or the one named by CONVENGINE_TRAINING_TEST_BACKEND (e.g. ilgpu-cpu).</summary>
internal static class TestBackend
{
    private static readonly Lazy<IBackend> Shared = new(() => Backends.Create(Environment.GetEnvironmentVariable("CONVENGINE_TRAINING_TEST_BACKEND") ?? "cpu"));
    public static IBackend Instance => Shared.Value;
}

/// <summary>
/// A two-input elementwise sum written here only to test the graph core (the engine's Add layer lives elsewhere):
/// forward through the backend's Add kernel, backward hands the same gradient to both inputs.
/// </summary>
internal sealed class SumOfTwo(string? name = null) : Layer(name)
{
    public override string ClassName => "SumOfTwo";

    protected override int[] Build(IReadOnlyList<SymbolicTensor> inputs)
    {
        if (inputs.Count != 2 || !inputs[0].Shape.SequenceEqual(inputs[1].Shape))
            throw new ArgumentException("SumOfTwo takes two inputs of one shape.");
        return inputs[0].Shape;
    }

    protected override Tensor Forward(IReadOnlyList<Tensor> inputs, ForwardContext context)
    {
        var output = Workspace("output", inputs[0].Backend, inputs[0].Shape);
        inputs[0].Backend.Add(inputs[0].Buffer, inputs[1].Buffer, output.Buffer, output.Length);
        return output;
    }

    protected override Tensor?[] Backward(Tensor gradOutput, IReadOnlyList<bool> needInputGradient) =>
        [needInputGradient[0] ? gradOutput : null, needInputGradient[1] ? gradOutput : null];
}
