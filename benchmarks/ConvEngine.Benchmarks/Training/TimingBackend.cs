using System.Diagnostics;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks.Training;

/// <summary>One backend call as seen by <see cref="TimingBackend"/>.</summary>
/// <param name="Kernel">The IBackend method, e.g. "Conv2DBackwardFilter".</param>
/// <param name="Shape">What it worked on, e.g. "64x128x128x3 * 5x5 -> 32".</param>
/// <param name="Elements">Values written (or the count the call was given), for matching a call to a layer.</param>
/// <param name="Buffers">The buffer arguments that tell its layer: weights, gradients of weights, outputs.</param>
public sealed record KernelCall(string Kernel, string Shape, long Elements, DeviceBuffer?[] Buffers)
{
    /// <summary>The (H, W, C) a pooling call reads, for matching it to its layer.</summary>
    public (int H, int W, int C)? PoolInput { get; init; }
    /// <summary>Floating-point operations (a multiply-add counts 2) of a conv or matrix product; 0 for the others.</summary>
    public double Flops { get; init; }
    public TimeSpan Elapsed { get; init; }
}

/// <summary>
/// Wraps a backend and times every call (Stopwatch around it, after <see cref="IBackend.Synchronize"/> so an
/// asynchronous backend is timed too). Calls are kept in order until <see cref="TakeCalls"/>. For profiling only:
/// it adds a few hundred nanoseconds per call.
/// </summary>
public sealed partial class TimingBackend(IBackend inner) : IBackend
{
    private readonly List<KernelCall> _calls = [];

    public IBackend Inner { get; } = inner;
    public string Name => Inner.Name;
    public DeviceInfo Device => Inner.Device;
    public KernelVariants Variants => Inner.Variants;

    /// <summary>The calls since the last take, in order.</summary>
    public List<KernelCall> TakeCalls()
    {
        var calls = _calls.ToList();
        _calls.Clear();
        return calls;
    }

    private static long Start() => Stopwatch.GetTimestamp();

    private void Stop(long start, KernelCall call)
    {
        Inner.Synchronize();
        _calls.Add(call with { Elapsed = Stopwatch.GetElapsedTime(start) });
    }

    private void Stop(long start, string kernel, string shape, long elements, params DeviceBuffer?[] buffers) =>
        Stop(start, new KernelCall(kernel, shape, elements, buffers));

    private static string Conv(in Conv2DGeometry g) => $"{g.N}x{g.H}x{g.W}x{g.C} * {g.KH}x{g.KW} -> {g.OC}";
    private static string Pool(in Pool2DGeometry g) => $"{g.N}x{g.H}x{g.W}x{g.C} / {g.PoolH}x{g.PoolW}";

    // ---- memory ----

    public DeviceBuffer Allocate(long length) { var t = Start(); var b = Inner.Allocate(length); Stop(t, "Allocate", $"{length}", length); return b; }
    public void Upload(ReadOnlySpan<float> source, DeviceBuffer destination) { var t = Start(); Inner.Upload(source, destination); Stop(t, "Upload", $"{source.Length}", source.Length, destination); }
    public void Download(DeviceBuffer source, Span<float> destination) { var t = Start(); Inner.Download(source, destination); Stop(t, "Download", $"{destination.Length}", destination.Length, source); }
    public void Copy(DeviceBuffer source, DeviceBuffer destination, long length) { var t = Start(); Inner.Copy(source, destination, length); Stop(t, "Copy", $"{length}", length, source, destination); }
    public void Synchronize() => Inner.Synchronize();

    // ---- forward ----

