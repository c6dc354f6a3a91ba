using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine;

/// <summary>
/// The forward ops, checked and dispatched: each validates shapes (errors name the op and the
/// shapes), allocates its output on the inputs' backend and runs that backend's kernel.
/// </summary>
public static partial class Ops
{
    /// <summary>Conv2D: input (N,H,W,C), filter (KH,KW,C/groups,OC), bias (OC) or null.</summary>
    public static Tensor Conv2D(Tensor input, Tensor filter, Tensor? bias, Conv2DOptions? options = null) =>
        Conv2DCore("Conv2D", input, filter, bias, options ?? new Conv2DOptions(), shapes: null);

    private static Tensor Conv2DCore(string op, Tensor input, Tensor filter, Tensor? bias, Conv2DOptions options, string? shapes)
    {
        var g = Conv2DGeometry.Create(op, input.Shape, filter.Shape, options, shapes);
        SameBackend(op, input, filter, bias);
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != g.OC))
            throw new ShapeException($"{op}: bias must be ({g.OC}); got {bias.Shape} with filter {shapes ?? filter.Shape.ToString()}.");
        var output = Tensor.Zeros(input.Backend, g.OutputShape);
        input.Backend.Conv2D(input.Buffer, filter.Buffer, bias?.Buffer, output.Buffer, g, options.Activation);
        return output;
    }

    /// <summary>
    /// Conv1D through the Conv2D kernels: input (N,L,C) as (N,1,L,C), filter (K,C/groups,OC) as (1,K,C/groups,OC).
    /// Padding valid, same or causal; stride and dilation apply along L.
    /// </summary>
    public static Tensor Conv1D(Tensor input, Tensor filter, Tensor? bias, int stride = 1, int dilation = 1,
        Padding? padding = null, int groups = 1, KernelActivation activation = default)
    {
        if (input.Shape.Rank != 3)
            throw new ShapeException($"Conv1D: input must be (N, L, C); got input {input.Shape}, filter {filter.Shape}.");
        if (filter.Shape.Rank != 3)
            throw new ShapeException($"Conv1D: filter must be (K, C/groups, OC); got input {input.Shape}, filter {filter.Shape}.");
        var pad = padding ?? Padding.Valid;
        if (pad.Mode == PaddingMode.Explicit) pad = Padding.Explicit(0, 0, pad.Left, pad.Right);
        using var x = input.Reshape(input.Shape[0], 1, input.Shape[1], input.Shape[2]);
        using var f = filter.Reshape(1, filter.Shape[0], filter.Shape[1], filter.Shape[2]);
        var options = new Conv2DOptions { StrideW = stride, DilationW = dilation, Padding = pad, Groups = groups, Activation = activation };
        var y = Conv2DCore("Conv1D", x, f, bias, options, $"input {input.Shape}, filter {filter.Shape}");
        return y.ReshapeOwning(y.Shape[0], y.Shape[2], y.Shape[3]);
    }

    /// <summary>Max pooling, NHWC; Keras's MaxPooling2D defaults (2×2, stride 2, valid) when no options are given.</summary>
    public static Tensor MaxPool2D(Tensor input, Pool2DOptions? options = null) => Pool2D("MaxPool2D", input, options, PoolKind.Max);
    /// <summary>Average pooling, NHWC; Keras's AveragePooling2D defaults when no options are given.</summary>
    public static Tensor AveragePool2D(Tensor input, Pool2DOptions? options = null) => Pool2D("AveragePooling2D", input, options, PoolKind.Average);

    private static Tensor Pool2D(string op, Tensor input, Pool2DOptions? options, PoolKind kind)
    {
        var g = Pool2DGeometry.Create(op, input.Shape, options ?? new Pool2DOptions());
        var output = Tensor.Zeros(input.Backend, g.OutputShape);
        input.Backend.Pool2D(input.Buffer, output.Buffer, g, kind);
        return output;
    }

    /// <summary>(N,H,W,C) → (N,C).</summary>
    public static Tensor GlobalAveragePool2D(Tensor input) => GlobalPool("GlobalAveragePooling2D", input, PoolKind.Average);
    /// <summary>The maximum of each channel over the image: (N, H, W, C) → (N, C).</summary>
    public static Tensor GlobalMaxPool2D(Tensor input) => GlobalPool("GlobalMaxPooling2D", input, PoolKind.Max);

    private static Tensor GlobalPool(string op, Tensor input, PoolKind kind)
    {
        if (input.Shape.Rank is not (3 or 4))
            throw new ShapeException($"{op}: input must be (N, H, W, C) or (N, L, C); got {input.Shape}.");
        int n = input.Shape[0], c = input.Shape[-1];
        int spatial = (int)(input.Length / n / c);
        var output = Tensor.Zeros(input.Backend, n, c);
        input.Backend.GlobalPool(input.Buffer, output.Buffer, n, spatial, c, kind);
        return output;
    }

    /// <summary>Dense: input (N,in), kernel (in,units) as Keras stores it, bias (units) or null.</summary>
    public static Tensor Dense(Tensor input, Tensor kernel, Tensor? bias, KernelActivation activation = default)
    {
        if (input.Shape.Rank != 2 || kernel.Shape.Rank != 2 || input.Shape[1] != kernel.Shape[0])
            throw new ShapeException($"Dense: input (N, in) must match kernel (in, units); got input {input.Shape}, kernel {kernel.Shape}.");
        SameBackend("Dense", input, kernel, bias);
        int m = input.Shape[0], k = input.Shape[1], n = kernel.Shape[1];
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != n))
            throw new ShapeException($"Dense: bias must be ({n}); got {bias.Shape} with kernel {kernel.Shape}.");
        var output = Tensor.Zeros(input.Backend, m, n);
        input.Backend.Dense(input.Buffer, kernel.Buffer, bias?.Buffer, output.Buffer, m, k, n, activation);
        return output;
    }

    /// <summary>(N, ...) → (N, product of the rest): channels-last order, as Keras flattens.</summary>
    public static Tensor Flatten(Tensor input) => input.Reshape(input.Shape[0], (int)input.Shape.SampleLength);

    /// <paramref name="activation"/> applied elementwise, as a new tensor.
    public static Tensor Activate(Tensor input, KernelActivation activation)
    {
        var output = Tensor.Zeros(input.Backend, input.Shape);
        input.Backend.Activate(input.Buffer, output.Buffer, input.Length, activation);
        return output;
    }

    /// <summary>max(x, 0), elementwise.</summary>
    public static Tensor Relu(Tensor input) => Activate(input, KernelActivation.Relu);
    /// <summary>x &gt; 0 ? x : alpha·x, elementwise (Keras's LeakyReLU default slope 0.3).</summary>
    public static Tensor LeakyRelu(Tensor input, float alpha = 0.3f) => Activate(input, KernelActivation.LeakyRelu(alpha));
    /// <summary>1/(1 + e⁻ˣ), elementwise.</summary>
    public static Tensor Sigmoid(Tensor input) => Activate(input, KernelActivation.Sigmoid);
    /// <summary>tanh(x), elementwise.</summary>
    public static Tensor Tanh(Tensor input) => Activate(input, KernelActivation.Tanh);

    /// <summary>Softmax over the last axis.</summary>
    public static Tensor Softmax(Tensor input) => SoftmaxCore(input, log: false);
    /// <summary>Log-softmax over the last axis, computed as x − max − log Σ exp(x − max).</summary>
    public static Tensor LogSoftmax(Tensor input) => SoftmaxCore(input, log: true);

    private static Tensor SoftmaxCore(Tensor input, bool log)
    {
        int cols = input.Shape[-1];
        var output = Tensor.Zeros(input.Backend, input.Shape);
        input.Backend.Softmax(input.Buffer, output.Buffer, (int)(input.Length / cols), cols, log);
        return output;
    }

    /// <summary>Elementwise sum of two tensors of the same shape.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape)
            throw new ShapeException($"Add: shapes must be equal; got {a.Shape} and {b.Shape}.");
        SameBackend("Add", a, b, null);
        var output = Tensor.Zeros(a.Backend, a.Shape);
        a.Backend.Add(a.Buffer, b.Buffer, output.Buffer, a.Length);
        return output;
    }

    /// <summary>Concatenates along the last (channel) axis; all other dimensions must agree.</summary>
    public static Tensor Concat(params Tensor[] inputs)
    {
        if (inputs.Length == 0) throw new ArgumentException("Concat: needs at least one input.");
        var first = inputs[0].Shape;
        foreach (var t in inputs)
        {
            if (t.Shape.Rank != first.Rank || !t.Shape.Dims[..^1].SequenceEqual(first.Dims[..^1]))
                throw new ShapeException($"Concat: all inputs must agree except in the last axis; got {string.Join(", ", inputs.Select(i => i.Shape))}.");
            SameBackend("Concat", inputs[0], t, null);
        }
        var channels = inputs.Select(t => t.Shape[-1]).ToArray();
        var dims = first.ToArray();
        dims[^1] = channels.Sum();
        var output = Tensor.Zeros(inputs[0].Backend, dims);
        long pixels = first.Length / first[-1];
        inputs[0].Backend.Concat(inputs.Select(t => t.Buffer).ToArray(), channels, output.Buffer, pixels);
        return output;
    }

    /// <summary>Pads height and width: zeros (Keras ZeroPadding2D), reflection, or edge replication.</summary>
    public static Tensor Pad2D(Tensor input, int top, int bottom, int left, int right, PadMode mode = PadMode.Zero)
    {
        var g = Pad2DGeometry.Create(mode == PadMode.Zero ? "ZeroPadding2D" : $"Pad2D({mode})", input.Shape, top, bottom, left, right, mode);
        var output = Tensor.Zeros(input.Backend, g.OutputShape);
        input.Backend.Pad2D(input.Buffer, output.Buffer, g, mode);
        return output;
    }

    private static void SameBackend(string op, Tensor a, Tensor b, Tensor? c)
    {
        if (!ReferenceEquals(a.Backend, b.Backend) || (c is not null && !ReferenceEquals(a.Backend, c.Backend)))
            throw new ArgumentException($"{op}: all tensors must live on the same backend; copy them with Tensor.To(backend) first.");
    }
}
