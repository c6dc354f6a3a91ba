using Microsoft.ML.OnnxRuntime;

namespace ConvEngine.Benchmarks.Onnx;

/// <summary>
/// The same conv (+ bias + ReLU) in ONNX Runtime's CPU provider: a one-node model built in memory,
/// input and output bound once through IOBinding to arrays we own, so a run times the kernel and
/// not allocations or copies.
/// </summary>
public sealed class OrtConvRunner : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input, _output;
    private readonly float[] _outputNchw;
    private readonly OrtIoBinding _binding;
    private readonly ConvShape _shape;

    public OrtConvRunner(ConvProblem problem, int threads)
    {
        _shape = problem.Shape;
        var g = _shape.Geometry;
        // Intra-op threads = ours; one inter-op thread (a one-node graph has nothing to overlap); all graph optimisations.
        _options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        byte[] model = OnnxModelBuilder.Conv2D(g,
            Layouts.HwioToOihw(problem.Filter, g.KH, g.KW, g.InChannelsPerGroup, g.OC), problem.Bias, relu: true);
        _session = new InferenceSession(model, _options);

        _input = OrtValue.CreateTensorValueFromMemory(Layouts.NhwcToNchw(problem.Input, g.N, g.H, g.W, g.C), [g.N, g.C, g.H, g.W]);
        _outputNchw = new float[g.OutputShape.Length];
        _output = OrtValue.CreateTensorValueFromMemory(_outputNchw, [g.N, g.OC, g.OH, g.OW]);
        _binding = _session.CreateIoBinding();
        _binding.BindInput(OnnxModelBuilder.InputName, _input);
        _binding.BindOutput(OnnxModelBuilder.OutputName, _output);
    }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>The last run's output, permuted to NHWC for comparison with ours.</summary>
    public float[] Output()
    {
        var g = _shape.Geometry;
        return Layouts.NchwToNhwc(_outputNchw, g.N, g.OC, g.OH, g.OW);
    }

    public void Dispose()
    {
        _binding.Dispose();
        _input.Dispose();
        _output.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
        _options.Dispose();
    }
}
