using ConvEngine.Import.Onnx;
using ConvEngine.Kernels;
using ConvEngine.Models;

namespace ConvEngine.Benchmarks.Models;

/// <summary>
/// Our engine on one case: the engine model's <see cref="Model.Predict(Tensor, Tensor)"/>, or the ONNX graph through
/// <see cref="OnnxImporter"/> (<see cref="OnnxModel.RunChannelsLast(Tensor)"/>), on an input that is already on the
/// backend, so a run is the network alone.
/// </summary>
public sealed class OurModelRunner : IDisposable
{
    private readonly ModelCase _case;
    private readonly Model? _model;
    private readonly OnnxModel? _onnx;
    private readonly Tensor _input;
    private readonly Tensor? _output;
    private readonly string? _onnxPath;
    private Tensor? _lastOnnxOutput;

    /// <param name="inputNhwc">One batch in the engine's layout (N, H, W, C).</param>
    public OurModelRunner(ModelCase modelCase, IBackend backend, Model engineModel, byte[] onnx, float[] inputNhwc)
    {
        _case = modelCase;
        Backend = backend;
        int[] sample = engineModel.InputShape;
        _input = Tensor.FromArray(backend, inputNhwc, [modelCase.Batch, .. sample]);
        if (modelCase.RunsAs == OursRunsAs.EngineLayers)
        {
            _model = engineModel;
            _output = Tensor.Zeros(backend, [modelCase.Batch, .. engineModel.OutputShape]);
        }
        else
        {
            // OnnxImporter reads files; the graph is written once to a temporary one.
            _onnxPath = Path.Combine(Path.GetTempPath(), $"convengine-bench-{modelCase.Id}-{Environment.ProcessId}.onnx");
            File.WriteAllBytes(_onnxPath, onnx);
            _onnx = OnnxImporter.Load(_onnxPath, backend);
            engineModel.Dispose();
        }
    }

    public IBackend Backend { get; }
    /// <summary>The imported model (OnnxImporter cases), for per-step profiles.</summary>
    public OnnxModel? Onnx => _onnx;
    public Model? Engine => _model;
    public Tensor Input => _input;

    public void Run()
    {
        if (_model is not null) _model.Predict(_input, _output!);
        else
        {
            _lastOnnxOutput?.Dispose();
            _lastOnnxOutput = _onnx!.RunChannelsLast(_input);
        }
    }

    /// <summary>The last run's output: (N, H, W, C) or (N, K), channels-last.</summary>
    public float[] Output() => (_output ?? _lastOnnxOutput ?? throw new InvalidOperationException("Run first.")).ToArray();

    public void Dispose()
    {
        _lastOnnxOutput?.Dispose();
        _output?.Dispose();
        _input.Dispose();
        _model?.Dispose();
        _onnx?.Dispose();
        if (_onnxPath is not null) File.Delete(_onnxPath);
    }
}
