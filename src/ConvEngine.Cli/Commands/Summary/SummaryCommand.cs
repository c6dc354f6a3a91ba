using System.ComponentModel;
using ConvEngine.Kernels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>`convengine summary --model M`: Keras's model.summary() table for any model the engine loads.</summary>
internal sealed class SummaryCommand : Command<SummaryCommand.Settings>
{
    public sealed class Settings : ModelSettings
    {
        [CommandOption("-w|--weights <FILE>")]
        [Description("Weights for --model (a Keras .h5 or a .safetensors file); they do not change the table, only the note on where the weights come from.")]
        public string? Weights { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            using var backend = Backends.Create(settings.Backend);
            using var model = InspectableModel.Load(settings.ModelPath!, settings.Weights, backend);
            var writer = AnsiConsole.Console.Profile.Out.Writer;
            writer.Write(model.Model.Summary());
            writer.Flush();
            // On standard error, so that standard output is exactly Keras's table.
            Console.Error.WriteLine($"convengine summary: {model.Format} model from {settings.ModelPath}; {model.WeightsNote}.");
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e) || e is NotSupportedException)
        {
            return CommandErrors.Report("summary", e);
        }
    }
}
