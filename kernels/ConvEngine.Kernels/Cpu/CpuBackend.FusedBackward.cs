using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels.Cpu;

/// <summary>The fused conv-block backward kernels (IBackend.FusedBackward.cs) on the cpu backend.</summary>
public sealed unsafe partial class CpuBackend
{
    /// <summary>
    /// Non-overlapping max pooling runs <see cref="CpuPoolActivationBackward"/> (one pass, every cell written once);
    /// other pools compose Pool2DBackward, ActivationBackward and BiasBackward, as the interface's default does.
    /// </summary>
    public void Pool2DActivationBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, DeviceBuffer? gradBias,
        in Pool2DGeometry g, PoolKind kind, KernelActivation activation)
    {
        const string Op = nameof(Pool2DActivationBackward);
        long length = g.InputShape.Length;
        if (!CpuPoolActivationBackward.Applies(g, kind))
        {
            Pool2DBackward(input, gradOutput, gradInput, g, kind);
            if (activation.Kind != ActivationKind.None) ActivationBackward(input, gradInput, gradInput, length, activation);
            if (gradBias is not null) BiasBackward(gradInput, gradBias, (long)g.N * g.H * g.W, g.C);
            return;
        }
        CpuPoolActivationBackward.MaxRun(Threads, Simd, Pointer(input, length, Op, nameof(input)),
            Pointer(gradOutput, g.OutputShape.Length, Op, nameof(gradOutput)), Pointer(gradInput, length, Op, nameof(gradInput)),
            gradBias is null ? null : Pointer(gradBias, g.C, Op, nameof(gradBias)), g, activation);
    }

    /// <inheritdoc/>
    public void ActivationBiasBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, DeviceBuffer gradBias,
        long rows, int channels, KernelActivation activation)
    {
        const string Op = nameof(ActivationBiasBackward);
        long length = rows * channels;
        CpuActivationBiasBackward.Run(Threads, Simd, Pointer(output, length, Op, nameof(output)), Pointer(gradOutput, length, Op, nameof(gradOutput)),
            Pointer(gradInput, length, Op, nameof(gradInput)), Pointer(gradBias, channels, Op, nameof(gradBias)), rows, channels, activation);
    }
}
