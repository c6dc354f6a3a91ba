using System.Diagnostics;
using System.Globalization;
using ConvEngine.Benchmarks.Onnx;

namespace ConvEngine.Benchmarks;

/// <summary>
/// `--check`: runs every benchmarked shape once in both engines on the same data and compares the
/// outputs, so the benchmark is known to time the same math (layouts, pads, bias, ReLU) on both sides.
/// </summary>
public static class ConvCrossCheck
{
    // Float32 sums of up to 9·512 products in different orders differ by ~1e-6 relative; 1e-4 leaves room.
    private const double Tolerance = 1e-4;

    /// <summary>Prints one line per shape; returns 0 if every shape agrees within tolerance, else 1.</summary>
    public static int Run(TextWriter log)
    {
        int threads = BenchmarkThreads.Count, failures = 0;
        log.WriteLine($"Cross-check: ConvEngine cpu vs ONNX Runtime, {threads} threads; pass if max|ours-ORT| <= {Tolerance:0e0} * max|ORT|.");
        log.WriteLine($"{"shape",-24} {"kernel",-16} {"max|diff|",10} {"max|ORT|",9} {"ours ms",9} {"ORT ms",9}  result");
        foreach (var shape in Vgg16ConvShapes.Benchmarked)
        {
            var problem = new ConvProblem(shape);
            using var ours = new CpuConvRunner(problem, threads);
            using var ort = new OrtConvRunner(problem, threads);
            double oursMs = TimeOnce(ours.Run), ortMs = TimeOnce(ort.Run);
            float[] a = ours.Output(), b = ort.Output();
            double maxDiff = 0, maxRef = 0;
            for (int i = 0; i < a.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
                maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
            }
            bool pass = maxDiff <= Tolerance * maxRef && maxRef > 0;
            if (!pass) failures++;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{shape,-24} {"cpu/" + ours.Variant,-16} {maxDiff,10:0.00e0} {maxRef,9:F3} {oursMs,9:F1} {ortMs,9:F1}  {(pass ? "ok" : "MISMATCH")}"));
        }
        log.WriteLine(failures == 0 ? "All shapes agree." : $"{failures} shape(s) disagree.");
        return failures == 0 ? 0 : 1;
    }

    // A single cold-ish run: a sanity figure, not a measurement (the benchmarks measure).
    private static double TimeOnce(Action run)
    {
        var clock = Stopwatch.StartNew();
        run();
        return clock.Elapsed.TotalMilliseconds;
    }
}
