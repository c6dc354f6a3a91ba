using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Fast elementwise, reduction and copy kernels: activations, softmax, add, concat, pad, global
/// pooling. Loops over contiguous floats go through TensorPrimitives (which picks its own vector
/// width) except at <see cref="SimdLevel.Scalar"/>, where they follow the reference definitions
/// one float at a time. Large ops are cut into one chunk per thread.
/// </summary>
internal static unsafe class CpuElementwiseKernels
{
    /// <summary>Below this many floats per chunk a second thread is not worth starting.</summary>
    private const long MinFloatsPerPart = 1L << 16;

    /// <summary>output = act(input), in place allowed.</summary>
    public static void Activate(ReadOnlySpan<float> input, Span<float> output, KernelActivation act, SimdLevel simd)
    {
        output = output[..input.Length];
        if (simd == SimdLevel.Scalar)
        {
            for (int i = 0; i < input.Length; i++) output[i] = act.Apply(input[i]);
            return;
        }
        switch (act.Kind)
        {
            case ActivationKind.None:
                input.CopyTo(output);
                break;
            case ActivationKind.Relu:
            case ActivationKind.LeakyRelu:
                Rectify(input, output, act.Kind == ActivationKind.LeakyRelu, act.Alpha, simd);
                break;
            case ActivationKind.Sigmoid:
                TensorPrimitives.Sigmoid(input, output);
                break;
            case ActivationKind.Tanh:
                TensorPrimitives.Tanh(input, output);
                break;
            default:
                CpuActivationKernels.Apply(input, output, act);
                break;
        }
    }

    public static void Activate(SimdLevel simd, int threads, float* input, float* output, long length, KernelActivation act)
    {
        int parts = CpuParallel.Parts(threads, length, MinFloatsPerPart);
        CpuParallel.For(parts, part =>
        {
            var (s, e) = CpuParallel.Range((int)length, parts, part, 16);
            Activate(new ReadOnlySpan<float>(input + s, e - s), new Span<float>(output + s, e - s), act, simd);
        });
    }

    public static void Add(SimdLevel simd, int threads, float* a, float* b, float* output, long length)
    {
        int parts = CpuParallel.Parts(threads, length, MinFloatsPerPart);
        CpuParallel.For(parts, part =>
        {
            var (s, e) = CpuParallel.Range((int)length, parts, part, 16);
            if (simd == SimdLevel.Scalar)
                for (int i = s; i < e; i++) output[i] = a[i] + b[i];
            else
                TensorPrimitives.Add(new ReadOnlySpan<float>(a + s, e - s), new ReadOnlySpan<float>(b + s, e - s), new Span<float>(output + s, e - s));
        });
    }

    /// <summary>Softmax or log-softmax per row; subtracts the row max first so exp never overflows.</summary>
    public static void Softmax(SimdLevel simd, int threads, float* input, float* output, int rows, int cols, bool log)
    {
        int parts = Math.Min(rows, CpuParallel.Parts(threads, (long)rows * cols, MinFloatsPerPart));
        CpuParallel.For(parts, part =>
        {
            var (r0, r1) = CpuParallel.Range(rows, parts, part);
            for (int r = r0; r < r1; r++)
            {
                var x = new ReadOnlySpan<float>(input + (nint)r * cols, cols);
                var y = new Span<float>(output + (nint)r * cols, cols);
                if (simd == SimdLevel.Scalar) SoftmaxRowScalar(x, y, log);
                else SoftmaxRow(x, y, log);
            }
        });
    }

