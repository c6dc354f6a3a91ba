using ConvEngine.Cli.Commands;
using Spectre.Console.Cli;

// Layers that live outside the core (ImagePreprocessing of transfer models) join the config registry once, for every command.
ConvEngine.Import.Transfer.TransferLayers.Register();

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("convengine");
    config.AddCommand<DevicesCommand>("devices").WithDescription("List the compute devices present and the backend name that selects each.");
    config.AddCommand<TrainCommand>("train").WithDescription("Train a classifier (the course's custom convnet by default) on an image folder or Fashion-MNIST; writes the model, history.csv, loss/accuracy plots and checkpoints.");
    config.AddCommand<EvaluateCommand>("evaluate").WithDescription("Loss and accuracy of a trained model on an image folder or Fashion-MNIST's test set.");
    config.AddCommand<PredictCommand>("predict").WithDescription("Class and probabilities of each image (files or folders) from a trained model; text, csv or json.");
    config.AddCommand<AugmentCommand>("augment").WithDescription("Show what augmentation layers do: each image (or .npy batch) through the layers in training mode K times, as a PNG grid; optionally the results as .npy.");
    config.AddCommand<CurvesCommand>("curves").WithDescription("Learning curves of several training runs side by side (train output folders or history.csv), with final and best validation accuracy and the train-validation gap.");
    config.AddCommand<FilterCommand>("filter").WithDescription("The course's feature-extraction demo: convolve a greyscale image with a kernel, ReLU, max-pool; writes each stage as a PNG.");
    config.AddCommand<InvarianceCommand>("invariance").WithDescription("The course's translation-invariance demo: max-pool an image (two dots by default) and a shifted copy again and again; a PNG grid and a table of how far apart they stay.");
    config.AddCommand<VisualizeCommand>("visualize").WithDescription("Feature maps of every (or the named) layer of any model for one input, and its learned conv kernels, as PNG grids.");
    config.AddCommand<SummaryCommand>("summary").WithDescription("Keras's model.summary() table for any model the engine loads (engine, Keras JSON/H5, ONNX).");
    config.AddCommand<SeriesCommand>("series").WithDescription("The course's 1-D convolution: a CSV column (the bundled CO2 series by default) convolved with detrend, average, spencer or your kernel; a plot and a CSV.");
    config.AddCommand<SeriesTrainCommand>("series-train").WithDescription("Train a small 1-D convnet on windows of a series to predict whether the next step rises; accuracy against the majority-class baseline.");
    config.AddCommand<ConformanceCommand>("conformance").WithDescription("Run ONNX backend-test cases (model.onnx + test_data_set_0) through the ONNX importer; table of case, ops, status, max abs error.");
    config.AddCommand<ExportCommand>("export").WithDescription("Write a model as ONNX (opset 13, NCHW) or as a Keras 3 .keras file; refuses, naming the layer, what the format cannot hold.");
    WeightsCommands.Configure(config);
});
// Strict parsing and one error format for every command, whatever it throws (Commands/Common/CommandLine.cs).
return CommandLine.Run(app, args);
