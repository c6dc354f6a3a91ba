using System.Runtime.CompilerServices;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The input rows a strip of output rows reads, as a zero-padded block (W + left + right pixels wide), so the direct
/// conv kernels address every tap of every window without bounds checks. Without padding the input is used in place.
/// </summary>
internal static unsafe class ConvInputStrip
{
    public static bool IsPadded(in Conv2DGeometry g) => g.PadTop > 0 || g.PadBottom > 0 || g.PadLeft > 0 || g.PadRight > 0;

    /// <summary>Pixels per strip row.</summary>
    public static int Width(in Conv2DGeometry g) => g.PadLeft + g.W + g.PadRight;

    /// <summary>Input rows that <paramref name="outputRows"/> output rows read.</summary>
    public static int RowCount(in Conv2DGeometry g, int outputRows) => (outputRows - 1) * g.StrideH + WindowMath.DilatedExtent(g.KH, g.DilationH);

    /// <summary>Floats of a strip for <paramref name="outputRows"/> output rows.</summary>
    public static long Floats(in Conv2DGeometry g, int outputRows) => (long)RowCount(g, outputRows) * Width(g) * g.C;

    /// <summary>
    /// The strip for output rows [i0, i0+count) of image <paramref name="b"/>: its window corner for output pixel (i, j)
    /// is at ((i − i0)·StrideH·Width + j·StrideW)·C. Written into <paramref name="strip"/> (<see cref="Floats"/> long)
    /// when the conv pads; else a pointer into the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float* Rows(float* input, float* strip, in Conv2DGeometry g, int b, int i0, int count)
    {
        int row0 = i0 * g.StrideH - g.PadTop, rows = RowCount(g, count);
        if (!IsPadded(g)) return input + ((nint)b * g.H + row0) * g.W * g.C;
        int rowFloats = Width(g) * g.C, left = g.PadLeft * g.C, width = g.W * g.C;
        for (int r = 0; r < rows; r++)
        {
            float* dst = strip + (nint)r * rowFloats;
            int ih = row0 + r;
            if ((uint)ih >= (uint)g.H)
            {
                new Span<float>(dst, rowFloats).Clear();
                continue;
            }
            new Span<float>(dst, left).Clear();
            new ReadOnlySpan<float>(input + ((nint)b * g.H + ih) * g.W * g.C, width).CopyTo(new Span<float>(dst + left, width));
            new Span<float>(dst + left + width, rowFloats - left - width).Clear();
        }
        return strip;
    }
}
