using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Lowers a conv to a GEMM. In NHWC each filter tap reads C/groups contiguous floats, so a row of
/// the column matrix is KH·KW runs of memcpy (or zeros where the tap falls in the padding), and
/// the HWIO filter of one group is already the (KH·KW·C/groups) × (OC/groups) right-hand matrix.
/// </summary>
internal static class CpuIm2Col
{
    /// <summary>Row width: KH·KW·C/groups.</summary>
    public static int RowLength(in Conv2DGeometry g) => g.KH * g.KW * g.InChannelsPerGroup;

    /// <summary>
    /// Writes rows [rowStart, rowStart+rowCount) of image <paramref name="batch"/>'s column matrix for
    /// <paramref name="group"/>: row r is output pixel (r / OW, r % OW); column (p·KW + q)·Cg + c.
    /// </summary>
    public static void Im2Col(ReadOnlySpan<float> input, Span<float> columns, in Conv2DGeometry g,
        int batch, int group, int rowStart, int rowCount)
    {
        int cg = g.InChannelsPerGroup, rowLength = RowLength(g);
        int imageOffset = batch * g.H * g.W * g.C + group * cg;
        for (int r = 0; r < rowCount; r++)
        {
            int pixel = rowStart + r, oh = pixel / g.OW, ow = pixel % g.OW;
            var row = columns.Slice(r * rowLength, rowLength);
            for (int p = 0; p < g.KH; p++)
            {
                int ih = oh * g.StrideH + p * g.DilationH - g.PadTop;
                for (int q = 0; q < g.KW; q++)
                {
                    int iw = ow * g.StrideW + q * g.DilationW - g.PadLeft;
                    var tap = row.Slice((p * g.KW + q) * cg, cg);
                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) tap.Clear();
                    else input.Slice(imageOffset + (ih * g.W + iw) * g.C, cg).CopyTo(tap);
                }
            }
        }
    }
}
