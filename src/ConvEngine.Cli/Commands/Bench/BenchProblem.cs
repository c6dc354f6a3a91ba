using System.Globalization;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvLayer = ConvEngine.Layers.Conv2D;
using DenseLayer = ConvEngine.Layers.Dense;
using ConvEngine.Models;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// One op shape `convengine bench` times: a conv2d (with bias, no activation, so no error hides under a ReLU) or a
/// dense layer, with seeded data of its size. <see cref="Shape"/> is the text <see cref="Parse"/> reads back.
/// </summary>
internal sealed class BenchProblem
{
    private BenchProblem(string op, string shape, Conv2DGeometry conv, (int M, int K, int N) dense)
    {
        Op = op;
        Shape = shape;
        Conv = conv;
        DenseSize = dense;
        var rng = new Random(11);
        if (op == "conv2d")
        {
            Input = Fill(rng, conv.InputShape.Length, 1f);
            Weights = Fill(rng, conv.FilterShape.Length, 1f / MathF.Sqrt(conv.KH * conv.KW * conv.InChannelsPerGroup));
            Bias = Fill(rng, conv.OC, 0.1f);
            OutputLength = conv.OutputShape.Length;
        }
        else
        {
            Input = Fill(rng, (long)dense.M * dense.K, 1f);
            Weights = Fill(rng, (long)dense.K * dense.N, 1f / MathF.Sqrt(dense.K));
            Bias = Fill(rng, dense.N, 0.1f);
            OutputLength = (long)dense.M * dense.N;
        }
    }

    /// <summary>"conv2d" or "dense": the op's name in the backends' variant tables.</summary>
    public string Op { get; }
    public string Shape { get; }
    public Conv2DGeometry Conv { get; }
    public (int M, int K, int N) DenseSize { get; }
    public float[] Input { get; }
    public float[] Weights { get; }
    public float[] Bias { get; }
    public long OutputLength { get; }
    /// <summary>How many layers of the benchmarked model have this shape (1 for --op).</summary>
    public int Layers { get; private set; } = 1;

    /// <summary>Multiply-adds × 2.</summary>
    public double Flops => Op == "conv2d" ? Conv.Flops : 2.0 * DenseSize.M * DenseSize.K * DenseSize.N;

    // No square brackets: the help table renders option descriptions as console markup, where "[,sS]" is a style tag.
    public const string ConvShapeSyntax = "NxHxWxC,kKHxKW,ocOC, then optionally ,sS ,dD ,gG and ,same or ,valid (e.g. 1x56x56x64,k3x3,oc64,s2)";
    public const string DenseShapeSyntax = "MxKxN: batch, inputs, units (e.g. 64x512x10)";

    /// <summary>Reads <paramref name="spec"/> for <paramref name="op"/> (conv2d: <see cref="ConvShapeSyntax"/>; dense: <see cref="DenseShapeSyntax"/>).</summary>
    public static BenchProblem Parse(string op, string spec)
    {
        string text = spec.Trim().ToLowerInvariant();
        if (op == "dense")
        {
            int[] d = Dims(text, 3, "--shape", DenseShapeSyntax);
            return Dense(d[0], d[1], d[2]);
        }
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        int[] input = Dims(parts[0], 4, "--shape input", ConvShapeSyntax);
        int[]? kernel = null;
        int? oc = null;
        var options = new Conv2DOptions { Padding = Padding.Same };
        foreach (string part in parts.Skip(1))
        {
            if (part is "same" or "valid") options = options with { Padding = part == "same" ? Padding.Same : Padding.Valid };
            else if (part.StartsWith("oc", StringComparison.Ordinal)) oc = Positive(part[2..], part);
            else if (part.StartsWith('k')) kernel = part[1..].Contains('x') ? Dims(part[1..], 2, "--shape kernel", ConvShapeSyntax) : [Positive(part[1..], part), Positive(part[1..], part)];
            else if (part.StartsWith('s')) options = options.WithStrides(Positive(part[1..], part));
            else if (part.StartsWith('d')) options = options.WithDilation(Positive(part[1..], part));
            else if (part.StartsWith('g')) options = options with { Groups = Positive(part[1..], part) };
            else throw new ArgumentException($"--shape: '{part}' is not a conv2d shape part; expected {ConvShapeSyntax}.");
        }
        if (kernel is null || oc is null) throw new ArgumentException($"--shape '{spec}' needs the kernel (k3x3) and output channels (oc64): {ConvShapeSyntax}.");
        return Conv2D(input, kernel[0], kernel[1], oc.Value, options);
    }

