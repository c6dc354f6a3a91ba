using System.Numerics.Tensors;

namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// What the GEMM does to an output tile once its last K block is summed: add a per-column bias, add a
/// residual (a matrix laid out like C, e.g. a ResNet shortcut) and apply an activation. ReLU and LeakyReLU run
/// on the accumulators while they are still in registers; sigmoid and tanh run as one pass over the finished
/// rows while they are in L1.
/// </summary>
internal readonly unsafe struct GemmEpilogue
{
    public GemmEpilogue(float* bias, KernelActivation activation)
    {
        Bias = bias;
        Activation = activation;
    }

    /// <summary>With a residual R: C = act(A·B + bias + R), R read at the same row and column as C.</summary>
    /// <param name="bias">OC floats added to each row, or null.</param>
    /// <param name="activation">Applied after the bias and the residual.</param>
    /// <param name="residualOffset">Floats from each C element to its R element (R − C: R has C's row stride).</param>
    public GemmEpilogue(float* bias, KernelActivation activation, nint residualOffset) : this(bias, activation)
    {
        HasResidual = true;
        ResidualOffset = residualOffset;
    }

    /// <summary>Per-column bias of the tile's first column, or null.</summary>
    public float* Bias { get; }
    public KernelActivation Activation { get; }
    public bool HasResidual { get; }
    /// <summary>Floats from a C element to its residual element (meaningful when <see cref="HasResidual"/>).</summary>
    public nint ResidualOffset { get; }

    public static GemmEpilogue None => default;

    public bool IsNone => Bias == null && !HasResidual && Activation.Kind == ActivationKind.None;

    /// <summary>True for the activations the micro-kernels apply in registers.</summary>
    public bool InRegisters => Activation.Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.LeakyRelu;

    /// <summary>The same epilogue for a tile that starts <paramref name="columns"/> further right.</summary>
    public GemmEpilogue Shifted(int columns)
    {
        float* bias = Bias == null ? null : Bias + columns;
        return HasResidual ? new(bias, Activation, ResidualOffset) : new(bias, Activation);
    }

    /// <summary>Applies ReLU/LeakyReLU (the in-register kinds) to one value; other kinds are left to <see cref="ApplyPostPass"/>.</summary>
    public float ApplyInRegisterKind(float x) => Activation.Kind switch
    {
        ActivationKind.Relu or ActivationKind.LeakyRelu => Activation.Apply(x),
        _ => x,
    };

    /// <summary>Sigmoid or tanh over a finished row (no-op for the in-register kinds).</summary>
    public void ApplyPostPass(Span<float> row, SimdLevel simd)
    {
        if (InRegisters) return;
        CpuElementwiseKernels.Activate(row, row, Activation, simd);
    }
}
