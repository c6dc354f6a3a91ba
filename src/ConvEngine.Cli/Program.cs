using ConvEngine.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("convengine");
    config.AddCommand<DevicesCommand>("devices").WithDescription("List the compute devices present and the backend name that selects each.");
    config.AddCommand<FilterCommand>("filter").WithDescription("The course's feature-extraction demo: convolve a greyscale image with a kernel, ReLU, max-pool; writes each stage as a PNG.");
    config.AddCommand<ConformanceCommand>("conformance").WithDescription("Run ONNX backend-test cases (model.onnx + test_data_set_0) through the ONNX importer; table of case, ops, status, max abs error.");
});
return app.Run(args);
