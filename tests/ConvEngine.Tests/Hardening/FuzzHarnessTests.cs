using System.Diagnostics;
using System.Text.Json.Nodes;
using NUnit.Framework;

namespace ConvEngine.Tests.Hardening;

/// <summary>
/// The fuzz harness's short seeded run (tests/ConvEngine.Fuzz): 200 mutated inputs of every format the engine reads,
/// each in a worker process with a time and memory budget. None may crash, hang, run out of memory or fail with a
/// message that does not name the file. The long run is a command (see the harness's Program.cs).
/// </summary>
[NonParallelizable] // its workers take the machine's cores
public class FuzzHarnessTests
{
    private const int CasesPerFormat = 200;

    [Test]
    public void ShortSeededRun_EveryFormat_NoCrashHangOrOom_EveryFailureNamesTheFile()
    {
        string tool = Path.Combine(AppContext.BaseDirectory, "ConvEngine.Fuzz.dll");
        Assert.That(File.Exists(tool), Is.True, $"the fuzz harness is built beside the tests ({tool})");
        string json = Path.Combine(Path.GetTempPath(), $"convengine-fuzz-{Environment.ProcessId}.json");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A per-case budget generous enough for a loaded 2-core machine: a hang is a case that never ends.
        foreach (var a in new[] { tool, "run", "--cases", $"{CasesPerFormat}", "--seed", "1", "--case-timeout", "60", "--json", json }) start.ArgumentList.Add(a);
        using var run = Process.Start(start)!;
        var output = run.StandardOutput.ReadToEndAsync();
        var errors = run.StandardError.ReadToEndAsync();
        Assert.That(run.WaitForExit(TimeSpan.FromMinutes(10)), Is.True, "the short run finished");
        try
        {
            var report = JsonNode.Parse(File.ReadAllText(json))!;
            var formats = report["formats"]!.AsArray();
            Assert.That(formats.Select(f => f!["format"]!.GetValue<string>()), Is.SupersetOf(new[]
            {
                "png", "jpeg", "bmp", "gif", "tiff-named-png", "idx", "idx-gz", "npy", "safetensors", "engine-config", "engine-weights",
                "dataset-json", "checkpoint", "keras-json", "keras-h5-weights", "keras-h5-model", "keras-archive", "onnx", "onnx-pb", "tfjs", "csv-series",
            }));
            foreach (var f in formats)
            {
                string name = f!["format"]!.GetValue<string>();
                Assert.That(f["cases"]!.GetValue<int>(), Is.EqualTo(CasesPerFormat), name);
                var outcomes = f["outcomes"]!.AsObject();
                // The mutations must reach the readers' error paths, not only produce files that still read fine.
                Assert.That(outcomes["clean"]!.GetValue<int>(), Is.GreaterThan(CasesPerFormat / 4), $"{name}: most mutations are refused");
                foreach (var bad in new[] { "crash", "hang", "oom", "unnamed" })
                    Assert.That(outcomes[bad]!.GetValue<int>(), Is.Zero,
                        $"{name}: {bad} cases: {string.Join(" | ", f["failures"]!.AsArray().Select(x => $"{x!["case"]}: {x["message"]}"))}");
            }
            Assert.That(run.ExitCode, Is.Zero, output.Result + errors.Result);
        }
        finally
        {
            File.Delete(json);
        }
    }
}
