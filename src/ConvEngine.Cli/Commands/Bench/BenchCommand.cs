using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine bench [--model M | --op conv2d --shape …] [--backend B] [--variants all]`: each op shape on each
/// chosen kernel variant, with its time, GFLOP/s, share of the machine's measured FMA peak (CPU backends) and largest
/// error against the readable reference kernel. `--clear-tuning` empties the tuning cache instead.
/// </summary>
internal sealed class BenchCommand : Command<BenchCommand.Settings>
{
    /// <summary>The options of `convengine bench`.</summary>
    public sealed class Settings : ModelSettings
    {
        protected override bool RequiresModel => false;

        [CommandOption("--op <OP>")]
        [Description("The op to time instead of a model's layers: conv2d or dense (with --shape).")]
        public string? Op { get; init; }

        [CommandOption("--shape <SHAPE>")]
        [Description("The op's shape. conv2d: " + BenchProblem.ConvShapeSyntax + "; dense: " + BenchProblem.DenseShapeSyntax + ".")]
        public string? Shape { get; init; }

        [CommandOption("-b|--batch-size <N>")]
        [Description("Batch the model's layers are timed at (with --model).")]
        [DefaultValue(1)]
        public int BatchSize { get; init; } = 1;

        [CommandOption("--variants <NAMES>")]
        [Description("Kernel variants to time: default (what the backend picks, tuned on cpu), all (every registered variant), or names joined by commas.")]
        [DefaultValue("default")]
        public string Variants { get; init; } = "default";

        [CommandOption("--repeats <N>")]
        [Description("Timed runs per variant after one warm-up; the median is shown.")]
        [DefaultValue(5)]
        public int Repeats { get; init; } = 5;

        [CommandOption("--tuning <MODE>")]
        [Description("cpu backend autotuning: on (time new conv shapes once, keep the choice in the tuning cache) or off (cache-derived defaults). Default: CONVENGINE_TUNING, else on.")]
        public string? Tuning { get; init; }

        [CommandOption("--clear-tuning")]
        [Description("Delete the tuning cache (CONVENGINE_TUNING_CACHE, else ~/.cache/convengine/tuning.json) and exit.")]
        public bool ClearTuning { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("text (a table) or csv.")]
        [DefaultValue("text")]
        public string Format { get; init; } = "text";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (ClearTuning) return ModelPath is null && Op is null ? ValidationResult.Success() : ValidationResult.Error("--clear-tuning takes no --model or --op.");
            if ((ModelPath is null) == (Op is null)) return ValidationResult.Error("bench needs --model M or --op conv2d|dense with --shape (one of them).");
            if (Op is not null && Op.Trim().ToLowerInvariant() is not ("conv2d" or "dense")) return ValidationResult.Error($"--op must be conv2d or dense; got '{Op}'.");
            if (Op is not null && string.IsNullOrWhiteSpace(Shape)) return ValidationResult.Error("--op needs --shape.");
            if (Op is null && Shape is not null) return ValidationResult.Error("--shape goes with --op, not --model.");
            if (BatchSize < 1) return ValidationResult.Error($"--batch-size must be at least 1; got {BatchSize}.");
            if (Repeats < 1) return ValidationResult.Error($"--repeats must be at least 1; got {Repeats}.");
            if (Tuning is not null && Tuning.Trim().ToLowerInvariant() is not ("on" or "off")) return ValidationResult.Error($"--tuning must be on or off; got '{Tuning}'.");
            if (Format.Trim().ToLowerInvariant() is not ("text" or "csv")) return ValidationResult.Error($"--format must be text or csv; got '{Format}'.");
            return ValidationResult.Success();
        }
    }

    /// <summary>One timed op shape on one variant.</summary>
    internal sealed record Row(string Op, string Shape, int Layers, string Variant, double Milliseconds, double Gflops, double? PercentOfPeak, double MaxAbsError, double RelativeError);

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console.Profile.Out.Writer;
        try
        {
            if (settings.ClearTuning)
            {
                var cache = CpuTuner.Cache;
                int cleared = cache.Clear();
                console.WriteLine($"Cleared {cleared} tuning entr{(cleared == 1 ? "y" : "ies")} from {cache.Path}.");
                return 0;
            }
            TuningMode? tuning = settings.Tuning?.Trim().ToLowerInvariant() switch { "on" => TuningMode.On, "off" => TuningMode.Off, _ => null };
            IBackend NewBackend() => settings.Backend.Trim().ToLowerInvariant() == "cpu" ? new CpuBackend(tuning: tuning) : Backends.Create(settings.Backend);

            IReadOnlyList<BenchProblem> problems;
            string subject;
            if (settings.Op is { } op)
            {
                problems = [BenchProblem.Parse(op.Trim().ToLowerInvariant(), settings.Shape!)];
                subject = $"{problems[0].Op} {problems[0].Shape}";
            }
            else
            {
                using var loader = NewBackend();
                using var model = InspectableModel.Load(settings.ModelPath!, null, loader);
                problems = BenchProblem.FromModel(model.Model, settings.BatchSize);
                subject = $"{model.Model.Name} ({settings.ModelPath}), batch {settings.BatchSize}";
            }

            using (var probe = NewBackend())
            {
                double? peak = PeakOf(probe);
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"# bench {subject}: backend {probe.Name} ({probe.Device.Parallelism}); FMA peak {(peak is { } p ? $"{p:F1} GFLOP/s (measured)" : "not measured (not a CPU backend)")}; " +
                    $"median of {settings.Repeats} run(s); load {LoadAverage()}"));
                var rows = new List<Row>();
                foreach (var problem in problems)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    float[] reference = problem.Reference();
                    foreach (string variant in VariantsFor(probe, problem.Op, settings.Variants))
                        rows.Add(Time(NewBackend, problem, variant, settings.Repeats, reference, peak));
                }
                if (settings.Format.Trim().ToLowerInvariant() == "csv") console.Write(Csv(rows));
                else WriteTable(rows);
            }
            console.Flush();
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("bench", e);
        }
    }

    /// <summary>The variants to time: "default" (the backend's own pick), "all", or names checked against the backend's list.</summary>
    private static IReadOnlyList<string> VariantsFor(IBackend backend, string op, string requested)
    {
        string text = requested.Trim().ToLowerInvariant();
        if (text == "default") return ["default"];
        if (!backend.Variants.Available.TryGetValue(op, out var names))
            throw new ArgumentException($"--variants: backend {backend.Name} registers no variants for {op}; use --variants default.");
        if (text == "all") return names;
        var chosen = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in chosen)
            if (name != "default" && !names.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"--variants: backend {backend.Name} has no {op} variant '{name}'; it has {string.Join(", ", names)}.");
        return chosen;
    }

    /// <summary>Times one variant on a fresh backend (so "default" leaves the backend free to tune), then measures its output against the reference.</summary>
    private static Row Time(Func<IBackend> newBackend, BenchProblem problem, string variant, int repeats, float[] reference, double? peak)
    {
        using var backend = newBackend();
        if (variant != "default") backend.Variants.Select(problem.Op, variant);
        using var buffers = problem.Upload(backend);
        problem.Run(backend, buffers);   // warm-up: JIT, scratch buffers, and the tuner's timing of a new shape
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            problem.Run(backend, buffers);
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(times);
        double ms = repeats % 2 == 1 ? times[repeats / 2] : (times[repeats / 2 - 1] + times[repeats / 2]) / 2;
        var (maxAbs, relative) = Errors(buffers.Read(backend, problem.OutputLength), reference);
        double gflops = problem.Flops / ms / 1e6;
        string shown = variant == "default" && backend is CpuBackend cpu && problem.Op == "conv2d" ? $"default ({cpu.Conv2DVariantFor(problem.Conv)})" : variant;
        return new Row(problem.Op, problem.Shape, problem.Layers, shown, ms, gflops, peak is { } p ? 100 * gflops / p : null, maxAbs, relative);
    }

    /// <summary>The largest |output − reference|, and that divided by the largest |reference| (infinite where an output is not finite).</summary>
    internal static (double MaxAbs, double Relative) Errors(float[] output, float[] reference)
    {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = Math.Abs((double)output[i] - reference[i]);
            maxDiff = float.IsFinite(output[i]) ? Math.Max(maxDiff, d) : double.PositiveInfinity;
            maxRef = Math.Max(maxRef, Math.Abs((double)reference[i]));
        }
        return (maxDiff, maxDiff / Math.Max(maxRef, 1e-30));
    }

    /// <summary>The measured FMA peak of a CPU backend at its threads and SIMD level; null for the others.</summary>
    internal static double? PeakOf(IBackend backend) => backend switch
    {
        CpuBackend cpu => CpuFmaPeak.Measure(cpu.Threads, cpu.Simd),
        _ when backend.Device.Kind.StartsWith("CPU", StringComparison.OrdinalIgnoreCase) => CpuFmaPeak.Measure(Environment.ProcessorCount, SimdSupport.Resolve()),
        _ => null,
    };

    internal static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "unknown"; }
    }

    private static void WriteTable(IReadOnlyList<Row> rows)
    {
        var table = new Table().AddColumns("op", "shape", "layers", "variant", "ms", "GFLOP/s", "% of peak", "max |error|", "relative error");
        foreach (var r in rows)
            table.AddRow(r.Op, r.Shape, Number(r.Layers), Markup.Escape(r.Variant), Fixed(r.Milliseconds, 3), Fixed(r.Gflops, 1),
                r.PercentOfPeak is { } p ? Fixed(p, 0) : "-", Exp(r.MaxAbsError), Exp(r.RelativeError));
        AnsiConsole.Write(table);
    }

    private static string Csv(IReadOnlyList<Row> rows)
    {
        var text = new StringBuilder("op,shape,layers,variant,ms,gflops,percent_of_peak,max_abs_error,relative_error\n");
        foreach (var r in rows)
            text.Append(string.Join(',', r.Op, CommandOutput.CsvField(r.Shape), Number(r.Layers), CommandOutput.CsvField(r.Variant), Fixed(r.Milliseconds, 4),
                Fixed(r.Gflops, 2), r.PercentOfPeak is { } p ? Fixed(p, 1) : "", Exp(r.MaxAbsError), Exp(r.RelativeError))).Append('\n');
        return text.ToString();
    }

    private static string Number(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Fixed(double v, int digits) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
    private static string Exp(double v) => v.ToString("0.00e+00", CultureInfo.InvariantCulture);
}
