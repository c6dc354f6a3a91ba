using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu.Forward;

/// <summary>
/// Fast forward convolutions (NHWC input, HWIO filter). The output of one group is a GEMM:
/// (pixels × KH·KW·C/groups) column matrix · (KH·KW·C/groups × OC/groups) filter slice.
/// </summary>
public static unsafe class CpuConvKernels
{
    /// <summary>
    /// im2col rows a thread builds at a time: about 1 MiB (L2), but never fewer than one GEMM M block,
    /// since every row block streams the whole filter once.
    /// </summary>
    private const int ColumnBlockBytes = 1 << 20;
    private const int MaxBlockRows = 768;
    private const long SerialWork = 1L << 18;

    /// <summary>True when the direct depthwise kernel applies: every group has one input channel.</summary>
    public static bool IsDepthwise(in Conv2DGeometry g) => g.Groups == g.C && g.Groups > 1;

    /// <summary>
    /// im2col + GEMM. One parallel split over the batch×pixel rows (over output-channel panels when
    /// there are too few rows); each thread builds im2col rows for a block that fits its cache,
    /// then runs the blocked GEMM for every group, with bias and activation fused in the epilogue.
    /// A 1×1, stride-1, unpadded conv skips im2col: the NHWC input already is the column matrix.
    /// </summary>
    public static void Im2colGemm(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, Activation activation)
    {
        int k = CpuIm2Col.RowLength(g), ocg = g.OutChannelsPerGroup, cg = g.InChannelsPerGroup;
        int rows = g.N * g.OH * g.OW;
        if (rows == 0 || ocg == 0) return;
        bool pointwise = g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1
            && g.PadTop == 0 && g.PadBottom == 0 && g.PadLeft == 0 && g.PadRight == 0;
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        int blockRows = Math.Clamp(ColumnBlockBytes / (k * sizeof(float)) / mr * mr, GemmBlocking.MC / mr * mr, MaxBlockRows);

        // A column split repeats the im2col in every part, so it must save a clear margin of tiles.
        int rowPanels = (rows + mr - 1) / mr, columnPanels = (ocg + nr - 1) / nr;
        long work = (long)rows * g.OC * k;
        var (splitRows, parts) = CpuParallel.TileSplit(rowPanels, columnPanels, CpuParallel.Parts(threads, work, SerialWork), pointwise ? 1.0 : 1.05);
        long inputLength = (long)g.N * g.H * g.W * g.C;

        CpuParallel.For(parts, part =>
        {
            var scratch = CpuScratch.Current;
            var (r0, r1) = splitRows ? CpuParallel.Range(rows, parts, part, mr) : (0, rows);
            var (j0, j1) = splitRows ? (0, ocg) : CpuParallel.Range(ocg, parts, part, nr);
            if (r0 >= r1 || j0 >= j1) return;
            float* columns = pointwise ? null : scratch.Columns.Get((long)blockRows * k);
            var source = new ReadOnlySpan<float>(input, checked((int)inputLength));
            for (int rb = r0; rb < r1; rb += blockRows)
            {
                int count = Math.Min(blockRows, r1 - rb);
                for (int group = 0; group < g.Groups; group++)
                {
                    float* a;
                    nint lda;
                    if (pointwise)
                    {
                        a = input + (nint)rb * g.C + group * cg;
                        lda = g.C;
                    }
                    else
                    {
                        ColumnRows(source, columns, g, group, rb, count);
                        a = columns;
                        lda = k;
                    }
                    int column0 = group * ocg + j0;
                    var epilogue = new GemmEpilogue(bias == null ? null : bias + column0, activation);
                    CpuGemm.Block(simd, false, false, count, j1 - j0, k, a, lda, filter + column0, g.OC,
                        output + (nint)rb * g.OC + column0, g.OC, false, epilogue, scratch);
                }
            }
        });
    }

    /// <summary>im2col of global rows [row0, row0+count) (batch×pixel order), split where a block crosses into the next image.</summary>
    private static void ColumnRows(ReadOnlySpan<float> input, float* columns, in Conv2DGeometry g, int group, int row0, int count)
    {
        int pixels = g.OH * g.OW, k = CpuIm2Col.RowLength(g);
        for (int done = 0; done < count;)
        {
            int row = row0 + done, image = row / pixels, pixel = row % pixels;
            int run = Math.Min(count - done, pixels - pixel);
            CpuIm2Col.Im2Col(input, new Span<float>(columns + (nint)done * k, run * k), g, image, group, pixel, run);
            done += run;
        }
    }