    /// <summary>Safe in place (x and y the same row): each step reads an element before it writes it.</summary>
    private static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        if (!log)
        {
            TensorPrimitives.Exp(y, y);
            TensorPrimitives.Divide(y, TensorPrimitives.Sum(y), y);
            return;
        }
        // (x − max) − log Σ exp(x − max), in the reference's order; the exps go through a small
        // stack buffer because y must keep x − max.
        Span<float> chunk = stackalloc float[256];
        float sum = 0f;
        for (int i = 0; i < y.Length; i += chunk.Length)
        {
            var part = y.Slice(i, Math.Min(chunk.Length, y.Length - i));
            TensorPrimitives.Exp(part, chunk[..part.Length]);
            sum += TensorPrimitives.Sum(chunk[..part.Length]);
        }
        TensorPrimitives.Subtract(y, MathF.Log(sum), y);
    }

    private static void SoftmaxRowScalar(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = MathF.Max(max, v);
        float sum = 0f;
        foreach (float v in x) sum += MathF.Exp(v - max);
        for (int c = 0; c < x.Length; c++)
            y[c] = log ? x[c] - max - MathF.Log(sum) : MathF.Exp(x[c] - max) / sum;
    }

    /// <summary>(pixels, channels[t]) inputs side by side along the last axis: one run copy per pixel and input.</summary>
    public static void Concat(int threads, float*[] inputs, int[] channels, float* output, long pixels)
    {
        int total = channels.Sum();
        int parts = CpuParallel.Parts(threads, pixels * total, MinFloatsPerPart);
        CpuParallel.For(parts, part =>
        {
            var (p0, p1) = CpuParallel.Range((int)pixels, parts, part);
            int offset = 0;
            for (int t = 0; t < inputs.Length; t++)
            {
                int ct = channels[t];
                float* src = inputs[t] + (nint)p0 * ct, dst = output + (nint)p0 * total + offset;
                for (int p = p0; p < p1; p++, src += ct, dst += total)
                    Unsafe.CopyBlockUnaligned(dst, src, (uint)ct * sizeof(float));
                offset += ct;
            }
        });
    }

    /// <summary>
    /// Copies (pixels, <paramref name="channels"/>) into channels <paramref name="offset"/>.. of (pixels, <paramref name="stride"/>):
    /// one input of a concatenation whose other inputs were written in place.
    /// </summary>
    public static void CopyChannels(int threads, float* input, float* output, long pixels, int channels, int offset, int stride)
    {
        int parts = CpuParallel.Parts(threads, pixels * channels, MinFloatsPerPart);
        CpuParallel.For(parts, part =>
        {
            var (p0, p1) = CpuParallel.Range((int)pixels, parts, part);
            float* src = input + (nint)p0 * channels, dst = output + (nint)p0 * stride + offset;
            for (int p = p0; p < p1; p++, src += channels, dst += stride)
                Unsafe.CopyBlockUnaligned(dst, src, (uint)channels * sizeof(float));
        });
    }

    /// <summary>Pads (N,H,W,C) spatially: the interior of each row is one copy; pad cells copy a source pixel or are zero.</summary>
    public static void Pad2D(int threads, float* input, float* output, Pad2DGeometry g, PadMode mode)
    {
        int rowCount = g.N * g.OH;
        int parts = CpuParallel.Parts(threads, (long)rowCount * g.OW * g.C, MinFloatsPerPart);
        CpuParallel.For(parts, part =>
        {
            var (r0, r1) = CpuParallel.Range(rowCount, parts, part);
            uint pixelBytes = (uint)g.C * sizeof(float);
            for (int row = r0; row < r1; row++)
            {
                int b = row / g.OH, i = row % g.OH;
                float* dst = output + (nint)row * g.OW * g.C;
                int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode);
                if (ih < 0)
                {
                    new Span<float>(dst, g.OW * g.C).Clear();
                    continue;
                }
                float* src = input + ((nint)b * g.H + ih) * g.W * g.C;
                for (int j = 0; j < g.OW; j++)
                {
                    if (j == g.Left)
                    {
                        Unsafe.CopyBlockUnaligned(dst + (nint)j * g.C, src, (uint)(g.W * g.C) * sizeof(float));
                        j += g.W - 1;
                        continue;
                    }
                    int iw = Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode);
                    if (iw < 0) Unsafe.InitBlockUnaligned(dst + (nint)j * g.C, 0, pixelBytes);
                    else Unsafe.CopyBlockUnaligned(dst + (nint)j * g.C, src + (nint)iw * g.C, pixelBytes);
                }
            }
        });
    }

    /// <summary>(N, spatial, C) → (N, C): a running max or sum of whole rows of channels, then the mean's division.</summary>
    public static void GlobalPool(SimdLevel simd, int threads, float* input, float* output, int n, int spatial, int channels, PoolKind kind)
    {
        if (spatial == 0)
        {
            // No positions: the reference's empty max (−∞) or empty mean (0/0).
            new Span<float>(output, n * channels).Fill(kind == PoolKind.Max ? float.NegativeInfinity : float.NaN);
            return;
        }
        // Split over images, or over channel ranges when there are fewer images than threads.
        bool splitImages = n >= threads;
        int units = splitImages ? n : channels;
        int parts = Math.Min(units, CpuParallel.Parts(threads, (long)n * spatial * channels, MinFloatsPerPart));
        CpuParallel.For(parts, part =>
        {
            var (u0, u1) = CpuParallel.Range(units, parts, part, splitImages ? 1 : 16);
            int b0 = splitImages ? u0 : 0, b1 = splitImages ? u1 : n;
            int c0 = splitImages ? 0 : u0, width = splitImages ? channels : u1 - u0;
            for (int b = b0; b < b1; b++)
            {
                var acc = new Span<float>(output + (nint)b * channels + c0, width);
                float* image = input + (nint)b * spatial * channels + c0;
                new ReadOnlySpan<float>(image, width).CopyTo(acc);
                for (int s = 1; s < spatial; s++)
                {
                    var row = new ReadOnlySpan<float>(image + (nint)s * channels, width);
                    if (simd == SimdLevel.Scalar)
                        for (int c = 0; c < width; c++) acc[c] = kind == PoolKind.Max ? MathF.Max(acc[c], row[c]) : acc[c] + row[c];
                    else if (kind == PoolKind.Max) TensorPrimitives.Max(acc, row, acc);
                    else TensorPrimitives.Add(acc, row, acc);
                }
                if (kind == PoolKind.Average)
                {
                    if (simd == SimdLevel.Scalar)
                        for (int c = 0; c < width; c++) acc[c] /= spatial;
                    else TensorPrimitives.Divide(acc, spatial, acc);
                }
            }
        });
    }

    /// <summary>x &gt; 0 ? x : 0 (ReLU) or x &gt; 0 ? x : slope·x (leaky), exactly as Activation.Apply defines them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rectify(ReadOnlySpan<float> input, Span<float> output, bool leaky, float slope, SimdLevel simd)
    {
        int i = 0;
        fixed (float* x = input, y = output)
        {
            if (simd == SimdLevel.Avx512)
            {
                var s = Vector512.Create(slope);
                for (; i <= input.Length - 16; i += 16)
                {
                    var v = Vector512.Load(x + i);
                    Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, leaky ? v * s : Vector512<float>.Zero).Store(y + i);
                }
            }
            else if (simd == SimdLevel.Avx2)
            {
                var s = Vector256.Create(slope);
                for (; i <= input.Length - 8; i += 8)
                {
                    var v = Vector256.Load(x + i);
                    Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, leaky ? v * s : Vector256<float>.Zero).Store(y + i);
                }
            }
            for (; i < input.Length; i++) y[i] = x[i] > 0f ? x[i] : leaky ? slope * x[i] : 0f;
        }
    }
}
