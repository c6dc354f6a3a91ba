using System.Globalization;

namespace ConvEngine.Benchmarks.Training;

/// <summary>
/// `--check-training`: shows both sides train the same net. Torch gets our initial weights; then the
/// inference loss of the batch must agree, and for a net without dropout (whose masks differ between
/// engines) so must the loss of each of a few Adam steps. Returns 0 when all agree.
/// </summary>
public static class TrainingCrossCheck
{
    private const int Steps = 4;
    // float32 sums taken in different orders; Adam also adds epsilon at a different place (Keras to √v,
    // torch to the bias-corrected √v̂, i.e. an epsilon √(1-β2ᵗ) times smaller): 7e-4 on the step-2 loss of custom-128,
    // which follows the first update, where that factor is 1/31.6; well below 1e-4 otherwise.
    private const double RelativeTolerance = 2e-3;

    public static int Run(TextWriter log)
    {
        int threads = BenchmarkThreads.Count;
        bool allAgree = true;
        foreach (var net in TrainingNet.All)
        foreach (var layout in Enum.GetValues<TorchLayout>())
        {
            var data = new TrainingData(net);
            using var ours = new OurTrainingStep(data, threads);
            using var torch = new TorchTrainingStep(data, threads, layout);
            torch.LoadWeightsFrom(ours.Model);
            log.WriteLine($"{net.Id}, torch {layout}:");

            allAgree &= Compare(log, net, "inference loss", ours.InferenceLoss(), torch.InferenceLoss());
            if (net.Layers.OfType<DropoutSpec>().Any())
            {
                log.WriteLine("  training steps not compared (dropout masks differ between the engines).");
                continue;
            }
            for (int step = 1; step <= Steps; step++)
                allAgree &= Compare(log, net, $"step {step} loss", ours.Step(), torch.Step());
            allAgree &= Compare(log, net, $"inference loss after {Steps} steps", ours.InferenceLoss(), torch.InferenceLoss());
        }
        log.WriteLine(allAgree ? "All training checks agree." : "SOME TRAINING CHECKS DISAGREE.");
        return allAgree ? 0 : 1;
    }

    private static bool Compare(TextWriter log, TrainingNet net, string what, double ours, double torch)
    {
        double relative = Math.Abs(ours - torch) / Math.Max(Math.Abs(torch), 1e-12);
        bool agree = relative <= RelativeTolerance;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what}: ours {ours:G9}, torch {torch:G9}, relative difference {relative:E2} {(agree ? "ok" : "MISMATCH")}"));
        return agree;
    }
}
