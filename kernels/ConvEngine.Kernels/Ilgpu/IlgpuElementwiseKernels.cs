using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Kernels that touch each element independently: activations, arithmetic, dropout, channel concat/split, padding.</summary>
internal static class IlgpuElementwiseKernels
{
    /// <summary>output = act(input).</summary>
    public static void Activate(Index1D index, ArrayView<float> input, ArrayView<float> output, KernelActivation activation) =>
        output[index] = IlgpuKernelMath.Activate(input[index], activation);

    /// <summary>gradInput = gradOutput · act'(x), with act' written from the activation's output y.</summary>
    public static void ActivationBackward(Index1D index, ArrayView<float> output, ArrayView<float> gradOutput, ArrayView<float> gradInput, KernelActivation activation) =>
        gradInput[index] = gradOutput[index] * IlgpuKernelMath.DerivativeFromOutput(output[index], activation);

    public static void Add(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) =>
        output[index] = a[index] + b[index];

    public static void Multiply(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) =>
        output[index] = a[index] * b[index];

    /// <summary>y = alpha·x + y.</summary>
    public static void Axpy(Index1D index, float alpha, ArrayView<float> x, ArrayView<float> y) =>
        y[index] = alpha * x[index] + y[index];

    public static void Fill(Index1D index, ArrayView<float> buffer, float value) => buffer[index] = value;

    /// <summary>
    /// Inverted dropout with the shared counter-based draw: keep when Uniform(seed, i) ≥ rate, so every
    /// backend builds the same mask; mask = keep ? scale : 0 with scale = 1/(1−rate); output = input·mask.
    /// </summary>
    public static void Dropout(Index1D index, ArrayView<float> input, ArrayView<float> mask, ArrayView<float> output, float rate, float scale, ulong seed)
    {
        float m = CounterRng.Uniform(seed, (ulong)index.X) >= rate ? scale : 0f;
        mask[index] = m;
        output[index] = input[index] * m;
    }

    /// <summary>
    /// One input of a channel concat: (pixels, channels) → columns [offset, offset+channels) of
    /// (pixels, total). With <paramref name="toWide"/> = 0 it copies back, which is Split.
    /// </summary>
    public static void CopyChannels(Index1D index, ArrayView<float> narrow, ArrayView<float> wide, int channels, int total, int offset, int toWide)
    {
        int c = index % channels, p = index / channels;
        int wideIndex = p * total + offset + c;
        if (toWide != 0) wide[wideIndex] = narrow[index];
        else narrow[index] = wide[wideIndex];
    }

    /// <summary>One thread per output element; <see cref="Pad2DGeometry.SourceIndex"/> maps it to the copied input cell or to a zero.</summary>
    public static void Pad2D(Index1D index, ArrayView<float> input, ArrayView<float> output, Pad2DGeometry g, PadMode mode)
    {
        int c = index % g.C;
        int pixel = index / g.C;
        int j = pixel % g.OW;
        int i = pixel / g.OW % g.OH;
        int b = pixel / (g.OW * g.OH);
        int ih = Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode);
        int iw = Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode);
        output[index] = ih < 0 || iw < 0 ? 0f : input[((b * g.H + ih) * g.W + iw) * g.C + c];
    }

    /// <summary>
    /// Gather, one thread per input element (b,h,w,c): sums every output cell whose source is (h,w).
    /// Only the direct cell and cells inside the pad bands can map to it, so only those are scanned.
    /// </summary>
    public static void Pad2DBackward(Index1D index, ArrayView<float> gradOutput, ArrayView<float> gradInput, Pad2DGeometry g, PadMode mode)
    {
        int c = index % g.C;
        int pixel = index / g.C;
        int w = pixel % g.W;
        int h = pixel / g.W % g.H;
        int b = pixel / (g.W * g.H);
        int rowCandidates = g.Top + g.Bottom + 1, colCandidates = g.Left + g.Right + 1;

        float sum = 0f;
        for (int r = 0; r < rowCandidates; r++)
        {
            int i = PadCandidate(r, h, g.Top, g.H);
            if (Pad2DGeometry.SourceIndex(i - g.Top, g.H, mode) != h) continue;
            for (int s = 0; s < colCandidates; s++)
            {
                int j = PadCandidate(s, w, g.Left, g.W);
                if (Pad2DGeometry.SourceIndex(j - g.Left, g.W, mode) != w) continue;
                sum += gradOutput[((b * g.OH + i) * g.OW + j) * g.C + c];
            }
        }
        gradInput[index] = sum;
    }

    /// <summary>Candidate k of an axis: 0 is the direct cell, then the leading pad band, then the trailing one.</summary>
    private static int PadCandidate(int k, int position, int before, int length)
    {
        if (k == 0) return position + before;
        if (k <= before) return k - 1;
        return before + length + (k - 1 - before);
    }
}
