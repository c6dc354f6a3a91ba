using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Fast augmentation kernels. The projective sampler and the bilinear resize map 8 output pixels at once (AVX2) and
/// read their neighbours with masked gathers; every lane does the float operations of the scalar path in the same
/// order, so all SIMD levels give the same bits as <see cref="CpuReferenceKernels"/>'s definitions. Contrast and
/// brightness are elementwise (TensorPrimitives); the channel means are double sums in pixel order at every level.
/// Work is split over threads by output rows or images.
/// </summary>
internal static unsafe class CpuAugmentKernels
{
    /// <summary>Below this many output floats per part a second thread is not worth starting.</summary>
    private const long MinFloatsPerPart = 1L << 15;

    private static bool UseAvx2(SimdLevel simd) => simd >= SimdLevel.Avx2 && Avx2.IsSupported;

    // ---- projective transform ----

    public static void ImageTransform(SimdLevel simd, int threads, float* input, float* transforms, float* output, ImageTransformGeometry g)
    {
        int rows = g.N * g.OH;
        int parts = Math.Min(rows, CpuParallel.Parts(threads, (long)rows * g.OW * g.C, MinFloatsPerPart));
        bool vector = UseAvx2(simd);
        CpuParallel.For(parts, part =>
        {
            var (r0, r1) = CpuParallel.Range(rows, parts, part);
            for (int r = r0; r < r1; r++)
            {
                int b = r / g.OH, y = r % g.OH;
                float* source = input + (nint)b * g.H * g.W * g.C;
                float* row = output + (nint)r * g.OW * g.C;
                switch (g.Fill)
                {
                    case FillMode.Reflect: TransformRow<ReflectMap>(vector, source, transforms + 8 * b, row, y, g); break;
                    case FillMode.Wrap: TransformRow<WrapMap>(vector, source, transforms + 8 * b, row, y, g); break;
                    case FillMode.Constant: TransformRow<ConstantMap>(vector, source, transforms + 8 * b, row, y, g); break;
                    default: TransformRow<NearestMap>(vector, source, transforms + 8 * b, row, y, g); break;
                }
            }
        });
    }

    /// <summary>One output row: 8 pixels at a time with AVX2, the rest (and everything at scalar level) one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformRow<TMap>(bool vector, float* source, float* t, float* row, int y, in ImageTransformGeometry g)
        where TMap : struct, ICoordinateMap
    {
        float fy = y;
        // TensorFlow's order: (a0·x + a1·y) + a2, so the y products are formed once per row.
        float ay = t[1] * fy, by = t[4] * fy, cy = t[7] * fy;
        int x = 0;
        if (vector)
        {
            var offsets = Vector256.Create(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f);
            float* lanes = stackalloc float[8];
            for (; x + 8 <= g.OW; x += 8)
                TransformEight<TMap>(source, t, row + (nint)x * g.C, Avx.Add(Vector256.Create((float)x), offsets), ay, by, cy, lanes, g);
        }
        for (; x < g.OW; x++)
        {
            float fx = x;
            float projection = t[6] * fx + cy + 1f;
            float* pixel = row + (nint)x * g.C;
            if (projection == 0)
            {
                for (int c = 0; c < g.C; c++) pixel[c] = g.FillValue;
                continue;
            }
            float inX = (t[0] * fx + ay + t[2]) / projection, inY = (t[3] * fx + by + t[5]) / projection;
            SamplePixel(source, default(TMap).Map(inX, g.W), default(TMap).Map(inY, g.H), pixel, g);
        }
    }

