using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>
/// 2-D convolution kernels, NHWC input, HWIO filter (Keras layout), one thread per result element:
/// the readable reference of the family. The fast forms run the tiled GEMM (<see cref="IlgpuTiledGemmKernel"/>)
/// over <see cref="ConvOperands"/>, <see cref="ConvBackwardDataOperands"/> and <see cref="ConvBackwardFilterOperands"/>.
/// </summary>
internal static class IlgpuConvKernels
{
    /// <summary>
    /// Direct convolution, one thread per output element (b,i,j,o):
    /// out = act(bias[o] + Σ_{p,q,c} in[b, i·s+p·d−pad, j·s+q·d−pad, group·Cg+c] · f[p,q,c,o]), cross-correlation, pads read as 0.
    /// </summary>
    public static void ForwardDirect(Index1D index, ArrayView<float> input, ArrayView<float> filter, ArrayView<float> bias, int hasBias,
        ArrayView<float> output, Conv2DGeometry g, KernelActivation activation)
    {
        int o = index % g.OC;
        int pixel = index / g.OC;
        int j = pixel % g.OW;
        int i = pixel / g.OW % g.OH;
        int b = pixel / (g.OW * g.OH);
        int cg = g.C / g.Groups;
        int channel0 = o / (g.OC / g.Groups) * cg;

        float sum = hasBias != 0 ? bias[o] : 0f;
        for (int p = 0; p < g.KH; p++)
        {
            int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
            if (ih < 0 || ih >= g.H) continue;
            for (int q = 0; q < g.KW; q++)
            {
                int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                if (iw < 0 || iw >= g.W) continue;
                int inBase = ((b * g.H + ih) * g.W + iw) * g.C + channel0;
                int fBase = (p * g.KW + q) * cg * g.OC + o;
                for (int c = 0; c < cg; c++)
                    sum += input[inBase + c] * filter[fBase + c * g.OC];
            }
        }
        output[index] = IlgpuKernelMath.Activate(sum, activation);
    }

    /// <summary>
    /// Gradient of the input as a gather, one thread per input element (b,h,w,ci), so no atomics:
    /// gIn[b,h,w,ci] = Σ over (p,q) and output pixels (i,j) with i·s+p·d−pad = h, j·s+q·d−pad = w,
    /// and over the group's output channels o, of gOut[b,i,j,o] · f[p,q,ci−group·Cg,o].
    /// </summary>
    public static void BackwardDataGather(Index1D index, ArrayView<float> gradOutput, ArrayView<float> filter, ArrayView<float> gradInput, Conv2DGeometry g)
    {
        int ci = index % g.C;
        int pixel = index / g.C;
        int w = pixel % g.W;
        int h = pixel / g.W % g.H;
        int b = pixel / (g.W * g.H);
        int cg = g.C / g.Groups, ocg = g.OC / g.Groups;
        int group = ci / cg, c = ci % cg;

        float sum = 0f;
        for (int p = 0; p < g.KH; p++)
        {
            int ti = h + g.PadTop - p * g.DilationH;   // = i·StrideH when output row i reads input row h
            if (ti < 0 || ti % g.StrideH != 0) continue;
            int i = ti / g.StrideH;
            if (i >= g.OH) continue;
            for (int q = 0; q < g.KW; q++)
            {
                int tj = w + g.PadLeft - q * g.DilationW;
                if (tj < 0 || tj % g.StrideW != 0) continue;
                int j = tj / g.StrideW;
                if (j >= g.OW) continue;
                int outBase = ((b * g.OH + i) * g.OW + j) * g.OC + group * ocg;
                int fBase = ((p * g.KW + q) * cg + c) * g.OC + group * ocg;
                for (int oo = 0; oo < ocg; oo++)
                    sum += gradOutput[outBase + oo] * filter[fBase + oo];
            }
        }
        gradInput[index] = sum;
    }

    /// <summary>
    /// Gradient of the filter, one thread per filter element (p,q,c,o):
    /// gF[p,q,c,o] = Σ_{b,i,j} in[b, i·s+p·d−pad, j·s+q·d−pad, group·Cg+c] · gOut[b,i,j,o] (pads contribute 0).
    /// </summary>
    public static void BackwardFilterDirect(Index1D index, ArrayView<float> input, ArrayView<float> gradOutput, ArrayView<float> gradFilter, Conv2DGeometry g)
    {
        int cg = g.C / g.Groups;
        int o = index % g.OC;
        int c = index / g.OC % cg;
        int q = index / (g.OC * cg) % g.KW;
        int p = index / (g.OC * cg * g.KW);
        int channel = o / (g.OC / g.Groups) * cg + c;

        float sum = 0f;
        for (int b = 0; b < g.N; b++)
        for (int i = 0; i < g.OH; i++)
        {
            int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
            if (ih < 0 || ih >= g.H) continue;
            for (int j = 0; j < g.OW; j++)
            {
                int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                if (iw < 0 || iw >= g.W) continue;
                sum += input[((b * g.H + ih) * g.W + iw) * g.C + channel]
                     * gradOutput[((b * g.OH + i) * g.OW + j) * g.OC + o];
            }
        }
        gradFilter[index] = sum;
    }
}