    public void Conv2D(DeviceBuffer input, DeviceBuffer filter, DeviceBuffer? bias, DeviceBuffer output, in Conv2DGeometry g, KernelActivation activation)
    { var t = Start(); Inner.Conv2D(input, filter, bias, output, g, activation); Stop(t, new KernelCall("Conv2D", $"{Conv(g)} {activation}", g.OutputShape.Length, [filter, bias, output]) { Flops = g.Flops }); }
    public void Pool2D(DeviceBuffer input, DeviceBuffer output, in Pool2DGeometry g, PoolKind kind)
    { var t = Start(); Inner.Pool2D(input, output, g, kind); Stop(t, new KernelCall("Pool2D", $"{kind} {Pool(g)}", g.OutputShape.Length, [output]) { PoolInput = (g.H, g.W, g.C) }); }
    public void GlobalPool(DeviceBuffer input, DeviceBuffer output, int n, int spatial, int channels, PoolKind kind)
    { var t = Start(); Inner.GlobalPool(input, output, n, spatial, channels, kind); Stop(t, "GlobalPool", $"{kind} {n}x{spatial}x{channels}", (long)n * channels, output); }
    public void Dense(DeviceBuffer input, DeviceBuffer weights, DeviceBuffer? bias, DeviceBuffer output, int m, int k, int n, KernelActivation activation)
    { var t = Start(); Inner.Dense(input, weights, bias, output, m, k, n, activation); Stop(t, new KernelCall("Dense", $"{m}x{k} * {k}x{n} {activation}", (long)m * n, [weights, bias, output]) { Flops = 2.0 * m * k * n }); }
    public void Activate(DeviceBuffer input, DeviceBuffer output, long length, KernelActivation activation)
    { var t = Start(); Inner.Activate(input, output, length, activation); Stop(t, "Activate", $"{activation} {length}", length, output); }
    public void Softmax(DeviceBuffer input, DeviceBuffer output, int rows, int cols, bool log)
    { var t = Start(); Inner.Softmax(input, output, rows, cols, log); Stop(t, "Softmax", $"{rows}x{cols}", (long)rows * cols, output); }
    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    { var t = Start(); Inner.Add(a, b, output, length); Stop(t, "Add", $"{length}", length, output); }
    public void Concat(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<int> channels, DeviceBuffer output, long pixels)
    { var t = Start(); Inner.Concat(inputs, channels, output, pixels); Stop(t, "Concat", $"{pixels}x{channels.Sum()}", pixels * channels.Sum(), output); }
    public void Pad2D(DeviceBuffer input, DeviceBuffer output, in Pad2DGeometry g, PadMode mode)
    { var t = Start(); Inner.Pad2D(input, output, g, mode); Stop(t, "Pad2D", $"{mode}", output.Length, output); }

    // ---- backward, losses, optimizers ----