    /// <summary>The sampler for one output pixel whose source point is (x, y), already mapped by the fill mode.</summary>
    private static void SamplePixel(float* source, float x, float y, float* pixel, in ImageTransformGeometry g)
    {
        int channels = g.C;
        if (!(x >= 0 && x <= g.W - 1 && y >= 0 && y <= g.H - 1))
        {
            for (int c = 0; c < channels; c++) pixel[c] = g.FillValue;
            return;
        }
        if (g.Interpolation == InterpolationMode.Nearest)
        {
            float* p = source + ((nint)ImageTransformGeometry.RoundHalfUp(y) * g.W + ImageTransformGeometry.RoundHalfUp(x)) * channels;
            for (int c = 0; c < channels; c++) pixel[c] = p[c];
            return;
        }
        float yFloor = MathF.Floor(y), xFloor = MathF.Floor(x);
        float yCeil = yFloor + 1, xCeil = xFloor + 1;
        int y0 = (int)yFloor, x0 = (int)xFloor, y1 = y0 + 1, x1 = x0 + 1;
        bool hasY1 = y1 < g.H, hasX1 = x1 < g.W;
        float* p00 = source + ((nint)y0 * g.W + x0) * channels;
        float* p01 = p00 + channels;
        float* p10 = p00 + (nint)g.W * channels;
        float* p11 = p10 + channels;
        float wx1 = xCeil - x, wx0 = x - xFloor, wy1 = yCeil - y, wy0 = y - yFloor;
        for (int c = 0; c < channels; c++)
        {
            float v01 = hasX1 ? p01[c] : g.FillValue;
            float v10 = hasY1 ? p10[c] : g.FillValue;
            float v11 = hasX1 && hasY1 ? p11[c] : g.FillValue;
            float top = wx1 * p00[c] + wx0 * v01;
            float bottom = wx1 * v10 + wx0 * v11;
            pixel[c] = wy1 * top + wy0 * bottom;
        }
    }

