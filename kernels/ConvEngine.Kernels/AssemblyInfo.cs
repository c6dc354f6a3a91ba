using System.Runtime.CompilerServices;

// Implementation types (kernels, GEMM operands and blocking, packing, scratch, workers) are internal; the tests check
// them directly against the double-precision references, and the benchmarks time them side by side.
[assembly: InternalsVisibleTo("ConvEngine.Tests")]
[assembly: InternalsVisibleTo("ConvEngine.Benchmarks")]
// ILGPU's CPU accelerator runs kernels from a dynamic assembly of this name, which must see the internal kernel types.
[assembly: InternalsVisibleTo("ILGPURuntime")]
