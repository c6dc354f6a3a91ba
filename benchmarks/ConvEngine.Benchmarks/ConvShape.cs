using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks;

/// <summary>A count of floating-point operations, read by <see cref="GflopsColumn"/> from a benchmark parameter.</summary>
public interface IFlopCount
{
    /// <summary>Floating-point operations of one invocation (a multiply-add counts 2).</summary>
    double Flops { get; }
}

/// <summary>
/// One 3x3, stride 1, SAME-padded convolution with bias and ReLU, as every VGG16 conv layer is:
/// input (Batch, Size, Size, InChannels) → output (Batch, Size, Size, OutChannels).
/// </summary>
public sealed record ConvShape(int Batch, int Size, int InChannels, int OutChannels) : IFlopCount, IComparable<ConvShape>, IComparable
{
    public const int Kernel = 3;

    /// <summary>Resolved by the engine's own geometry, so both sides use the pads our SAME arithmetic gives.</summary>
    public Conv2DGeometry Geometry => Conv2DGeometry.Create("Conv2D",
        new TensorShape(Batch, Size, Size, InChannels),
        new TensorShape(Kernel, Kernel, InChannels, OutChannels),
        new Conv2DOptions { Padding = Padding.Same });

    /// <summary>2·N·OH·OW·Cout·9·Cin.</summary>
    public double Flops => Geometry.Flops;

    /// <summary>Network order: by batch, then deeper layers (smaller, wider) later, as VGG16 runs them.</summary>
    public int CompareTo(ConvShape? other)
    {
        if (other is null) return 1;
        int byBatch = Batch.CompareTo(other.Batch);
        if (byBatch != 0) return byBatch;
        int bySize = other.Size.CompareTo(Size);
        if (bySize != 0) return bySize;
        int byIn = InChannels.CompareTo(other.InChannels);
        return byIn != 0 ? byIn : OutChannels.CompareTo(other.OutChannels);
    }

    // BenchmarkDotNet sorts parameter values through the non-generic IComparable.
    int IComparable.CompareTo(object? obj) => CompareTo(obj as ConvShape);

    // BenchmarkDotNet shows parameters by ToString; keep it short and ASCII.
    public override string ToString() => $"N{Batch} {Size}x{Size} {InChannels}->{OutChannels}";
}

/// <summary>The distinct conv layer shapes of VGG16's convolutional base (13 layers, 9 distinct shapes per input size).</summary>
public static class Vgg16ConvShapes
{
    // Per distinct layer, block by block: spatial size as a fraction of the input, in and out
    // channels, and how many of VGG16's 13 conv layers have that shape.
    private static readonly (int Divisor, int In, int Out, int Count)[] Layers =
    [
        (1, 3, 64, 1), (1, 64, 64, 1),
        (2, 64, 128, 1), (2, 128, 128, 1),
        (4, 128, 256, 1), (4, 256, 256, 2),
        (8, 256, 512, 1), (8, 512, 512, 2),
        (16, 512, 512, 3),
    ];

    /// <summary>All distinct layers for a square input of <paramref name="inputSize"/> pixels and a batch.</summary>
    public static IReadOnlyList<ConvShape> All(int inputSize, int batch) =>
        Layers.Select(l => new ConvShape(batch, inputSize / l.Divisor, l.In, l.Out)).ToArray();

    /// <summary>
    /// How many VGG16 conv layers have this shape at the input size <paramref name="inputSize"/>
    /// (0 if none): the weights for estimating the whole conv base from the distinct layers.
    /// </summary>
    public static int LayerCount(ConvShape shape, int inputSize) =>
        Layers.Where(l => inputSize / l.Divisor == shape.Size && l.In == shape.InChannels && l.Out == shape.OutChannels)
              .Sum(l => l.Count);

    /// <summary>
    /// What the benchmark runs: every layer at 224x224 batch 1 (inference on one image), plus one
    /// layer per block at 128x128 batch 8 (the course's small-batch training size), which keeps a
    /// --quick run of both engines within about 12 minutes on 2 cores.
    /// </summary>
    public static IReadOnlyList<ConvShape> Benchmarked { get; } =
    [
        .. All(224, batch: 1),
        .. All(128, batch: 8).Where(s => s.InChannels == s.OutChannels && s.Size >= 16),
    ];
}
