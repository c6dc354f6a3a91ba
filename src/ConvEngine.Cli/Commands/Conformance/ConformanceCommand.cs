using System.ComponentModel;
using ConvEngine.Kernels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine conformance DIR`: imports and runs every ONNX backend-test case under DIR on a backend
/// and tabulates case, ops, status (pass / fail / unsupported / error) and the largest absolute error.
/// Exit code 0 when no case fails or errs (unsupported ones are refused cleanly, which is allowed).
/// </summary>
internal sealed class ConformanceCommand : Command<ConformanceCommand.Settings>
{
    public sealed class Settings : CommonSettings
    {
        [CommandArgument(0, "<dir>")]
        [Description("Folder of cases, each with model.onnx and test_data_set_0/input_0.pb, output_0.pb (e.g. shared/conformance/onnx-pytorch-converted).")]
        public string Directory { get; init; } = "";

        [CommandOption("--details")]
        [Description("Add a column with the reason of each failure or refusal.")]
        public bool Details { get; init; }

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            return System.IO.Directory.Exists(Directory) ? ValidationResult.Success() : ValidationResult.Error($"Folder '{Directory}' does not exist.");
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var cases = ConformanceCase.Find(settings.Directory);
        if (cases.Count == 0)
        {
            AnsiConsole.MarkupLine($"[red]No cases (folders with model.onnx) under '{Markup.Escape(settings.Directory)}'.[/]");
            return 2;
        }
        IBackend backend;
        try
        {
            backend = Backends.Create(settings.Backend);
        }
        catch (Exception e) when (e is BackendUnavailableException or ArgumentException)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 2;
        }

        using (backend)
        {
            var table = new Table().AddColumns("case", "ops", "status", "max abs error");
            if (settings.Details) table.AddColumn("detail");
            var results = new List<ConformanceResult>();
            foreach (string dir in cases)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var r = ConformanceCase.Run(dir, backend);
                results.Add(r);
                string status = r.Status switch
                {
                    ConformanceStatus.Pass => "[green]pass[/]",
                    ConformanceStatus.Unsupported => "[yellow]unsupported[/]",
                    ConformanceStatus.Fail => "[red]fail[/]",
                    _ => "[red]error[/]",
                };
                var row = new List<string> { Markup.Escape(r.Case), Markup.Escape(string.Join(", ", r.Ops)), status, r.MaxAbsError is { } e ? e.ToString("G3") : "-" };
                if (settings.Details) row.Add(Markup.Escape(r.Detail));
                table.AddRow(row.ToArray());
            }
            AnsiConsole.Write(table);
            int Count(ConformanceStatus s) => results.Count(r => r.Status == s);
            AnsiConsole.WriteLine(
                $"conformance on {backend.Name}: {Count(ConformanceStatus.Pass)} pass, {Count(ConformanceStatus.Fail)} fail, " +
                $"{Count(ConformanceStatus.Unsupported)} unsupported, {Count(ConformanceStatus.Error)} error of {results.Count} cases " +
                $"(rtol {ConformanceCase.Rtol:G}, atol {ConformanceCase.Atol:G})");
            return Count(ConformanceStatus.Fail) + Count(ConformanceStatus.Error) == 0 ? 0 : 1;
        }
    }
}
