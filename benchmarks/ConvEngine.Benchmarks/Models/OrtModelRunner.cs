using Microsoft.ML.OnnxRuntime;

namespace ConvEngine.Benchmarks.Models;

/// <summary>
/// ONNX Runtime on one case: a session over the case's ONNX bytes (CPU provider, <c>threads</c> intra-op threads, one
/// inter-op thread, sequential, every graph optimisation), input and output bound once to arrays we own.
/// </summary>
public sealed class OrtModelRunner : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input, _output;
    private readonly OrtIoBinding _binding;
    private readonly float[] _outputData;

    /// <param name="inputNchw">The same batch as ours, in ONNX's layout.</param>
    public OrtModelRunner(byte[] onnx, int threads, float[] inputNchw, long[] inputDims, long[] outputDims)
    {
        _options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(onnx, _options);
        string inputName = _session.InputMetadata.Keys.Single(), outputName = _session.OutputMetadata.Keys.First();
        _input = OrtValue.CreateTensorValueFromMemory(inputNchw, inputDims);
        _outputData = new float[outputDims.Aggregate(1L, (a, d) => a * d)];
        _output = OrtValue.CreateTensorValueFromMemory(_outputData, outputDims);
        _binding = _session.CreateIoBinding();
        _binding.BindInput(inputName, _input);
        _binding.BindOutput(outputName, _output);
    }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>The last run's output in ONNX layout.</summary>
    public float[] Output() => _outputData;

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
