using ConvEngine.Kernels.Geometry;
using ILGPU;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>ChannelAffine, LRN and Transpose: one thread per output element.</summary>
internal static class IlgpuNormalizationKernels
{
    /// <summary>output = input · scale[c] + shift[c], c = index mod channels.</summary>
    public static void ChannelAffine(Index1D index, ArrayView<float> input, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> output, int channels)
    {
        int c = index % channels;
        output[index] = input[index] * scale[c] + shift[c];
    }

    /// <summary>y = x / (bias + α/size · Σ window x²)^β, the window clipped to the channel range.</summary>
    public static void Lrn(Index1D index, ArrayView<float> input, ArrayView<float> output, LrnGeometry g)
    {
        int c = index % g.Channels;
        int rowStart = index - c;
        int first = c - g.Before < 0 ? 0 : c - g.Before;
        int last = c + g.After > g.Channels - 1 ? g.Channels - 1 : c + g.After;
        float sum = 0f;
        for (int k = first; k <= last; k++)
        {
            float v = input[rowStart + k];
            sum += v * v;
        }
        output[index] = input[index] / MathF.Pow(g.Bias + g.Alpha / g.Size * sum, g.Beta);
    }

    /// <summary>Output element (o0,o1,o2,o3) reads the input at Σ o_i · InStride_i.</summary>
    public static void Transpose(Index1D index, ArrayView<float> input, ArrayView<float> output, TransposeGeometry g)
    {
        int rest = index;
        int o3 = rest % g.Out3; rest /= g.Out3;
        int o2 = rest % g.Out2; rest /= g.Out2;
        int o1 = rest % g.Out1;
        int o0 = rest / g.Out1;
        output[index] = input[o0 * g.InStride0 + o1 * g.InStride1 + o2 * g.InStride2 + o3 * g.InStride3];
    }
}