    /// <summary>Eight output pixels (x = lanes of <paramref name="fx"/>) of one row, every channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformEight<TMap>(float* source, float* t, float* pixels, Vector256<float> fx, float ay, float by, float cy,
        float* lanes, in ImageTransformGeometry g) where TMap : struct, ICoordinateMap
    {
        var projection = Avx.Add(Avx.Add(Avx.Multiply(Vector256.Create(t[6]), fx), Vector256.Create(cy)), Vector256.Create(1f));
        var inX = Avx.Divide(Avx.Add(Avx.Add(Avx.Multiply(Vector256.Create(t[0]), fx), Vector256.Create(ay)), Vector256.Create(t[2])), projection);
        var inY = Avx.Divide(Avx.Add(Avx.Add(Avx.Multiply(Vector256.Create(t[3]), fx), Vector256.Create(by)), Vector256.Create(t[5])), projection);
        var x = default(TMap).Map(inX, g.W);
        var y = default(TMap).Map(inY, g.H);
        var zero = Vector256<float>.Zero;
        var maxX = Vector256.Create((float)(g.W - 1));
        var maxY = Vector256.Create((float)(g.H - 1));
        var inside = Avx.And(Avx.And(Avx.CompareNotEqual(projection, zero), Avx.CompareGreaterThanOrEqual(x, zero)),
            Avx.And(Avx.And(Avx.CompareLessThanOrEqual(x, maxX), Avx.CompareGreaterThanOrEqual(y, zero)), Avx.CompareLessThanOrEqual(y, maxY)));
        var fill = Vector256.Create(g.FillValue);
        var width = Vector256.Create(g.W);
        var channelCount = Vector256.Create(g.C);
        int channels = g.C;

        if (g.Interpolation == InterpolationMode.Nearest)
        {
            var rx = RoundHalfUp(x);
            var ry = RoundHalfUp(y);
            var index = Avx2.MultiplyLow(Avx2.Add(Avx2.MultiplyLow(Avx.ConvertToVector256Int32WithTruncation(ry), width),
                Avx.ConvertToVector256Int32WithTruncation(rx)), channelCount);
            for (int c = 0; c < channels; c++)
            {
                var value = Avx2.GatherMaskVector256(fill, source, Avx2.Add(index, Vector256.Create(c)), inside, 4);
                Store(value, pixels, c, channels, lanes);
            }
            return;
        }

        var xFloor = Avx.Floor(x);
        var yFloor = Avx.Floor(y);
        var one = Vector256.Create(1f);
        var xCeil = Avx.Add(xFloor, one);
        var yCeil = Avx.Add(yFloor, one);
        var wx1 = Avx.Subtract(xCeil, x);
        var wx0 = Avx.Subtract(x, xFloor);
        var wy1 = Avx.Subtract(yCeil, y);
        var wy0 = Avx.Subtract(y, yFloor);
        // Neighbours beyond the last row or column read as the fill value, as TensorFlow's read_with_fill_value does.
        var hasX1 = Avx.CompareLessThanOrEqual(xCeil, maxX);
        var hasY1 = Avx.CompareLessThanOrEqual(yCeil, maxY);
        var m00 = inside;
        var m01 = Avx.And(inside, hasX1);
        var m10 = Avx.And(inside, hasY1);
        var m11 = Avx.And(m01, hasY1);
        var i00 = Avx2.MultiplyLow(Avx2.Add(Avx2.MultiplyLow(Avx.ConvertToVector256Int32WithTruncation(yFloor), width),
            Avx.ConvertToVector256Int32WithTruncation(xFloor)), channelCount);
        var i01 = Avx2.Add(i00, channelCount);
        var rowStep = Vector256.Create(g.W * channels);
        var i10 = Avx2.Add(i00, rowStep);
        var i11 = Avx2.Add(i01, rowStep);
        for (int c = 0; c < channels; c++)
        {
            var offset = Vector256.Create(c);
            var v00 = Avx2.GatherMaskVector256(fill, source, Avx2.Add(i00, offset), m00, 4);
            var v01 = Avx2.GatherMaskVector256(fill, source, Avx2.Add(i01, offset), m01, 4);
            var v10 = Avx2.GatherMaskVector256(fill, source, Avx2.Add(i10, offset), m10, 4);
            var v11 = Avx2.GatherMaskVector256(fill, source, Avx2.Add(i11, offset), m11, 4);
            var top = Avx.Add(Avx.Multiply(wx1, v00), Avx.Multiply(wx0, v01));
            var bottom = Avx.Add(Avx.Multiply(wx1, v10), Avx.Multiply(wx0, v11));
            var value = Avx.BlendVariable(fill, Avx.Add(Avx.Multiply(wy1, top), Avx.Multiply(wy0, bottom)), inside);
            Store(value, pixels, c, channels, lanes);
        }
    }

    /// <summary>Writes channel <paramref name="c"/> of eight pixels: one store when the image has one channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> value, float* pixels, int c, int channels, float* lanes)
    {
        if (channels == 1)
        {
            Avx.Store(pixels, value);
            return;
        }
        Avx.Store(lanes, value);
        for (int k = 0; k < 8; k++) pixels[k * channels + c] = lanes[k];
    }

    /// <summary><see cref="ImageTransformGeometry.RoundHalfUp"/> on eight lanes.</summary>
    private static Vector256<float> RoundHalfUp(Vector256<float> v)
    {
        var floor = Avx.Floor(v);
        var up = Avx.CompareGreaterThanOrEqual(Avx.Subtract(v, floor), Vector256.Create(0.5f));
        return Avx.Add(floor, Avx.And(up, Vector256.Create(1f)));
    }

    /// <summary>A fill mode's coordinate mapping, on one value (<see cref="ImageTransformGeometry.MapCoordinate"/>) and on eight.</summary>
    private interface ICoordinateMap
    {
        float Map(float coordinate, int length);
        Vector256<float> Map(Vector256<float> coordinate, int length);
    }

    private readonly struct ConstantMap : ICoordinateMap
    {
        public float Map(float coordinate, int length) => coordinate;
        public Vector256<float> Map(Vector256<float> coordinate, int length) => coordinate;
    }

    private readonly struct NearestMap : ICoordinateMap
    {
        public float Map(float coordinate, int length) => ImageTransformGeometry.MapCoordinate(coordinate, length, FillMode.Nearest);
        public Vector256<float> Map(Vector256<float> coordinate, int length) => Clamp(PreClamp(coordinate), length);
    }

    private readonly struct ReflectMap : ICoordinateMap
    {
        public float Map(float coordinate, int length) => ImageTransformGeometry.MapCoordinate(coordinate, length, FillMode.Reflect);

        public Vector256<float> Map(Vector256<float> coordinate, int length)
        {
            if (length <= 1) return Vector256<float>.Zero;
            var c = PreClamp(coordinate);
            var period = Vector256.Create((float)(2 * length));
            var len = Vector256.Create((float)length);
            var one = Vector256.Create(1f);
            // Below 0: c += period·trunc(−c/period); then c < −len ? c + period : −c − 1.
            var below = Avx.Add(Avx.Multiply(period, Avx.RoundToZero(Avx.Divide(Avx.Subtract(Vector256<float>.Zero, c), period))), c);
            below = Avx.BlendVariable(Avx.Subtract(Avx.Subtract(Vector256<float>.Zero, below), one), Avx.Add(below, period),
                Avx.CompareLessThan(below, Avx.Subtract(Vector256<float>.Zero, len)));
            // Above len − 1: c −= period·trunc(c/period); then c ≥ len ? period − c − 1 : c.
            var above = Avx.Subtract(c, Avx.Multiply(period, Avx.RoundToZero(Avx.Divide(c, period))));
            above = Avx.BlendVariable(above, Avx.Subtract(Avx.Subtract(period, above), one), Avx.CompareGreaterThanOrEqual(above, len));
            var mapped = Avx.BlendVariable(c, below, Avx.CompareLessThan(c, Vector256<float>.Zero));
            mapped = Avx.BlendVariable(mapped, above, Avx.CompareGreaterThan(c, Vector256.Create((float)(length - 1))));
            return Clamp(mapped, length);
        }
    }

    private readonly struct WrapMap : ICoordinateMap
    {
        public float Map(float coordinate, int length) => ImageTransformGeometry.MapCoordinate(coordinate, length, FillMode.Wrap);

        public Vector256<float> Map(Vector256<float> coordinate, int length)
        {
            if (length <= 1) return Vector256<float>.Zero;
            var c = PreClamp(coordinate);
            var len = Vector256.Create((float)length);
            var span = Vector256.Create((float)(length - 1));
            // Below 0: c += len·(trunc(−c/(len−1)) + 1); above len − 1: c −= len·trunc(c/(len−1)).
            var below = Avx.Add(c, Avx.Multiply(len, Avx.Add(Avx.RoundToZero(Avx.Divide(Avx.Subtract(Vector256<float>.Zero, c), span)), Vector256.Create(1f))));
            var above = Avx.Subtract(c, Avx.Multiply(len, Avx.RoundToZero(Avx.Divide(c, span))));
            var mapped = Avx.BlendVariable(c, below, Avx.CompareLessThan(c, Vector256<float>.Zero));
            mapped = Avx.BlendVariable(mapped, above, Avx.CompareGreaterThan(c, span));
            return Clamp(mapped, length);
        }
    }

    /// <summary>The ±2²² bound <see cref="ImageTransformGeometry.MapCoordinate"/> applies before mapping.</summary>
    private static Vector256<float> PreClamp(Vector256<float> c) =>
        Avx.Min(Avx.Max(c, Vector256.Create(-ImageTransformGeometry.CoordinateBound)), Vector256.Create(ImageTransformGeometry.CoordinateBound));

    private static Vector256<float> Clamp(Vector256<float> c, int length)
    {
        // c < 0 ? 0 : c > len − 1 ? len − 1 : c, in the order of the scalar clamp.
        var upper = Vector256.Create((float)(length - 1));
        var clamped = Avx.BlendVariable(c, upper, Avx.CompareGreaterThan(c, upper));
        return Avx.BlendVariable(clamped, Vector256<float>.Zero, Avx.CompareLessThan(c, Vector256<float>.Zero));
    }

    // ---- flip ----

    public static void Flip(SimdLevel simd, int threads, float* input, float* flags, float* output, int n, int height, int width, int channels)
    {
        int rows = n * height;
        int parts = Math.Min(rows, CpuParallel.Parts(threads, (long)rows * width * channels, MinFloatsPerPart));
        bool vector = UseAvx2(simd);
        var reverse = Vector256.Create(7, 6, 5, 4, 3, 2, 1, 0);
        CpuParallel.For(parts, part =>
        {
            var (r0, r1) = CpuParallel.Range(rows, parts, part);
            int rowLength = width * channels;
            for (int r = r0; r < r1; r++)
            {
                int b = r / height, y = r % height;
                bool horizontal = flags[2 * b] != 0, vertical = flags[2 * b + 1] != 0;
                float* src = input + ((nint)b * height + (vertical ? height - 1 - y : y)) * rowLength;
                float* dst = output + (nint)r * rowLength;
                if (!horizontal)
                {
                    Buffer.MemoryCopy(src, dst, rowLength * sizeof(float), rowLength * sizeof(float));
                    continue;
                }
                int x = 0;
                if (channels == 1 && vector)
                    for (; x + 8 <= width; x += 8)
                        Avx.Store(dst + x, Avx2.PermuteVar8x32(Avx.LoadVector256(src + width - 8 - x), reverse));
                for (; x < width; x++)
                {
                    float* from = src + (nint)(width - 1 - x) * channels, to = dst + (nint)x * channels;
                    for (int c = 0; c < channels; c++) to[c] = from[c];
                }
            }
        });
    }

    // ---- contrast and brightness ----

    public static void AdjustContrast(SimdLevel simd, int threads, float* input, float* factors, float* means, float* output, ContrastGeometry g)
    {
        long sample = (long)g.Pixels * g.C;
        int parts = Math.Min(g.N, CpuParallel.Parts(threads, g.Length, MinFloatsPerPart));
        CpuParallel.For(parts, part =>
        {
            var (b0, b1) = CpuParallel.Range(g.N, parts, part);
            Span<double> sums = g.C <= 64 ? stackalloc double[g.C] : new double[g.C];
            for (int b = b0; b < b1; b++)
            {
                float* x = input + b * sample, y = output + b * sample, mean = means + (nint)b * g.C;
                // Double sums in pixel order, the reference's, so the means do not depend on the SIMD level.
                sums.Clear();
                for (int p = 0; p < g.Pixels; p++)
                    for (int c = 0; c < g.C; c++) sums[c] += x[(nint)p * g.C + c];
                for (int c = 0; c < g.C; c++) mean[c] = (float)(sums[c] / g.Pixels);
                ContrastImage(simd, x, y, mean, factors[g.PerImage != 0 ? b : 0], g.Pixels, g.C, g.Low, g.High);
            }
        });
    }

    /// <summary>clip((x − mean[c])·f + mean[c]) over one image, through a block of the per-channel means pattern.</summary>
    private static void ContrastImage(SimdLevel simd, float* x, float* y, float* mean, float factor, int pixels, int channels, float low, float high)
    {
        long length = (long)pixels * channels;
        if (simd == SimdLevel.Scalar)
        {
            for (long i = 0; i < length; i++)
            {
                float m = mean[i % channels];
                y[i] = Math.Min(Math.Max((x[i] - m) * factor + m, low), high);
            }
            return;
        }
        const int BlockPixels = 256;
        int blockLength = BlockPixels * channels;
        Span<float> pattern = blockLength <= 4096 ? stackalloc float[blockLength] : new float[blockLength];
        for (int i = 0; i < blockLength; i++) pattern[i] = mean[i % channels];
        for (long start = 0; start < length; start += blockLength)
        {
            int count = (int)Math.Min(blockLength, length - start);
            var source = new ReadOnlySpan<float>(x + start, count);
            var target = new Span<float>(y + start, count);
            var means = pattern[..count];
            TensorPrimitives.Subtract(source, means, target);
            TensorPrimitives.Multiply(target, factor, target);
            TensorPrimitives.Add(target, means, target);
            TensorPrimitives.Max(target, low, target);
            TensorPrimitives.Min(target, high, target);
        }
    }

    public static void AdjustBrightness(SimdLevel simd, int threads, float* input, float* deltas, float* output, int n, long sampleLength, float low, float high)
    {
        int parts = Math.Min(n, CpuParallel.Parts(threads, n * sampleLength, MinFloatsPerPart));
        CpuParallel.For(parts, part =>
        {
            var (b0, b1) = CpuParallel.Range(n, parts, part);
            for (int b = b0; b < b1; b++)
            {
                float* x = input + b * sampleLength, y = output + b * sampleLength;
                float delta = deltas[b];
                if (simd == SimdLevel.Scalar)
                {
                    for (long i = 0; i < sampleLength; i++) y[i] = Math.Min(Math.Max(x[i] + delta, low), high);
                    continue;
                }
                for (long start = 0; start < sampleLength; start += int.MaxValue / 2)
                {
                    int count = (int)Math.Min(int.MaxValue / 2, sampleLength - start);
                    var target = new Span<float>(y + start, count);
                    TensorPrimitives.Add(new ReadOnlySpan<float>(x + start, count), delta, target);
                    TensorPrimitives.Max(target, low, target);
                    TensorPrimitives.Min(target, high, target);
                }
            }
        });
    }

    // ---- resize and crop ----

    public static void Resize(SimdLevel simd, int threads, float* input, float* output, ResizeGeometry g)
    {
        int rows = g.N * g.OH;
        int parts = Math.Min(rows, CpuParallel.Parts(threads, (long)rows * g.OW * g.C, MinFloatsPerPart));
        int rowLength = g.OW * g.C;
        if (g.IsCrop)
        {
            CpuParallel.For(parts, part =>
            {
                var (r0, r1) = CpuParallel.Range(rows, parts, part);
                for (int r = r0; r < r1; r++)
                {
                    int b = r / g.OH, y = r % g.OH;
                    float* src = input + (((nint)b * g.H + g.CropTop + y) * g.W + g.CropLeft) * g.C;
                    Buffer.MemoryCopy(src, output + (nint)r * rowLength, rowLength * sizeof(float), rowLength * sizeof(float));
                }
            });
            return;
        }

        // Per output value of a row: where its left and right neighbours sit in a source row, and the lerp between them.
        var left = new int[rowLength];
        var right = new int[rowLength];
        var xLerp = new float[rowLength];
        for (int x = 0; x < g.OW; x++)
        {
            int l, rt;
            float lerp;
            if (g.Interpolation == InterpolationMode.Nearest)
            {
                l = rt = g.CropLeft + ResizeGeometry.NearestSource(x, g.CropWidth, g.OW);
                lerp = 0;
            }
            else
            {
                float centre = ResizeGeometry.BilinearCentre(x, g.CropWidth, g.OW);
                l = g.CropLeft + ResizeGeometry.BilinearLower(centre);
                rt = g.CropLeft + ResizeGeometry.BilinearUpper(centre, g.CropWidth);
                lerp = ResizeGeometry.BilinearLerp(centre);
            }
            for (int c = 0; c < g.C; c++)
            {
                left[x * g.C + c] = l * g.C + c;
                right[x * g.C + c] = rt * g.C + c;
                xLerp[x * g.C + c] = lerp;
            }
        }
        bool vector = UseAvx2(simd);
        CpuParallel.For(parts, part =>
        {
            var (r0, r1) = CpuParallel.Range(rows, parts, part);
            fixed (int* leftAt = left, rightAt = right)
            fixed (float* lerpAt = xLerp)
            {
                for (int r = r0; r < r1; r++)
                {
                    int b = r / g.OH, y = r % g.OH;
                    float* image = input + (nint)b * g.H * g.W * g.C, dst = output + (nint)r * rowLength;
                    if (g.Interpolation == InterpolationMode.Nearest)
                    {
                        float* src = image + (nint)(g.CropTop + ResizeGeometry.NearestSource(y, g.CropHeight, g.OH)) * g.W * g.C;
                        for (int j = 0; j < rowLength; j++) dst[j] = src[leftAt[j]];
                        continue;
                    }
                    float centre = ResizeGeometry.BilinearCentre(y, g.CropHeight, g.OH);
                    float* top = image + (nint)(g.CropTop + ResizeGeometry.BilinearLower(centre)) * g.W * g.C;
                    float* bottom = image + (nint)(g.CropTop + ResizeGeometry.BilinearUpper(centre, g.CropHeight)) * g.W * g.C;
                    float yLerp = ResizeGeometry.BilinearLerp(centre);
                    BilinearRow(vector, top, bottom, leftAt, rightAt, lerpAt, yLerp, dst, rowLength);
                }
            }
        });
    }

    /// <summary>TensorFlow's compute_lerp for one output row: along x on both source rows, then along y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BilinearRow(bool vector, float* top, float* bottom, int* left, int* right, float* xLerp, float yLerp, float* dst, int length)
    {
        int j = 0;
        if (vector)
        {
            var yl = Vector256.Create(yLerp);
            for (; j + 8 <= length; j += 8)
            {
                var l = Avx.LoadVector256(left + j);
                var r = Avx.LoadVector256(right + j);
                var xl = Avx.LoadVector256(xLerp + j);
                var topLeft = Avx2.GatherVector256(top, l, 4);
                var topRight = Avx2.GatherVector256(top, r, 4);
                var bottomLeft = Avx2.GatherVector256(bottom, l, 4);
                var bottomRight = Avx2.GatherVector256(bottom, r, 4);
                var upper = Avx.Add(topLeft, Avx.Multiply(Avx.Subtract(topRight, topLeft), xl));
                var lower = Avx.Add(bottomLeft, Avx.Multiply(Avx.Subtract(bottomRight, bottomLeft), xl));
                Avx.Store(dst + j, Avx.Add(upper, Avx.Multiply(Avx.Subtract(lower, upper), yl)));
            }
        }
        for (; j < length; j++)
        {
            float topLeft = top[left[j]], topRight = top[right[j]], bottomLeft = bottom[left[j]], bottomRight = bottom[right[j]];
            float upper = topLeft + (topRight - topLeft) * xLerp[j];
            float lower = bottomLeft + (bottomRight - bottomLeft) * xLerp[j];
            dst[j] = upper + (lower - upper) * yLerp;
        }
    }
}
