using ConvEngine.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("convengine");
    config.AddCommand<DevicesCommand>("devices").WithDescription("List the compute devices present and the backend name that selects each.");
});
return app.Run(args);
