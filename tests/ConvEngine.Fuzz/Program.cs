using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConvEngine.Fuzz;

// The fuzz harness: seeded mutations of every format the engine reads, each case run against the engine's reader in
// a worker process with a time and memory budget (a worker dies on a stack overflow; it is restarted after the case).
//
//   dotnet run -c Release --project tests/ConvEngine.Fuzz -- run [--formats png,onnx,…] [--cases 1000] [--seed 1]
//        [--case-timeout 20] [--memory-mb 768] [--report fuzz-report.md] [--json fuzz-report.json]
//   … -- replay --format png --seed 1 --case 123 [--keep DIR]     (one case in-process, with its stack trace)
//   … -- list                                                        (the formats)
// Exit code 0 when no case crashed, hung, ran out of memory or failed with a message that does not name the file.

var options = Options.Parse(args);
return options.Mode switch
{
    "worker" => Worker.Run(options),
    "replay" => Replay(options),
    "list" => List(),
    "seeds" => Seeds(options),
    "run" => Parent.Run(options),
    _ => Usage(),
};

static int List()
{
    foreach (var t in FuzzTargets.All) Console.WriteLine(t.Name);
    return 0;
}

// Each seed's files and hashes: two runs must print the same, or cases are not reproducible.
static int Seeds(Options options)
{
    var sources = SeedSources.Find();
    foreach (var name in options.Formats)
        foreach (var seed in FuzzTargets.Named(name).Seeds(sources))
            foreach (var (file, bytes) in seed.Files.OrderBy(f => f.Key, StringComparer.Ordinal))
                Console.WriteLine($"{name}\t{seed.Name}\t{file}\t{bytes.Length}\t{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..16]}");
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: ConvEngine.Fuzz run|replay|list [--formats a,b] [--cases N] [--seed S] [--case-timeout SEC] [--memory-mb MB] [--report FILE] [--json FILE]");
    return 2;
}

static int Replay(Options options)
{
    var target = FuzzTargets.Named(options.Formats.Single());
    var seeds = target.Seeds(SeedSources.Find());
    string dir = options.Keep ?? Directory.CreateTempSubdirectory("convengine-fuzz-replay-").FullName;
    var (entry, description) = FuzzCases.Build(target, seeds, options.Seed, options.Case, Path.Combine(dir, $"case-{options.Case:D6}"));
    Console.WriteLine($"{target.Name} case {options.Case} (seed {options.Seed}): {description}\n  files in {dir}");
    try
    {
        target.Read(entry);
        Console.WriteLine("ok");
    }
    catch (Exception e)
    {
        Console.WriteLine(e);
    }
    var (outcome, message) = FuzzCases.Run(target, entry, Path.Combine(dir, $"case-{options.Case:D6}"));
    Console.WriteLine($"outcome: {outcome} {message}");
    return 0;
}

internal sealed record Options(string Mode, List<string> Formats, int Cases, int Seed, int From, int To, double CaseTimeout, int MemoryMb,
    string? Report, string? Json, string? Keep, int Case)
{
    public static Options Parse(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "";
        var values = new Dictionary<string, string>();
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
            values[args[i][2..]] = args[i + 1];
        }
        string Get(string key, string fallback) => values.TryGetValue(key, out var v) ? v : fallback;
        int Int(string key, int fallback) => int.Parse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var formats = values.TryGetValue("formats", out var f) ? f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : values.TryGetValue("format", out var one) ? [one] : FuzzTargets.All.Select(t => t.Name).ToList();
        foreach (var name in formats) FuzzTargets.Named(name);
        int cases = Int("cases", 200);
        return new Options(mode, formats, cases, Int("seed", 1), Int("from", 0), Int("to", cases),
            double.Parse(Get("case-timeout", "20"), CultureInfo.InvariantCulture), Int("memory-mb", 768),
            values.GetValueOrDefault("report"), values.GetValueOrDefault("json"), values.GetValueOrDefault("keep"), Int("case", 0));
    }
}