    public void Conv2DBackwardData(DeviceBuffer gradOutput, DeviceBuffer filter, DeviceBuffer gradInput, in Conv2DGeometry g)
    { var t = Start(); Inner.Conv2DBackwardData(gradOutput, filter, gradInput, g); Stop(t, new KernelCall("Conv2DBackwardData", Conv(g), g.InputShape.Length, [filter, gradInput]) { Flops = g.Flops }); }
    public void Conv2DBackwardFilter(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradFilter, in Conv2DGeometry g)
    { var t = Start(); Inner.Conv2DBackwardFilter(input, gradOutput, gradFilter, g); Stop(t, new KernelCall("Conv2DBackwardFilter", Conv(g), g.FilterShape.Length, [gradFilter]) { Flops = g.Flops }); }
    public void BiasBackward(DeviceBuffer gradOutput, DeviceBuffer gradBias, long rows, int channels)
    { var t = Start(); Inner.BiasBackward(gradOutput, gradBias, rows, channels); Stop(t, "BiasBackward", $"{rows}x{channels}", channels, gradBias); }
    public void Pool2DBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pool2DGeometry g, PoolKind kind)
    { var t = Start(); Inner.Pool2DBackward(input, gradOutput, gradInput, g, kind); Stop(t, new KernelCall("Pool2DBackward", $"{kind} {Pool(g)}", g.InputShape.Length, [gradInput]) { PoolInput = (g.H, g.W, g.C) }); }
    public void GlobalPoolBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, int n, int spatial, int channels, PoolKind kind)
    { var t = Start(); Inner.GlobalPoolBackward(input, gradOutput, gradInput, n, spatial, channels, kind); Stop(t, "GlobalPoolBackward", $"{kind} {n}x{spatial}x{channels}", (long)n * spatial * channels, gradInput); }
    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate)
    { var t = Start(); Inner.MatMul(a, b, c, m, k, n, transposeA, transposeB, accumulate); Stop(t, new KernelCall("MatMul", $"{m}x{k} * {k}x{n}{(transposeA ? " Aᵀ" : "")}{(transposeB ? " Bᵀ" : "")}", (long)m * n, [a, b, c]) { Flops = 2.0 * m * k * n }); }
    public void ActivationBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation)
    { var t = Start(); Inner.ActivationBackward(output, gradOutput, gradInput, length, activation); Stop(t, "ActivationBackward", $"{activation} {length}", length, gradInput); }
    public void Pool2DActivationBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, DeviceBuffer? gradBias,
        in Pool2DGeometry g, PoolKind kind, KernelActivation activation)
    {
        var t = Start();
        Inner.Pool2DActivationBackward(input, gradOutput, gradInput, gradBias, g, kind, activation);
        Stop(t, new KernelCall("Pool2DActivationBackward", $"{kind} {Pool(g)} {activation}{(gradBias is null ? "" : " + bias")}", g.InputShape.Length, [gradInput, gradBias]) { PoolInput = (g.H, g.W, g.C) });
    }
    public void ActivationBiasBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, DeviceBuffer gradBias, long rows, int channels, KernelActivation activation)
    { var t = Start(); Inner.ActivationBiasBackward(output, gradOutput, gradInput, gradBias, rows, channels, activation); Stop(t, "ActivationBiasBackward", $"{activation} {rows}x{channels}", rows * channels, gradInput, gradBias); }
    public void SoftmaxBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, int rows, int cols, bool log)
    { var t = Start(); Inner.SoftmaxBackward(output, gradOutput, gradInput, rows, cols, log); Stop(t, "SoftmaxBackward", $"{rows}x{cols}", (long)rows * cols, gradInput); }
    public void Split(DeviceBuffer input, IReadOnlyList<DeviceBuffer> outputs, IReadOnlyList<int> channels, long pixels)
    { var t = Start(); Inner.Split(input, outputs, channels, pixels); Stop(t, "Split", $"{pixels}x{channels.Sum()}", pixels * channels.Sum()); }
    public void Pad2DBackward(DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pad2DGeometry g, PadMode mode)
    { var t = Start(); Inner.Pad2DBackward(gradOutput, gradInput, g, mode); Stop(t, "Pad2DBackward", $"{mode}", gradInput.Length, gradInput); }
    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length)
    { var t = Start(); Inner.Multiply(a, b, output, length); Stop(t, "Multiply", $"{length}", length, output); }
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y, long length)
    { var t = Start(); Inner.Axpy(alpha, x, y, length); Stop(t, "Axpy", $"{length}", length, y); }
    public void Fill(DeviceBuffer buffer, float value, long length)
    { var t = Start(); Inner.Fill(buffer, value, length); Stop(t, "Fill", $"{length}", length, buffer); }
    public void Dropout(DeviceBuffer input, DeviceBuffer mask, DeviceBuffer output, long length, float rate, ulong seed)
    { var t = Start(); Inner.Dropout(input, mask, output, length, rate, seed); Stop(t, "Dropout", $"{length} rate {rate}", length, output); }
    public void Loss(LossKind kind, DeviceBuffer prediction, DeviceBuffer target, DeviceBuffer lossPerRow, DeviceBuffer gradPrediction, int rows, int cols)
    { var t = Start(); Inner.Loss(kind, prediction, target, lossPerRow, gradPrediction, rows, cols); Stop(t, "Loss", $"{kind} {rows}x{cols}", (long)rows * cols, gradPrediction); }
    public void AdamUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer m, DeviceBuffer v, long length, float stepSize, float beta1, float beta2, float epsilon)
    { var t = Start(); Inner.AdamUpdate(parameters, gradient, m, v, length, stepSize, beta1, beta2, epsilon); Stop(t, "AdamUpdate", $"{length}", length, parameters); }
    public void SgdUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer velocity, long length, float learningRate, float momentum, bool nesterov)
    { var t = Start(); Inner.SgdUpdate(parameters, gradient, velocity, length, learningRate, momentum, nesterov); Stop(t, "SgdUpdate", $"{length}", length, parameters); }

    // ---- normalization, layout ----

    public void BatchNormStatistics(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, long rows, int channels)
    { var t = Start(); Inner.BatchNormStatistics(input, mean, variance, rows, channels); Stop(t, "BatchNormStatistics", $"{rows}x{channels}", channels, mean, variance); }
    public void BatchNormForward(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma, DeviceBuffer? beta,
        DeviceBuffer output, long rows, int channels, float epsilon)
    { var t = Start(); Inner.BatchNormForward(input, mean, variance, gamma, beta, output, rows, channels, epsilon); Stop(t, "BatchNormForward", $"{rows}x{channels}", rows * channels, gamma, beta, output); }
    public void BatchNormBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma,
        DeviceBuffer? gradInput, DeviceBuffer? gradGamma, DeviceBuffer? gradBeta, long rows, int channels, float epsilon, bool batchStatistics)
    { var t = Start(); Inner.BatchNormBackward(input, gradOutput, mean, variance, gamma, gradInput, gradGamma, gradBeta, rows, channels, epsilon, batchStatistics); Stop(t, "BatchNormBackward", $"{rows}x{channels}", rows * channels, gamma, gradGamma, gradBeta, gradInput); }
    public void MovingAverageUpdate(DeviceBuffer moving, DeviceBuffer batch, int length, float momentum, float batchScale)
    { var t = Start(); Inner.MovingAverageUpdate(moving, batch, length, momentum, batchScale); Stop(t, "MovingAverageUpdate", $"{length}", length, moving); }
    public void ChannelAffine(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer shift, DeviceBuffer output, long pixels, int channels)
    { var t = Start(); Inner.ChannelAffine(input, scale, shift, output, pixels, channels); Stop(t, "ChannelAffine", $"{pixels}x{channels}", pixels * channels, scale, shift, output); }
    public void Lrn(DeviceBuffer input, DeviceBuffer output, in LrnGeometry g)
    { var t = Start(); Inner.Lrn(input, output, g); Stop(t, "Lrn", $"{g.Pixels}x{g.Channels} size {g.Size}", g.Pixels * g.Channels, output); }
    public void LrnBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in LrnGeometry g)
    { var t = Start(); Inner.LrnBackward(input, gradOutput, gradInput, g); Stop(t, "LrnBackward", $"{g.Pixels}x{g.Channels} size {g.Size}", g.Pixels * g.Channels, gradInput); }
    public void Transpose(DeviceBuffer input, DeviceBuffer output, in TransposeGeometry g)
    { var t = Start(); Inner.Transpose(input, output, g); Stop(t, "Transpose", $"{g.Out0}x{g.Out1}x{g.Out2}x{g.Out3}", g.Length, output); }

    // ---- augmentation ----

    public void ImageTransform(DeviceBuffer input, DeviceBuffer transforms, DeviceBuffer output, in ImageTransformGeometry g)
    { var t = Start(); Inner.ImageTransform(input, transforms, output, g); Stop(t, "ImageTransform", $"{g.N}x{g.H}x{g.W}x{g.C} {g.Fill} {g.Interpolation}", g.OutputShape.Length, output); }
    public void Flip(DeviceBuffer input, DeviceBuffer flags, DeviceBuffer output, int n, int height, int width, int channels)
    { var t = Start(); Inner.Flip(input, flags, output, n, height, width, channels); Stop(t, "Flip", $"{n}x{height}x{width}x{channels}", (long)n * height * width * channels, output); }
    public void AdjustContrast(DeviceBuffer input, DeviceBuffer factors, DeviceBuffer means, DeviceBuffer output, in ContrastGeometry g)
    { var t = Start(); Inner.AdjustContrast(input, factors, means, output, g); Stop(t, "AdjustContrast", $"{g.N}x{g.Pixels}x{g.C}", g.Length, output); }
    public void AdjustBrightness(DeviceBuffer input, DeviceBuffer deltas, DeviceBuffer output, int n, long sampleLength, float low, float high)
    { var t = Start(); Inner.AdjustBrightness(input, deltas, output, n, sampleLength, low, high); Stop(t, "AdjustBrightness", $"{n}x{sampleLength}", n * sampleLength, output); }
    public void Resize(DeviceBuffer input, DeviceBuffer output, in ResizeGeometry g)
    { var t = Start(); Inner.Resize(input, output, g); Stop(t, "Resize", $"{g.N}x{g.H}x{g.W}x{g.C} -> {g.OH}x{g.OW}", g.OutputShape.Length, output); }

    public void Dispose() => Inner.Dispose();
}