    /// <summary>
    /// Depthwise conv (groups = C, OC = C·multiplier) without im2col: each output pixel sums its
    /// in-bounds taps with the channels in vector lanes (multiplier 1), or one output channel at a
    /// time otherwise. Parallel over (image, output row). A per-group GEMM would have N = multiplier
    /// columns, almost all tile padding, so this is what <see cref="CpuBackend"/> runs for depthwise convs.
    /// </summary>
    public static void DepthwiseDirect(SimdLevel simd, int threads, float* input, float* filter, float* bias, float* output,
        Conv2DGeometry g, Activation activation)
    {
        if (g.Groups != g.C)
            throw new ArgumentException($"DepthwiseDirect: needs groups = input channels, got groups {g.Groups} with {g.C} channels.");
        int rowCount = g.N * g.OH, windowSize = g.KH * g.KW;
        int parts = Math.Min(rowCount, CpuParallel.Parts(threads, (long)rowCount * g.OW * g.OC * windowSize, SerialWork));
        CpuParallel.For(parts, part =>
        {
            Span<int> tapSpace = windowSize <= 512 ? stackalloc int[2 * windowSize] : new int[2 * windowSize];
            fixed (int* taps = tapSpace)
            {
                var (r0, r1) = CpuParallel.Range(rowCount, parts, part);
                for (int row = r0; row < r1; row++)
                {
                    int b = row / g.OH, i = row % g.OH;
                    float* outRow = output + (nint)row * g.OW * g.OC;
                    for (int j = 0; j < g.OW; j++)
                    {
                        // taps[2t]: input pixel offset, taps[2t+1]: filter tap offset.
                        int count = 0;
                        for (int p = 0; p < g.KH; p++)
                        {
                            int ih = i * g.StrideH + p * g.DilationH - g.PadTop;
                            if (ih < 0 || ih >= g.H) continue;
                            for (int q = 0; q < g.KW; q++)
                            {
                                int iw = j * g.StrideW + q * g.DilationW - g.PadLeft;
                                if (iw < 0 || iw >= g.W) continue;
                                taps[2 * count] = ((b * g.H + ih) * g.W + iw) * g.C;
                                taps[2 * count + 1] = (p * g.KW + q) * g.OC;
                                count++;
                            }
                        }
                        float* dst = outRow + (nint)j * g.OC;
                        if (g.OC == g.C) DepthwisePixel(simd, input, filter, bias, taps, count, dst, g.C);
                        else MultiplierPixel(input, filter, bias, taps, count, dst, g.OC, g.OC / g.C);
                    }
                    var finished = new Span<float>(outRow, g.OW * g.OC);
                    CpuElementwiseKernels.Activate(finished, finished, activation, simd);
                }
            }
        });
    }

    private static void DepthwisePixel(SimdLevel simd, float* input, float* filter, float* bias, int* taps, int count, float* dst, int channels)
    {
        int c = 0;
        if (simd == SimdLevel.Avx512)
            for (; c <= channels - 16; c += 16)
            {
                var acc = bias == null ? Vector512<float>.Zero : Vector512.Load(bias + c);
                for (int t = 0; t < count; t++)
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(input + taps[2 * t] + c), Vector512.Load(filter + taps[2 * t + 1] + c), acc);
                acc.Store(dst + c);
            }
        if (simd >= SimdLevel.Avx2)
            for (; c <= channels - 8; c += 8)
            {
                var acc = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + c);
                for (int t = 0; t < count; t++)
                    acc = Fma.MultiplyAdd(Vector256.Load(input + taps[2 * t] + c), Vector256.Load(filter + taps[2 * t + 1] + c), acc);
                acc.Store(dst + c);
            }
        for (; c < channels; c++)
        {
            float acc = bias == null ? 0f : bias[c];
            for (int t = 0; t < count; t++) acc += input[taps[2 * t] + c] * filter[taps[2 * t + 1] + c];
            dst[c] = acc;
        }
    }

    /// <summary>Depth multiplier &gt; 1: output channel o reads input channel o / multiplier.</summary>
    private static void MultiplierPixel(float* input, float* filter, float* bias, int* taps, int count, float* dst, int outChannels, int multiplier)
    {
        for (int o = 0; o < outChannels; o++)
        {
            int c = o / multiplier;
            float acc = bias == null ? 0f : bias[o];
            for (int t = 0; t < count; t++) acc += input[taps[2 * t] + c] * filter[taps[2 * t + 1] + o];
            dst[o] = acc;
        }
    }
}