/// <summary>
/// A worker: runs cases [from, to) of one format and prints "B i" before and "E i outcome ms message" after each;
/// the parent kills it when a case runs over its time or memory.
/// </summary>
internal static class Worker
{
    public static int Run(Options options)
    {
        var target = FuzzTargets.Named(options.Formats.Single());
        var seeds = target.Seeds(SeedSources.Find());
        string root = Directory.CreateTempSubdirectory($"convengine-fuzz-{target.Name}-").FullName;
        var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
        try
        {
            for (int i = options.From; i < options.To; i++)
            {
                string dir = Path.Combine(root, $"case-{i:D6}");
                output.WriteLine($"B\t{i}");
                var clock = Stopwatch.StartNew();
                var (entry, _) = FuzzCases.Build(target, seeds, options.Seed, i, dir);
                var (outcome, message) = FuzzCases.Run(target, entry, dir);
                output.WriteLine($"E\t{i}\t{outcome}\t{clock.ElapsedMilliseconds}\t{message.Replace('\t', ' ')}");
                Directory.Delete(dir, recursive: true);
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>The parent: starts workers per format, enforces the budgets, tallies outcomes, writes the report.</summary>
internal static class Parent
{
    public sealed record Failure(int Case, Outcome Outcome, string Message);

    public sealed class Tally(string format)
    {
        public string Format { get; } = format;
        public Dictionary<Outcome, int> Counts { get; } = Enum.GetValues<Outcome>().ToDictionary(o => o, _ => 0);
        public List<Failure> Failures { get; } = [];
        public long Milliseconds { get; set; }
        public int Cases => Counts.Values.Sum();
        public bool Passed => Counts[Outcome.Crash] + Counts[Outcome.Hang] + Counts[Outcome.Oom] + Counts[Outcome.Unnamed] == 0;

        public void Add(int index, Outcome outcome, string message)
        {
            Counts[outcome]++;
            if (outcome is not (Outcome.Ok or Outcome.Clean)) Failures.Add(new Failure(index, outcome, message));
        }
    }

    public static int Run(Options options)
    {
        var clock = Stopwatch.StartNew();
        var tallies = new List<Tally>();
        foreach (string format in options.Formats)
        {
            var tally = new Tally(format);
            var started = Stopwatch.StartNew();
            for (int from = 0; from < options.Cases;)
                from = RunWorker(options, format, from, tally);
            tally.Milliseconds = started.ElapsedMilliseconds;
            tallies.Add(tally);
            Console.Error.WriteLine($"{format}: {Summary(tally)} ({tally.Milliseconds / 1000.0:F1} s)");
        }
        string report = Markdown(options, tallies, clock.Elapsed);
        Console.WriteLine(report);
        if (options.Report is { } path) File.WriteAllText(path, report);
        if (options.Json is { } json) File.WriteAllText(json, Json(options, tallies).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return tallies.All(t => t.Passed) ? 0 : 1;
    }

    private static string Summary(Tally t) => string.Join(", ", t.Counts.Where(kv => kv.Value > 0).Select(kv => $"{kv.Value} {kv.Key.ToString().ToLowerInvariant()}"));

    /// <summary>Runs one worker from case <paramref name="from"/>; returns the next case to run (after the one that killed it, if any).</summary>
    private static int RunWorker(Options options, string format, int from, Tally tally)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Run as this process was run: the apphost, or `dotnet ConvEngine.Fuzz.dll`.
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet") start.ArgumentList.Add(typeof(Parent).Assembly.Location);
        foreach (var a in new[] { "worker", "--format", format, "--seed", options.Seed.ToString(CultureInfo.InvariantCulture),
                     "--from", from.ToString(CultureInfo.InvariantCulture), "--to", options.Cases.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        // The GC's hard limit makes the engine's memory budget (half of it per allocation) the worker's, and a real
        // exhaustion an OutOfMemoryException instead of the kernel's OOM killer.
        start.Environment["DOTNET_GCHeapHardLimit"] = $"0x{(long)options.MemoryMb << 20:X}";
        start.Environment["DOTNET_TieredPGO"] = "0";
        using var worker = Process.Start(start)!;
        var stderr = worker.StandardError.ReadToEndAsync();
        var lines = new System.Collections.Concurrent.BlockingCollection<string>();
        var reader = Task.Run(() =>
        {
            string? line;
            while ((line = worker.StandardOutput.ReadLine()) is not null) lines.Add(line);
            lines.CompleteAdding();
        });
        int current = -1, next = options.Cases;
        var caseClock = Stopwatch.StartNew();
        Outcome? killedFor = null;
        while (true)
        {
            if (lines.TryTake(out var line, 50))
            {
                var fields = line.Split('\t', 5);
                if (fields[0] == "B") { current = int.Parse(fields[1], CultureInfo.InvariantCulture); caseClock.Restart(); }
                else if (fields[0] == "E")
                {
                    tally.Add(int.Parse(fields[1], CultureInfo.InvariantCulture), Enum.Parse<Outcome>(fields[2]), fields.Length > 4 ? fields[4] : "");
                    current = -1;
                }
                continue;
            }
            if (lines.IsCompleted) break;
            if (current >= 0 && caseClock.Elapsed.TotalSeconds > options.CaseTimeout) killedFor = Outcome.Hang;
            else if (current >= 0 && ResidentMb(worker) > 2L * options.MemoryMb) killedFor = Outcome.Oom;
            if (killedFor is not null)
            {
                try { worker.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                break;
            }
        }
        worker.WaitForExit();
        reader.Wait(TimeSpan.FromSeconds(10));
        if (current >= 0)
        {
            string died = stderr.IsCompleted ? stderr.Result : "";
            var outcome = killedFor ?? (died.Contains("OutOfMemory", StringComparison.Ordinal) ? Outcome.Oom : Outcome.Crash);
            string why = killedFor == Outcome.Hang ? $"over {options.CaseTimeout} s" : killedFor == Outcome.Oom ? $"over {2 * options.MemoryMb} MB resident"
                : $"the worker died (exit {worker.ExitCode}): {FuzzCases.OneLine(died.Length > 300 ? died[..300] : died)}";
            tally.Add(current, outcome, why);
            next = current + 1;
        }
        else if (worker.ExitCode != 0 && tally.Cases < options.Cases)
            throw new InvalidOperationException($"the {format} worker failed before its first case (exit {worker.ExitCode}): {stderr.Result}");
        return next;
    }

    private static long ResidentMb(Process process)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException) { }
        return 0;
    }

    private static string Markdown(Options options, List<Tally> tallies, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Fuzz run: seed {options.Seed}, {options.Cases} cases per format, {options.CaseTimeout} s and {options.MemoryMb} MB (GC heap) per case");
        text.AppendLine();
        text.AppendLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end, {elapsed.TotalSeconds:F0} s in all.");
        text.AppendLine();
        text.AppendLine("| format | cases | ok | clean error | unnamed | crash | hang | oom | seconds |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var t in tallies)
            text.AppendLine($"| {t.Format} | {t.Cases} | {t.Counts[Outcome.Ok]} | {t.Counts[Outcome.Clean]} | {t.Counts[Outcome.Unnamed]} | {t.Counts[Outcome.Crash]} | {t.Counts[Outcome.Hang]} | {t.Counts[Outcome.Oom]} | {t.Milliseconds / 1000.0:F1} |");
        int total = tallies.Sum(t => t.Cases);
        text.AppendLine($"| **all** | {total} | {tallies.Sum(t => t.Counts[Outcome.Ok])} | {tallies.Sum(t => t.Counts[Outcome.Clean])} | {tallies.Sum(t => t.Counts[Outcome.Unnamed])} | " +
                        $"{tallies.Sum(t => t.Counts[Outcome.Crash])} | {tallies.Sum(t => t.Counts[Outcome.Hang])} | {tallies.Sum(t => t.Counts[Outcome.Oom])} | {elapsed.TotalSeconds:F1} |");
        foreach (var t in tallies.Where(t => t.Failures.Count > 0))
        {
            text.AppendLine();
            text.AppendLine($"## {t.Format}: {t.Failures.Count} failing case(s) (replay: `dotnet run --project tests/ConvEngine.Fuzz -- replay --format {t.Format} --seed {options.Seed} --case N`)");
            foreach (var f in t.Failures.Take(25)) text.AppendLine($"- case {f.Case}: {f.Outcome.ToString().ToLowerInvariant()}: {f.Message}");
        }
        return text.ToString();
    }

    private static JsonObject Json(Options options, List<Tally> tallies) => new()
    {
        ["seed"] = options.Seed,
        ["cases_per_format"] = options.Cases,
        ["formats"] = new JsonArray(tallies.Select(t => (JsonNode)new JsonObject
        {
            ["format"] = t.Format,
            ["cases"] = t.Cases,
            ["outcomes"] = new JsonObject(t.Counts.Select(kv => KeyValuePair.Create(kv.Key.ToString().ToLowerInvariant(), (JsonNode?)kv.Value))),
            ["seconds"] = t.Milliseconds / 1000.0,
            ["failures"] = new JsonArray(t.Failures.Select(f => (JsonNode)new JsonObject
            {
                ["case"] = f.Case, ["outcome"] = f.Outcome.ToString().ToLowerInvariant(), ["message"] = f.Message,
            }).ToArray()),
        }).ToArray()),
    };
}
