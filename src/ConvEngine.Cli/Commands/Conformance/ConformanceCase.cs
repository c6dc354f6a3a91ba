using ConvEngine.Import.Onnx;
using ConvEngine.Kernels;

namespace ConvEngine.Cli.Commands;

/// <summary>The outcome of one conformance case.</summary>
internal enum ConformanceStatus { Pass, Fail, Unsupported, Error }

/// <summary>One case's result: its ops, the outcome, the largest |got − expected| when it ran, and why when it did not pass.</summary>
internal sealed record ConformanceResult(string Case, IReadOnlyList<string> Ops, ConformanceStatus Status, double? MaxAbsError, string Detail);

/// <summary>
/// One case of the ONNX backend test suite's layout: model.onnx and test_data_set_0/input_0.pb,
/// output_0.pb. It passes when every output element is within atol + rtol·|expected| (the suite's
/// defaults, rtol 1e-3, atol 1e-5); an <see cref="OnnxUnsupportedException"/> makes it "unsupported".
/// </summary>
internal static class ConformanceCase
{
    public const double Rtol = 1e-3, Atol = 1e-5;

    /// <summary>Case folders under <paramref name="directory"/>: those holding a model.onnx, sorted by name.</summary>
    public static IReadOnlyList<string> Find(string directory) =>
        Directory.GetDirectories(directory).Where(d => File.Exists(Path.Combine(d, "model.onnx"))).Order(StringComparer.Ordinal).ToList();

    public static ConformanceResult Run(string caseDirectory, IBackend backend)
    {
        string name = Path.GetFileName(caseDirectory);
        string modelPath = Path.Combine(caseDirectory, "model.onnx");
        IReadOnlyList<string> ops = [];
        try
        {
            ops = OnnxImporter.ReadOpTypes(modelPath);
            string data = Path.Combine(caseDirectory, "test_data_set_0");
            var input = OnnxTensorData.ReadFile(Path.Combine(data, "input_0.pb"));
            var expected = OnnxTensorData.ReadFile(Path.Combine(data, "output_0.pb"));
            using var model = OnnxImporter.Load(modelPath, backend);
            using var x = Tensor.FromArray(backend, input.ToFloats(), input.Dims);
            using var y = model.Run(x);
            if (!y.Shape.ToArray().SequenceEqual(expected.Dims))
                return new ConformanceResult(name, ops, ConformanceStatus.Fail, null, $"output shape {y.Shape}, expected ({string.Join(", ", expected.Dims)})");
            float[] got = y.ToArray(), want = expected.ToFloats();
            double worst = 0;
            int failures = 0, first = -1;
            for (int i = 0; i < want.Length; i++)
            {
                double error = Math.Abs((double)got[i] - want[i]);
                worst = Math.Max(worst, error);
                if (!(error <= Atol + Rtol * Math.Abs(want[i])))
                {
                    failures++;
                    if (first < 0) first = i;
                }
            }
            return failures == 0
                ? new ConformanceResult(name, ops, ConformanceStatus.Pass, worst, "")
                : new ConformanceResult(name, ops, ConformanceStatus.Fail, worst, $"{failures} of {want.Length} elements out of tolerance; first at {first}: got {got[first]}, expected {want[first]}");
        }
        catch (OnnxUnsupportedException e)
        {
            return new ConformanceResult(name, ops, ConformanceStatus.Unsupported, null, e.Message);
        }
        catch (Exception e) when (e is OnnxFormatException or IOException or ArgumentException or InvalidOperationException)
        {
            return new ConformanceResult(name, ops, ConformanceStatus.Error, null, e.Message);
        }
    }
}
