using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Reference;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>
/// The inference conv of the cpu backend (a filter packed once, output written into a channel slice of a wider
/// tensor, a residual added before the activation) against the independent double-precision reference, for every
/// conv2d variant and SIMD level here, on odd shapes that cut tiles, K blocks (K &gt; 256) and N blocks (OC &gt; 256), split over pixels or over output channels.
/// </summary>
public class CpuInferenceConvTests
{
    public static IEnumerable<SimdLevel> Levels() => Enum.GetValues<SimdLevel>().Where(l => l <= SimdSupport.Detected);

    public sealed record Case(int N, int H, int W, int C, int K, int OC, int Stride, int Groups, Padding Padding, KernelActivation Activation)
    {
        public override string ToString() => $"{N}x{H}x{W}x{C} k{K} s{Stride} g{Groups} ->{OC} {Padding} {Activation}";
    }

    private static readonly Case[] Cases =
    [
        new(1, 9, 11, 5, 3, 7, 1, 1, Padding.Same, KernelActivation.Relu),
        new(2, 15, 13, 40, 3, 300, 1, 1, Padding.Same, KernelActivation.None),        // K 360: two K blocks; OC 300: two N blocks
        new(3, 7, 7, 24, 1, 40, 1, 1, Padding.Valid, KernelActivation.LeakyRelu(0.1f)),  // pointwise, no im2col
        new(1, 12, 10, 6, 5, 9, 2, 1, Padding.Same, KernelActivation.Sigmoid),
        new(2, 9, 8, 12, 3, 18, 1, 3, Padding.Same, KernelActivation.Relu),           // grouped
        new(2, 13, 17, 21, 3, 21, 1, 21, Padding.Same, KernelActivation.Relu),        // depthwise, vector + scalar tail
        new(1, 16, 19, 32, 3, 32, 2, 32, Padding.Same, KernelActivation.None),        // depthwise, strided
        new(1, 9, 10, 19, 3, 19, 1, 19, Padding.Same, KernelActivation.Sigmoid),     // depthwise, sigmoid after the vector stores
        new(1, 6, 5, 3, 3, 6, 1, 3, Padding.Valid, KernelActivation.Tanh),           // depthwise with multiplier 2
        new(2, 11, 9, 3, 3, 20, 2, 1, Padding.Same, KernelActivation.Relu),          // RGB first layer: the default runs it on direct
        new(1, 10, 7, 17, 3, 35, 1, 1, Padding.Same, KernelActivation.Sigmoid),      // direct's post-pass activation, ragged 16-wide panels
        // Few pixels, many output channels: the threads split the packed filter's columns, inside one N block and across two.
        new(1, 3, 3, 40, 3, 600, 1, 1, Padding.Same, KernelActivation.Relu),
        new(1, 2, 3, 300, 1, 520, 1, 1, Padding.Valid, KernelActivation.None),      // pointwise, two K blocks
        new(1, 4, 3, 32, 3, 400, 1, 2, Padding.Same, KernelActivation.Relu),        // grouped
    ];

    public static IEnumerable<TestCaseData> CaseData() =>
        from variant in new[] { CpuBackend.ImplicitGemmVariant, CpuBackend.Im2colGemmVariant, CpuBackend.DirectConvVariant, CpuBackend.ReferenceVariant }
        from level in Levels()
        from c in Cases
        from slice in new[] { false, true }
        select new TestCaseData(variant, level, c, slice).SetArgDisplayNames(variant, level.ToString(), c.ToString(), slice ? "slice+residual" : "compact");

    [TestCaseSource(nameof(CaseData))]
    public void PackedConv_EqualsDoubleReference(string variant, SimdLevel simd, Case c, bool slice)
    {
        var options = new Conv2DOptions { StrideH = c.Stride, StrideW = c.Stride, Padding = c.Padding, Groups = c.Groups };
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(c.N, c.H, c.W, c.C), new TensorShape(c.K, c.K, c.C / c.Groups, c.OC), options);
        var rng = new Random(c.GetHashCode() & 0xffff);
        float[] x = Values(rng, g.InputShape.Length), f = Values(rng, g.FilterShape.Length), bias = Values(rng, g.OC);
        long pixels = (long)g.N * g.OH * g.OW;
        // A slice: channels 3..3+OC of pixels 7 wider than OC, with a residual laid out the same way.
        int offset = slice ? 3 : 0, stride = slice ? g.OC + 7 : g.OC;
        float[] before = Values(rng, pixels * stride), residual = Values(rng, pixels * stride);

        using var cpu = new CpuBackend(threads: 2, simd: simd, tuning: TuningMode.Off);
        cpu.Variants.Select("conv2d", variant);
        using var bx = Upload(cpu, x);
        using var bf = Upload(cpu, f);
        using var bb = Upload(cpu, bias);
        using var by = Upload(cpu, before);
        using var br = Upload(cpu, residual);
        using var packed = cpu.PackConv2DFilter(bf, g);
        cpu.Conv2D(bx, packed, bb, by, g, c.Activation, new Conv2DOutput(offset, slice ? stride : 0, slice ? br : null));
        var actual = new float[before.Length];
        cpu.Download(by, actual);

        var linear = DoubleReference.Conv2D(Nd.FromFloats(x, c.N, c.H, c.W, c.C), Nd.FromFloats(f, c.K, c.K, c.C / c.Groups, c.OC),
            Array.ConvertAll(bias, v => (double)v), options);
        double tolerance = 1e-5 * Math.Sqrt(c.K * c.K * c.C / c.Groups + 2);
        for (long p = 0; p < pixels; p++)
            for (int ch = 0; ch < stride; ch++)
            {
                double got = actual[p * stride + ch];
                if (ch < offset || ch >= offset + g.OC)
                {
                    if (got != before[p * stride + ch]) Assert.Fail($"pixel {p} channel {ch} outside the slice was overwritten.");
                    continue;
                }
                double sum = linear.Data[p * g.OC + ch - offset] + (slice ? residual[p * stride + ch] : 0);
                double want = DoubleReference.Activate(sum, c.Activation);
                if (Math.Abs(got - want) > tolerance * (1 + Math.Abs(want)))
                    Assert.Fail($"pixel {p} channel {ch}: {got}, reference {want}.");
            }
    }

    [Test]
    public void PackedConv_RefusesAChannelSliceOutsideThePixel()
    {
        var g = Conv2DGeometry.Create("Conv2D", new TensorShape(1, 4, 4, 2), new TensorShape(1, 1, 2, 8), new Conv2DOptions());
        using var cpu = new CpuBackend(threads: 1, tuning: TuningMode.Off);
        using var x = cpu.Allocate(g.InputShape.Length);
        using var f = cpu.Allocate(g.FilterShape.Length);
        using var y = cpu.Allocate(16 * 10);
        using var packed = cpu.PackConv2DFilter(f, g);
        var error = Assert.Throws<ArgumentException>(() => cpu.Conv2D(x, packed, null, y, g, KernelActivation.None, new Conv2DOutput(4, 10)))!;
        Assert.That(error.Message, Does.Contain("4..12").And.Contain("10 channels"));
    }

    private static float[] Values(Random rng, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static DeviceBuffer Upload(CpuBackend cpu, float[] data)
    {
        var buffer = cpu.Allocate(data.Length);
        cpu.Upload(data, buffer);
        return buffer;
    }
}
