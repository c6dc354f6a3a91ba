using System.Reflection;
using ConvEngine.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>
/// The CPU accelerator runs kernels as .NET code, so it would accept constructs no GPU can run
/// (exceptions, class objects, unsupported math). These tests compile every ILGPU kernel with ILGPU's
/// PTX and OpenCL C code generators, which need no device, to prove each one is a valid GPU kernel.
/// </summary>
[TestFixture]
public class IlgpuKernelCompilationTests
{
    private static readonly Type[] KernelClasses =
        [typeof(IlgpuConvKernels), typeof(IlgpuPoolKernels), typeof(IlgpuElementwiseKernels), typeof(IlgpuGemmKernels), typeof(IlgpuTrainingKernels),
         typeof(IlgpuNormalizationKernels), typeof(IlgpuBatchNormKernels), typeof(IlgpuAugmentKernels)];

    /// <summary>Every kernel entry point: implicitly grouped ones take an Index1D first; the tiled GEMM per operand type.</summary>
    private static IEnumerable<TestCaseData> Kernels()
    {
        foreach (var type in KernelClasses)
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static))
            if (method.GetParameters().FirstOrDefault()?.ParameterType == typeof(Index1D))
                yield return new TestCaseData(method, false).SetArgDisplayNames($"{type.Name}.{method.Name}");
        var tiled = typeof(IlgpuTiledGemmKernel).GetMethod(nameof(IlgpuTiledGemmKernel.Run))!;
        foreach (var operands in new[] { typeof(MatrixOperands), typeof(ConvOperands), typeof(ConvBackwardDataOperands), typeof(ConvBackwardFilterOperands) })
            yield return new TestCaseData(tiled.MakeGenericMethod(operands), true).SetArgDisplayNames($"IlgpuTiledGemmKernel.Run<{operands.Name}>");
    }

    private static EntryPointDescription EntryPoint(MethodInfo kernel, bool explicitlyGrouped) => explicitlyGrouped
        ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
        : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);

    // sm_60 (Pascal) is the oldest GPU the engine targets; PTX ISA 6.0 covers it.
    [TestCaseSource(nameof(Kernels))]
    public void Kernel_CompilesToPtx(MethodInfo kernel, bool explicitlyGrouped)
    {
        using var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_60, CudaInstructionSet.ISA_60, nvvmAPI: null!);
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPoint(kernel, explicitlyGrouped), KernelSpecialization.Empty);
        Assert.That(compiled.PTXAssembly, Does.Contain(".entry"));
    }

    // OpenCL 2.0 C with ILGPU's default capability set (no fp16, fp64 or int64 atomics assumed).
    [TestCaseSource(nameof(Kernels))]
    public void Kernel_CompilesToOpenClC(MethodInfo kernel, bool explicitlyGrouped)
    {
        // ILGPU builds its capability record from a live device; the all-false form is internal, so reach it by reflection.
        var constructor = typeof(CLCapabilityContext).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public,
            [typeof(bool), typeof(bool), typeof(bool), typeof(bool), typeof(bool)]);
        if (constructor is null) Assert.Inconclusive("This ILGPU version has no device-free CLCapabilityContext constructor.");
        var capabilities = (CLCapabilityContext)constructor.Invoke([false, false, false, false, false]);
        using var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        var compiled = (CLCompiledKernel)backend.Compile(EntryPoint(kernel, explicitlyGrouped), KernelSpecialization.Empty);
        Assert.That(compiled.Source, Does.Contain("kernel"));
    }
}
