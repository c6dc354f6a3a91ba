using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Benchmarks;

/// <summary>
/// Our `cpu` backend's conv2d (bias and ReLU fused) on buffers allocated once, so a run times the
/// kernel alone. The kernel variant is the backend's default unless CONVENGINE_CONV2D_VARIANT names another.
/// </summary>
public sealed class CpuConvRunner : IDisposable
{
    public const string VariantVariable = "CONVENGINE_CONV2D_VARIANT";

    private readonly CpuBackend _backend;
    private readonly Conv2DGeometry _geometry;
    private readonly DeviceBuffer _input, _filter, _bias, _output;

    public CpuConvRunner(ConvProblem problem, int threads)
    {
        _backend = CreateBackend(threads);
        _geometry = problem.Shape.Geometry;
        _input = Upload(problem.Input);
        _filter = Upload(problem.Filter);
        _bias = Upload(problem.Bias);
        _output = _backend.Allocate(_geometry.OutputShape.Length);
    }

    /// <summary>The conv2d kernel that runs this shape (the selected variant, else the tuner's choice), e.g. "direct".</summary>
    public string Variant => _backend.Conv2DVariantFor(_geometry);

    public void Run() => _backend.Conv2D(_input, _filter, _bias, _output, _geometry, KernelActivation.Relu);

    private PackedConv2DFilter? _packed;

    /// <summary>The conv with its filter packed once ahead (as the ONNX plan runs it), for --probe-conv --packed.</summary>
    public void RunPacked()
    {
        _packed ??= _backend.PackConv2DFilter(_filter, _geometry);
        _backend.Conv2D(_input, _packed, _bias, _output, _geometry, KernelActivation.Relu, default);
    }

    /// <summary>The default implicit-GEMM kernel with an explicit cache blocking (for trying blockings in --probe-conv).</summary>
    internal unsafe void Run(GemmBlocking blocking)   // internal: GemmBlocking is internal to the kernels
    {
        fixed (float* x = ((CpuBuffer)_input).Data, f = ((CpuBuffer)_filter).Data, b = ((CpuBuffer)_bias).Data, y = ((CpuBuffer)_output).Data)
            CpuConvKernels.ImplicitGemm(_backend.Simd, blocking, _backend.Threads, x, f, null, b, ConvTarget.Compact(y, _geometry), _geometry, KernelActivation.Relu);
    }

    /// <summary>The last run's output, NHWC.</summary>
    public float[] Output()
    {
        var host = new float[_output.Length];
        _backend.Download(_output, host);
        return host;
    }

    /// <summary>A cpu backend with the variant selection applied (also used to label results).</summary>
    public static CpuBackend CreateBackend(int threads)
    {
        var backend = new CpuBackend(threads);
        string? variant = Environment.GetEnvironmentVariable(VariantVariable);
        if (!string.IsNullOrWhiteSpace(variant)) backend.Variants.Select("conv2d", variant.Trim());
        return backend;
    }

    private DeviceBuffer Upload(float[] host)
    {
        var buffer = _backend.Allocate(host.Length);
        _backend.Upload(host, buffer);
        return buffer;
    }

    public void Dispose()
    {
        _packed?.Dispose();
        _input.Dispose();
        _filter.Dispose();
        _bias.Dispose();
        _output.Dispose();
        _backend.Dispose();
    }
}
