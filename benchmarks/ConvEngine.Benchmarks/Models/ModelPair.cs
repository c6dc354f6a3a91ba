using ConvEngine.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace ConvEngine.Benchmarks.Models;

/// <summary>
/// Both engines set up on one case with the same input batch: ours on <see cref="Backend"/>, ONNX Runtime on the
/// same ONNX graph. Either side may be left out (BenchmarkDotNet times each in its own process).
/// </summary>
public sealed class ModelPair : IDisposable
{
    private ModelPair(ModelCase modelCase, IBackend backend) { Case = modelCase; Backend = backend; }

    public ModelCase Case { get; }
    public IBackend Backend { get; }
    public OurModelRunner? Ours { get; private set; }
    public OrtModelRunner? Ort { get; private set; }
    /// <summary>ONNX Runtime's output dims (NCHW for images).</summary>
    public long[] OrtOutputDims { get; private set; } = [];

    /// <param name="backendName">Our backend: cpu, ilgpu-cpu, cuda, opencl.</param>
    public static ModelPair Create(ModelCase modelCase, string backendName, int threads, bool ours = true, bool ort = true)
    {
        var backend = backendName == "cpu" ? new Kernels.Cpu.CpuBackend(threads) : Backends.Create(backendName);
        var pair = new ModelPair(modelCase, backend);
        try
        {
            var model = modelCase.BuildEngineModel(backend);
            byte[] onnx = modelCase.OnnxBytes(model);
            int[] sample = model.InputShape;
            var rng = new Random(23);
            float high = modelCase.Model == "custom-convnet" ? 255f : 1f, low = modelCase.Model == "custom-convnet" ? 0f : -1f;
            var input = new float[modelCase.Batch * sample.Aggregate(1, (a, d) => a * d)];
            for (int i = 0; i < input.Length; i++) input[i] = low + (float)rng.NextDouble() * (high - low);
            if (ort)
            {
                int[] nchw = EngineToOnnx.Nchw(sample);
                float[] ortInput = sample.Length == 3 ? Layouts.NhwcToNchw(input, modelCase.Batch, sample[0], sample[1], sample[2]) : input;
                using (var probe = new InferenceSession(onnx))
                {
                    int[] dims = probe.OutputMetadata.Values.First().Dimensions;
                    pair.OrtOutputDims = [modelCase.Batch, .. dims[1..].Select(d => (long)d)];
                }
                pair.Ort = new OrtModelRunner(onnx, threads, ortInput, [modelCase.Batch, .. nchw.Select(d => (long)d)], pair.OrtOutputDims);
            }
            if (ours) pair.Ours = new OurModelRunner(modelCase, backend, model, onnx, input);
            else model.Dispose();
            return pair;
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    /// <summary>ONNX Runtime's last output in the engine's layout (NCHW images permuted to NHWC).</summary>
    public float[] OrtOutputChannelsLast()
    {
        float[] y = Ort!.Output();
        var d = OrtOutputDims;
        return d.Length == 4 && d[2] * d[3] > 1 ? Layouts.NchwToNhwc(y, (int)d[0], (int)d[1], (int)d[2], (int)d[3]) : y;
    }

    /// <summary>Runs both once and compares: the largest difference relative to the largest |ORT output|.</summary>
    public (double MaxAbsDiff, double MaxAbs, double Relative) Compare()
    {
        Ours!.Run();
        Ort!.Run();
        float[] ours = Ours.Output(), peer = OrtOutputChannelsLast();
        if (ours.Length != peer.Length)
            throw new InvalidOperationException($"{Case.Id}: ours gives {ours.Length} values, ONNX Runtime {peer.Length}.");
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)ours[i] - peer[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs((double)peer[i]));
            if (!float.IsFinite(ours[i])) maxDiff = double.PositiveInfinity;
        }
        return (maxDiff, maxAbs, maxDiff / Math.Max(maxAbs, 1e-30));
    }

    public void Dispose()
    {
        Ours?.Dispose();
        Ort?.Dispose();
        Backend.Dispose();
    }
}
