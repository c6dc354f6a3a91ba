using ConvEngine.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("convengine");
    config.AddCommand<DevicesCommand>("devices").WithDescription("List the compute devices present and the backend name that selects each.");
    config.AddCommand<FilterCommand>("filter").WithDescription("The course's feature-extraction demo: convolve a greyscale image with a kernel, ReLU, max-pool; writes each stage as a PNG.");
    WeightsCommands.Configure(config);
});
return app.Run(args);
