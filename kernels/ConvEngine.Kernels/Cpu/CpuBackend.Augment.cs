using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Augmentation kernels of the cpu backend (Cpu/Augment). Variant "simd" (default) runs <see cref="CpuAugmentKernels"/>,
/// "reference" the readable <see cref="CpuReferenceKernels"/> versions; the op group is named "augment".
/// </summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>The op group whose variant the augmentation kernels follow.</summary>
    public const string AugmentOp = "augment";
    private const string SimdVariant = "simd";

    private void RegisterAugmentVariants() => Variants.Register(AugmentOp, SimdVariant, ReferenceVariant);

    private bool AugmentReference => Variants[AugmentOp] == ReferenceVariant;

    /// <inheritdoc/>
    public void ImageTransform(DeviceBuffer input, DeviceBuffer transforms, DeviceBuffer output, in ImageTransformGeometry g)
    {
        const string Op = nameof(ImageTransform);
        long inLength = g.InputShape.Length, outLength = g.OutputShape.Length;
        if (AugmentReference)
        {
            CpuReferenceKernels.ImageTransform(Data(input, inLength, Op, nameof(input)).AsSpan(0, (int)inLength),
                Data(transforms, g.TransformsLength, Op, nameof(transforms)), Data(output, outLength, Op, nameof(output)), g);
            return;
        }
        CpuAugmentKernels.ImageTransform(Simd, Threads, Pointer(input, inLength, Op, nameof(input)), Pointer(transforms, g.TransformsLength, Op, nameof(transforms)),
            Pointer(output, outLength, Op, nameof(output)), g);
    }

    /// <inheritdoc/>
    public void Flip(DeviceBuffer input, DeviceBuffer flags, DeviceBuffer output, int n, int height, int width, int channels)
    {
        const string Op = nameof(Flip);
        RequireImageSizes(Op, n, height, width, channels);
        long length = (long)n * height * width * channels;
        if (AugmentReference)
        {
            CpuReferenceKernels.Flip(Data(input, length, Op, nameof(input)), Data(flags, 2L * n, Op, nameof(flags)), Data(output, length, Op, nameof(output)),
                n, height, width, channels);
            return;
        }
        CpuAugmentKernels.Flip(Simd, Threads, Pointer(input, length, Op, nameof(input)), Pointer(flags, 2L * n, Op, nameof(flags)),
            Pointer(output, length, Op, nameof(output)), n, height, width, channels);
    }

    /// <inheritdoc/>
    public void AdjustContrast(DeviceBuffer input, DeviceBuffer factors, DeviceBuffer means, DeviceBuffer output, in ContrastGeometry g)
    {
        const string Op = nameof(AdjustContrast);
        RequireImageSizes(Op, g.N, g.Pixels, 1, g.C);
        if (AugmentReference)
        {
            CpuReferenceKernels.AdjustContrast(Data(input, g.Length, Op, nameof(input)), Data(factors, g.FactorCount, Op, nameof(factors)),
                Data(means, (long)g.N * g.C, Op, nameof(means)), Data(output, g.Length, Op, nameof(output)), g);
            return;
        }
        CpuAugmentKernels.AdjustContrast(Simd, Threads, Pointer(input, g.Length, Op, nameof(input)), Pointer(factors, g.FactorCount, Op, nameof(factors)),
            Pointer(means, (long)g.N * g.C, Op, nameof(means)), Pointer(output, g.Length, Op, nameof(output)), g);
    }

    /// <inheritdoc/>
    public void AdjustBrightness(DeviceBuffer input, DeviceBuffer deltas, DeviceBuffer output, int n, long sampleLength, float low, float high)
    {
        const string Op = nameof(AdjustBrightness);
        if (n < 1 || sampleLength < 1) throw new ArgumentException($"{Op}: needs n ≥ 1 and sampleLength ≥ 1; got {n} and {sampleLength}.");
        long length = n * sampleLength;
        if (AugmentReference)
        {
            CpuReferenceKernels.AdjustBrightness(Data(input, length, Op, nameof(input)), Data(deltas, n, Op, nameof(deltas)),
                Data(output, length, Op, nameof(output)), n, sampleLength, low, high);
            return;
        }
        CpuAugmentKernels.AdjustBrightness(Simd, Threads, Pointer(input, length, Op, nameof(input)), Pointer(deltas, n, Op, nameof(deltas)),
            Pointer(output, length, Op, nameof(output)), n, sampleLength, low, high);
    }

    /// <inheritdoc/>
    public void Resize(DeviceBuffer input, DeviceBuffer output, in ResizeGeometry g)
    {
        const string Op = nameof(Resize);
        long inLength = g.InputShape.Length, outLength = g.OutputShape.Length;
        if (AugmentReference)
        {
            CpuReferenceKernels.Resize(Data(input, inLength, Op, nameof(input)), Data(output, outLength, Op, nameof(output)), g);
            return;
        }
        CpuAugmentKernels.Resize(Simd, Threads, Pointer(input, inLength, Op, nameof(input)), Pointer(output, outLength, Op, nameof(output)), g);
    }

    private static void RequireImageSizes(string op, int n, int height, int width, int channels)
    {
        if (n < 1 || height < 1 || width < 1 || channels < 1)
            throw new ArgumentException($"{op}: every size must be positive; got (N {n}, H {height}, W {width}, C {channels}).");
    }
}
