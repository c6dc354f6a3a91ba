using ConvEngine.Kernels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>`convengine devices`: what exists here, honestly — absent backends are listed as absent.</summary>
internal sealed class DevicesCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumns("backend", "device", "kind", "memory", "parallelism");
        foreach (var d in Backends.ListDevices())
            table.AddRow(d.Backend, Markup.Escape(d.Name), d.Kind, $"{d.MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB", Markup.Escape(d.Parallelism));
        AnsiConsole.Write(table);
        return 0;
    }
}
