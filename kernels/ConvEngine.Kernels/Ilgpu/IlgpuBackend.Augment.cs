using ConvEngine.Kernels.Geometry;
using ILGPU;
using ILGPU.Runtime;
using View = ILGPU.ArrayView<float>;

namespace ConvEngine.Kernels.Ilgpu;

/// <summary>Augmentation kernels (<see cref="IlgpuAugmentKernels"/>), compiled on first use.</summary>
public sealed partial class IlgpuBackend
{
    private Action<Index1D, View, View, View, ImageTransformGeometry>? _imageTransform;
    private Action<Index1D, View, View, View, int, int, int>? _flip;
    private Action<Index1D, View, View, int, int>? _channelMeans;
    private Action<Index1D, View, View, View, View, ContrastGeometry>? _contrast;
    private Action<Index1D, View, View, View, int, float, float>? _brightness;
    private Action<Index1D, View, View, ResizeGeometry>? _resize;

    /// <inheritdoc/>
    public void ImageTransform(DeviceBuffer input, DeviceBuffer transforms, DeviceBuffer output, in ImageTransformGeometry g)
    {
        const string op = "ImageTransform";
        int count = Count(g.OutputShape.Length, op);
        var (x, t, y) = (View(input, g.InputShape.Length, op, "input"), View(transforms, g.TransformsLength, op, "transforms"), View(output, count, op, "output"));
        _imageTransform ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, ImageTransformGeometry>(IlgpuAugmentKernels.ImageTransform);
        if (count > 0) _imageTransform(count, x, t, y, g);
    }

    /// <inheritdoc/>
    public void Flip(DeviceBuffer input, DeviceBuffer flags, DeviceBuffer output, int n, int height, int width, int channels)
    {
        const string op = "Flip";
        if (n < 1 || height < 1 || width < 1 || channels < 1)
            throw new ArgumentException($"{op} on {Name}: every size must be positive; got (N {n}, H {height}, W {width}, C {channels}).");
        int count = Count((long)n * height * width * channels, op);
        var (x, f, y) = (View(input, count, op, "input"), View(flags, 2L * n, op, "flags"), View(output, count, op, "output"));
        _flip ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, int, int>(IlgpuAugmentKernels.Flip);
        _flip(count, x, f, y, height, width, channels);
    }

    /// <inheritdoc/>
    public void AdjustContrast(DeviceBuffer input, DeviceBuffer factors, DeviceBuffer means, DeviceBuffer output, in ContrastGeometry g)
    {
        const string op = "AdjustContrast";
        if (g.N < 1 || g.Pixels < 1 || g.C < 1)
            throw new ArgumentException($"{op} on {Name}: every size must be positive; got (N {g.N}, pixels {g.Pixels}, C {g.C}).");
        int count = Count(g.Length, op);
        var (x, f, m, y) = (View(input, count, op, "input"), View(factors, g.FactorCount, op, "factors"), View(means, (long)g.N * g.C, op, "means"), View(output, count, op, "output"));
        _channelMeans ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, int, int>(IlgpuAugmentKernels.ChannelMeans);
        _contrast ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, View, ContrastGeometry>(IlgpuAugmentKernels.AdjustContrast);
        _channelMeans(g.N * g.C, x, m, g.Pixels, g.C);
        _contrast(count, x, f, m, y, g);
    }

    /// <inheritdoc/>
    public void AdjustBrightness(DeviceBuffer input, DeviceBuffer deltas, DeviceBuffer output, int n, long sampleLength, float low, float high)
    {
        const string op = "AdjustBrightness";
        if (n < 1 || sampleLength < 1) throw new ArgumentException($"{op} on {Name}: needs n ≥ 1 and sampleLength ≥ 1; got {n} and {sampleLength}.");
        int count = Count(n * sampleLength, op);
        var (x, d, y) = (View(input, count, op, "input"), View(deltas, n, op, "deltas"), View(output, count, op, "output"));
        _brightness ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, View, int, float, float>(IlgpuAugmentKernels.AdjustBrightness);
        _brightness(count, x, d, y, (int)sampleLength, low, high);
    }

    /// <inheritdoc/>
    public void Resize(DeviceBuffer input, DeviceBuffer output, in ResizeGeometry g)
    {
        const string op = "Resize";
        int count = Count(g.OutputShape.Length, op);
        var (x, y) = (View(input, g.InputShape.Length, op, "input"), View(output, count, op, "output"));
        _resize ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, View, View, ResizeGeometry>(IlgpuAugmentKernels.Resize);
        if (count > 0) _resize(count, x, y, g);
    }
}
