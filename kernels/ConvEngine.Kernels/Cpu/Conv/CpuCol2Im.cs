using System.Numerics.Tensors;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The adjoint of <see cref="CpuIm2Col.Im2Col"/>: adds each column-matrix row's taps back into
/// the input-shaped gradient. Taps that fell in the padding are dropped. Rows are added in order,
/// taps in (p, q) order, so the result is the same every run.
/// </summary>
internal static class CpuCol2Im
{
    /// <summary>
    /// Adds rows [rowStart, rowStart+rowCount) of image <paramref name="batch"/>'s column matrix for
    /// <paramref name="group"/> into <paramref name="gradInput"/> (which the caller zeroed); the
    /// layout is <see cref="CpuIm2Col.Im2Col"/>'s.
    /// </summary>
    public static void Col2Im(ReadOnlySpan<float> columns, Span<float> gradInput, in Conv2DGeometry g,
        int batch, int group, int rowStart, int rowCount)
    {
        int cg = g.InChannelsPerGroup, rowLength = CpuIm2Col.RowLength(g);
        int imageOffset = batch * g.H * g.W * g.C + group * cg;
        for (int r = 0; r < rowCount; r++)
        {
            int pixel = rowStart + r, oh = pixel / g.OW, ow = pixel % g.OW;
            var row = columns.Slice(r * rowLength, rowLength);
            for (int p = 0; p < g.KH; p++)
            {
                int ih = oh * g.StrideH + p * g.DilationH - g.PadTop;
                if (ih < 0 || ih >= g.H) continue;
                for (int q = 0; q < g.KW; q++)
                {
                    int iw = ow * g.StrideW + q * g.DilationW - g.PadLeft;
                    if (iw < 0 || iw >= g.W) continue;
                    var target = gradInput.Slice(imageOffset + (ih * g.W + iw) * g.C, cg);
                    var tap = row.Slice((p * g.KW + q) * cg, cg);
                    if (cg == 1) target[0] += tap[0];
                    else TensorPrimitives.Add(target, tap, target);
                }
            }
        }
    }
}
