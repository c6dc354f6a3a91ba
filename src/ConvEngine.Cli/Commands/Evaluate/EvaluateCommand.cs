using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Data;
using ConvEngine.Data.Idx;
using ConvEngine.Kernels;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>`convengine evaluate`: Keras's model.evaluate of a trained model on an image folder or Fashion-MNIST's test set.</summary>
internal sealed class EvaluateCommand : Command<EvaluateCommand.Settings>
{
    public sealed class Settings : ReportSettings
    {
        [CommandOption("-d|--data <DIR>")]
        [Description("A folder of class folders; one with train/ and valid/ is evaluated on valid/.")]
        public string? Data { get; init; }

        [CommandOption("--fashion-mnist [DIR]")]
        [Description("Evaluate on Fashion-MNIST's 10,000 test images; DIR defaults to /usr/share/datasets/fashion-mnist.")]
        public FlagValue<string>? FashionMnist { get; init; }

        protected override IReadOnlyList<string> Formats => ["text", "json"];

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            bool fashion = FashionMnist?.IsSet == true;
            if (fashion == (Data is not null)) return ValidationResult.Error("Give the data to evaluate on: --data DIR or --fashion-mnist [DIR] (one of them).");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var (modelDirectory, dataset) = TrainingOutput.LocateModel(settings.ModelPath!);
            using var backend = Backends.Create(settings.Backend);
            using var model = Model.Load(modelDirectory, backend);
            var head = ModelHead.Of(model);
            if (!model.IsCompiled) model.Compile(new Adam(), head.CreateLoss(), [head.CreateAccuracy()]);
            var labelMode = head.LabelModeFor(model.Loss);

            var (data, description, classNames) = OpenData(settings, model, dataset, labelMode);
            head.RequireFits(classNames, description);
            var results = model.Evaluate(data, cancellationToken);
            Write(settings.FormatName, model, description, data.SampleCount, results);
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("evaluate", e);
        }
    }

    private static (IBatchSource Data, string Description, IReadOnlyList<string> ClassNames) OpenData(
        Settings settings, Model model, DatasetInfo? trained, LabelMode labelMode)
    {
        if (settings.FashionMnist?.IsSet == true)
        {
            string directory = settings.FashionMnist.Value ?? FashionMnist.DefaultDirectory;
            var test = TrainingDataset.FromFashionMnist(directory);
            var batches = test.Open(labelMode, ModelImageInput.SizeOf(model), ModelImageInput.ColorModeOf(model), settings.BatchSize, seed: 0);
            return (batches.Validation!, $"Fashion-MNIST test set ({directory})", test.ClassNames);
        }

        string folder = settings.Data!;
        if (Directory.Exists(Path.Combine(folder, "train")) && Directory.Exists(Path.Combine(folder, "valid")))
            folder = Path.Combine(folder, "valid");
        var options = new ImageDatasetOptions
        {
            LabelMode = labelMode,
            // Training's class order gives the labels; without dataset.json the sorted folder names do, as Keras.
            ClassNames = trained?.ClassNames,
            ColorMode = ModelImageInput.ColorModeOf(model),
            ImageSize = ModelImageInput.SizeOf(model),
            BatchSize = settings.BatchSize,
            Shuffle = false,
        };
        var images = new ImageDatasetFromDirectory(folder, options);
        return (images, $"{folder} ({images.SampleCount} images)", images.ClassNames);
    }

    private static void Write(string format, Model model, string description, int samples, IReadOnlyDictionary<string, double> results)
    {
        // Written as is, not through Spectre's renderer, which would wrap long lines at the console width.
        var writer = AnsiConsole.Console.Profile.Out.Writer;
        if (format.Trim().ToLowerInvariant() == "json")
        {
            var json = new JsonObject { ["model"] = model.Name, ["data"] = description, ["samples"] = samples };
            foreach (var (key, value) in results) json[key] = value;
            writer.WriteLine(json.ToJsonString(CommandOutput.IndentedJson));
        }
        else
        {
            writer.WriteLine($"Evaluated model '{model.Name}' on {description}:");
            foreach (var (key, value) in results)
                writer.WriteLine($"{key}: {value.ToString("F4", CultureInfo.InvariantCulture)}");
        }
        writer.Flush();
    }
}
