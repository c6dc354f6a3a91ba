using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>The `convengine weights` branch: list known pretrained files, convert one into engine weights.</summary>
internal static class WeightsCommands
{
    public static void Configure(IConfigurator config) =>
        config.AddBranch("weights", weights =>
        {
            weights.SetDescription("Known pretrained weights: what exists, what is here, and conversion to the engine's safetensors.");
            weights.AddCommand<WeightsListCommand>("list")
                .WithDescription("List the weights manifest and what is present locally (under weights/ and in the NuGet cache).");
            weights.AddCommand<WeightsConvertCommand>("convert")
                .WithDescription("Verify a pretrained file against the manifest, load it into an architecture and save engine safetensors.");
        });
}