    /// <summary>Every distinct Conv2D and Dense shape of <paramref name="model"/> at <paramref name="batch"/>, in layer order.</summary>
    public static IReadOnlyList<BenchProblem> FromModel(Model model, int batch)
    {
        var found = new List<BenchProblem>();
        void Add(BenchProblem p)
        {
            if (found.FirstOrDefault(f => f.Shape == p.Shape) is { } same) same.Layers++;
            else found.Add(p);
        }
        void Walk(Model m)
        {
            foreach (var node in m.Nodes)
            {
                int[] x = node.Inputs.Count > 0 ? node.Inputs[0].Shape : [];
                switch (node.Layer)
                {
                    case ConvLayer conv when x.Length == 3:
                        Add(Conv2D([batch, .. x], conv.KernelSize.Height, conv.KernelSize.Width, conv.Filters, new Conv2DOptions
                        {
                            StrideH = conv.Strides.Height, StrideW = conv.Strides.Width,
                            DilationH = conv.DilationRate.Height, DilationW = conv.DilationRate.Width,
                            Padding = conv.Padding, Groups = conv.Groups,
                        }));
                        break;
                    case DenseLayer dense when x.Length == 1:
                        Add(Dense(batch, x[0], dense.Units));
                        break;
                    case Model inner:
                        Walk(inner);
                        break;
                }
            }
        }
        Walk(model);
        if (found.Count == 0) throw new ArgumentException($"Model '{model.Name}' has no Conv2D or Dense layer to benchmark.");
        return found;
    }

    private static BenchProblem Conv2D(int[] input, int kh, int kw, int oc, Conv2DOptions options)
    {
        var g = Conv2DGeometry.Create("bench conv2d", new TensorShape(input[0], input[1], input[2], input[3]),
            new TensorShape(kh, kw, input[3] / Math.Max(1, options.Groups), oc), options);
        string shape = string.Create(CultureInfo.InvariantCulture,
            $"{g.N}x{g.H}x{g.W}x{g.C},k{g.KH}x{g.KW},oc{g.OC},s{g.StrideH}{(g.StrideW != g.StrideH ? $"x{g.StrideW}" : "")}" +
            $"{(g.DilationH > 1 || g.DilationW > 1 ? $",d{g.DilationH}" : "")}{(g.Groups > 1 ? $",g{g.Groups}" : "")},{(options.Padding.Mode == PaddingMode.Same ? "same" : "valid")}");
        return new BenchProblem("conv2d", shape, g, default);
    }

    private static BenchProblem Dense(int m, int k, int n) =>
        new("dense", string.Create(CultureInfo.InvariantCulture, $"{m}x{k}x{n}"), default, (m, k, n));

    /// <summary>Runs the op once on <paramref name="backend"/> with buffers from <see cref="Upload"/>.</summary>
    public void Run(IBackend backend, Buffers b)
    {
        if (Op == "conv2d") backend.Conv2D(b.Input, b.Weights, b.Bias, b.Output, Conv, KernelActivation.None);
        else backend.Dense(b.Input, b.Weights, b.Bias, b.Output, DenseSize.M, DenseSize.K, DenseSize.N, KernelActivation.None);
        backend.Synchronize();
    }

    /// <summary>The op's data on <paramref name="backend"/>; the output buffer starts as NaN, so a kernel that skips a value shows as an error.</summary>
    public Buffers Upload(IBackend backend)
    {
        var b = new Buffers(backend.Allocate(Input.Length), backend.Allocate(Weights.Length), backend.Allocate(Bias.Length), backend.Allocate(OutputLength));
        backend.Upload(Input, b.Input);
        backend.Upload(Weights, b.Weights);
        backend.Upload(Bias, b.Bias);
        var nan = new float[OutputLength];
        Array.Fill(nan, float.NaN);
        backend.Upload(nan, b.Output);
        return b;
    }

    /// <summary>The output of the cpu backend's readable "reference" variant (plain loops), the figure every error is measured against.</summary>
    public float[] Reference()
    {
        using var cpu = new CpuBackend(threads: 1, tuning: TuningMode.Off);
        cpu.Variants.Select(Op, CpuBackend.ReferenceVariant);
        using var buffers = Upload(cpu);
        Run(cpu, buffers);
        return buffers.Read(cpu, OutputLength);
    }

    /// <summary>An op's device buffers.</summary>
    public sealed record Buffers(DeviceBuffer Input, DeviceBuffer Weights, DeviceBuffer Bias, DeviceBuffer Output) : IDisposable
    {
        public float[] Read(IBackend backend, long length)
        {
            var y = new float[length];
            backend.Download(Output, y);
            return y;
        }

        public void Dispose()
        {
            Input.Dispose();
            Weights.Dispose();
            Bias.Dispose();
            Output.Dispose();
        }
    }

    private static float[] Fill(Random rng, long length, float scale)
    {
        var data = new float[length];
        for (int i = 0; i < data.Length; i++) data[i] = scale * (2f * (float)rng.NextDouble() - 1f);
        return data;
    }

    private static int[] Dims(string text, int count, string what, string syntax)
    {
        string[] parts = text.Split('x');
        if (parts.Length != count) throw new ArgumentException($"{what} '{text}' needs {count} sizes joined by 'x': {syntax}.");
        return parts.Select(p => Positive(p, text)).ToArray();
    }

    private static int Positive(string text, string context) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
            : throw new ArgumentException($"--shape: '{context}' needs a positive whole number, got '{text}'.");
}
