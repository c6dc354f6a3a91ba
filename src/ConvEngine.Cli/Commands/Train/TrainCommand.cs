using System.ComponentModel;
using System.Globalization;
using ConvEngine.Cli.Commands;
using ConvEngine.Data;
using ConvEngine.Data.Idx;
using ConvEngine.Data.Images;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Optimizers;
using ConvEngine.Serialization;
using ConvEngine.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine train`: Keras's compile + fit on an image folder or Fashion-MNIST, with the course's models
/// built in, a Keras-like progress bar, a checkpoint per epoch (resumable), and the history as CSV and plots.
/// </summary>
internal sealed class TrainCommand : Command<TrainCommand.Settings>
{
    public sealed class Settings : BatchSettings
    {
        // train builds its model, so --model may be left out.
        protected override bool RequiresModel => false;

        [CommandOption("-d|--data <DIR>")]
        [Description("Image folder with train/ and valid/ sub-folders of class folders (or class folders and --validation-split). Default: the bundled fashion-mnist-shoes sample.")]
        public string? Data { get; init; }

        [CommandOption("--validation-split <FRACTION>")]
        [Description("Hold out this fraction of the images for validation, as Keras's validation_split (e.g. 0.2).")]
        public double? ValidationSplit { get; init; }

        [CommandOption("--fashion-mnist [DIR]")]
        [Description("Train on the full Fashion-MNIST (60,000 images; its 10,000 test images validate). DIR defaults to /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist).")]
        public FlagValue<string>? FashionMnist { get; init; }

        [CommandOption("-e|--epochs <N>")]
        [Description("Train up to this epoch count (with --resume: the total, counting the epochs already done, as Keras's epochs with initial_epoch).")]
        [DefaultValue(10)]
        public int Epochs { get; init; } = 10;

        [CommandOption("--image-size <HxW>")]
        [Description("Resize images to this size, e.g. 128x128 or 28. Default: the size of the first training image (or the JSON model's input).")]
        public string? ImageSize { get; init; }

        [CommandOption("--color-mode <MODE>")]
        [Description("grayscale, rgb or auto: greyscale when the first training image is grey (or as the JSON model's input channels).")]
        [DefaultValue("auto")]
        public string ColorMode { get; init; } = "auto";

        [CommandOption("--optimizer <NAME>")]
        [Description("adam or sgd.")]
        [DefaultValue("adam")]
        public string Optimizer { get; init; } = "adam";

        [CommandOption("--learning-rate <LR>")]
        [Description("Default: Keras's, 0.001 for adam and 0.01 for sgd. With --resume it replaces the checkpoint's.")]
        public double? LearningRate { get; init; }

        [CommandOption("--epsilon <EPS>")]
        [Description("Adam's epsilon. Default: 0.01 for custom-convnet and custom-convnet-improved (as the course compiles them), Keras's 1e-7 otherwise.")]
        public double? Epsilon { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seeds the weights, dropout and the data's shuffles.")]
        [DefaultValue(1)]
        public int Seed { get; init; } = 1;

        [CommandOption("-o|--out <DIR>")]
        [Description("Output folder: model/ (config.json + model.safetensors), dataset.json, history.csv, loss.png, accuracy.png, checkpoints/.")]
        [DefaultValue("out/train")]
        public string Out { get; init; } = "out/train";

        [CommandOption("--resume")]
        [Description("Continue from the last checkpoint in --out's checkpoints/ (its model, optimizer state and history).")]
        public bool Resume { get; init; }

        [CommandOption("--steps-per-epoch <N>")]
        [Description("Train on only the first N batches of each epoch (Keras's steps_per_epoch).")]
        public int? StepsPerEpoch { get; init; }

        [CommandOption("--validation-steps <N>")]
        [Description("Validate on only the first N batches (Keras's validation_steps).")]
        public int? ValidationSteps { get; init; }

        [CommandOption("--keep-checkpoints <N>")]
        [Description("How many of the latest epoch checkpoints to keep.")]
        [DefaultValue(2)]
        public int KeepCheckpoints { get; init; } = 2;

        // Transfer learning (Training/TransferTraining.cs): a pretrained base, frozen, and a new head.
        [CommandOption("--base <NAME>")]
        [Description("Transfer learning: reuse a convolutional base, resnet18 (ImageNet, from NuGet), vgg16 or inceptionv1 (random unless --base-weights), with a new head. Images are resized to the base's input (224x224) and made RGB.")]
        public string? Base { get; init; }

        [CommandOption("--base-weights <PATH>")]
        [Description("The base's weights: for resnet18 its NuGet package folder or ResNet18.onnx (default: the NuGet cache); for vgg16/inceptionv1 a Keras .h5 or .safetensors file.")]
        public string? BaseWeights { get; init; }

        [CommandOption("--freeze-base")]
        [Description("Keep the base's weights fixed and train only the head, on features computed once (the default with --base).")]
        public bool FreezeBaseFlag { get; init; }

        [CommandOption("--train-base")]
        [Description("Train the whole base with the head, on the images every epoch (instead of --freeze-base).")]
        public bool TrainBaseFlag { get; init; }

        /// <summary>--freeze-base (true) or --train-base (false) as given; null when neither is.</summary>
        public bool? FreezeBase => FreezeBaseFlag ? true : TrainBaseFlag ? false : null;

        [CommandOption("--head <SPEC>")]
        [Description("The new head, e.g. dense:256,dropout:0.5 (items flatten, gap, dense:N[[:activation]], dropout:R); the output layer (sigmoid unit or softmax) is added for the classes.")]
        public string? Head { get; init; }

        [CommandOption("--unfreeze-top <N>")]
        [Description("After training the head, unfreeze the top N blocks of the base (VGG16 block5…, ResNet residual blocks) and fine-tune on the images.")]
        public int? UnfreezeTop { get; init; }

        [CommandOption("--fine-tune-epochs <N>")]
        [Description("Epochs of fine-tuning after --unfreeze-top (default 2).")]
        public int? FineTuneEpochs { get; init; }

        [CommandOption("--fine-tune-learning-rate <LR>")]
        [Description("Adam's learning rate while fine-tuning (default 1e-5, well below the head's).")]
        public double? FineTuneLearningRate { get; init; }

        [CommandOption("--feature-cache <DIR>")]
        [Description("Also keep the frozen base's features on disk in DIR (safetensors keyed by the file list and the base), for later runs.")]
        public string? FeatureCache { get; init; }

        // Augmentation (Common/AugmentationSpec.cs, Train/ModelAugmentation.cs): Keras preprocessing layers, active in training only.
        [CommandOption("--augment <LAYERS>")]
        [Description("Augmentation layers in the course's Python spelling, e.g. \"RandomFlip('horizontal'), RandomContrast(0.5)\", or a JSON file of Keras layer configs. They go into the model after its input (before --base's base), active only in training.")]
        public string? Augment { get; init; }

        [CommandOption("--augment-in <WHERE>")]
        [Description("model (default: the layers are part of the model and saved with it) or pipeline (they run on the training batches in the data pipeline, as ImageDataGenerator does; the saved model has none).")]
        [DefaultValue("model")]
        public string AugmentIn { get; init; } = "model";

        [CommandOption("--transfer-config <FILE>")]
        [Description("The transfer options as JSON: base, base_weights, freeze_base, head, unfreeze_top, fine_tune_epochs, fine_tune_learning_rate, feature_cache.")]
        public string? TransferConfig { get; init; }

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (TransferTraining.Validate(this) is { } transferError) return ValidationResult.Error(transferError);
            if (Epochs < 1) return ValidationResult.Error($"--epochs must be at least 1; got {Epochs}.");
            if (ValidationSplit is { } split && !(split > 0 && split < 1))
                return ValidationResult.Error($"--validation-split must be between 0 and 1 (exclusive); got {split}.");
            if (FashionMnist?.IsSet == true && (Data is not null || ValidationSplit is not null))
                return ValidationResult.Error("--fashion-mnist brings its own training and test split; leave out --data and --validation-split.");
            if (StepsPerEpoch is < 1) return ValidationResult.Error($"--steps-per-epoch must be at least 1; got {StepsPerEpoch}.");
            if (ValidationSteps is < 1) return ValidationResult.Error($"--validation-steps must be at least 1; got {ValidationSteps}.");
            if (KeepCheckpoints < 1) return ValidationResult.Error($"--keep-checkpoints must be at least 1; got {KeepCheckpoints}.");
            if (LearningRate is { } lr && !(lr > 0)) return ValidationResult.Error($"--learning-rate must be positive; got {lr}.");
            if (Epsilon is { } eps && !(eps >= 0)) return ValidationResult.Error($"--epsilon must be non-negative; got {eps}.");
            if (Optimizer.Trim().ToLowerInvariant() is not ("adam" or "sgd"))
                return ValidationResult.Error($"--optimizer must be adam or sgd; got '{Optimizer}'.");
            if (Epsilon is not null && Optimizer.Trim().ToLowerInvariant() != "adam")
                return ValidationResult.Error("--epsilon is Adam's; leave it out with --optimizer sgd.");
            if (ColorMode.Trim().ToLowerInvariant() is not ("auto" or "grayscale" or "greyscale" or "rgb"))
                return ValidationResult.Error($"--color-mode must be auto, grayscale or rgb; got '{ColorMode}'.");
            if (ImageSize is not null && ParseImageSize(ImageSize) is null)
                return ValidationResult.Error($"--image-size must be HxW or one number, e.g. 128x128 or 28; got '{ImageSize}'.");
            if (Resume && ModelPath is not null)
                return ValidationResult.Error("--resume continues the model saved in the checkpoint; leave out --model.");
            if (AugmentIn.Trim().ToLowerInvariant() is not ("model" or "pipeline"))
                return ValidationResult.Error($"--augment-in must be model or pipeline; got '{AugmentIn}'.");
            if (Resume && Augment is not null)
                return ValidationResult.Error("--resume continues the checkpoint's model, augmentation included; leave out --augment.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var interrupt = new TrainingInterrupt(cancellationToken);
        try
        {
            if (settings.Base is not null || settings.TransferConfig is not null)
                return TransferTraining.Run(settings, AnsiConsole.Console, interrupt.Token);
            return Train(settings, AnsiConsole.Console, interrupt.Token);
        }
        catch (TrainingInterruptedException e) when (e.Checkpoint is not null)
        {
            bool transfer = settings.Base is not null || settings.TransferConfig is not null;
            Console.Error.WriteLine($"convengine train: stopped at epoch {e.Epoch}, step {e.Step} of {e.Steps}; checkpointed in {e.Checkpoint}. " +
                                    (transfer ? "(--resume is not offered with --base: run it again.)" : $"Continue with: {ResumeCommand(context)}"));
            return CommandLine.InterruptedExitCode;
        }
        catch (OperationCanceledException)
        {
            var latest = Checkpoint.FindLatest(new TrainingOutput(settings.Out).CheckpointDirectory);
            Console.Error.WriteLine(latest is null
                ? "convengine train: interrupted before any training step; nothing was saved."
                : $"convengine train: interrupted; the last checkpoint is {latest}. Continue with: {ResumeCommand(context)}");
            return CommandLine.InterruptedExitCode;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e))
        {
            return CommandErrors.Report("train", e);
        }
    }

    /// <summary>The command line to continue: this one with --resume (without --model and --augment, which the checkpoint holds).</summary>
    private static string ResumeCommand(CommandContext context)
    {
        var args = new List<string>();
        var given = context.Arguments;
        for (int i = 0; i < given.Count; i++)
        {
            if (given[i] is "--resume") continue;
            if (given[i] is "-m" or "--model" or "--augment" && i + 1 < given.Count) { i++; continue; }
            args.Add(given[i].Any(char.IsWhiteSpace) ? $"\"{given[i]}\"" : given[i]);
        }
        if (args.FirstOrDefault() != "train") args.Insert(0, "train");
        return "convengine " + string.Join(' ', args) + " --resume";
    }

    private static int Train(Settings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        // Plain text written as is: Spectre's renderer would wrap long lines at the console width.
        var writer = console.Profile.Out.Writer;
        AtomicDirectory.CheckTarget(settings.Out);
        // A killed earlier run may have died inside an atomic write (a checkpoint, history.csv, a plot): its temps go,
        // whether this run resumes it or starts over (only a writer whose process is gone is swept).
        ConvEngine.Serialization.AtomicFile.RemoveLeftovers(settings.Out);
        var output = new TrainingOutput(settings.Out);
        var dataset = settings.FashionMnist?.IsSet == true
            ? TrainingDataset.FromFashionMnist(settings.FashionMnist.Value ?? FashionMnist.DefaultDirectory)
            : TrainingDataset.FromDirectory(settings.Data ?? SampleData.FindDefault(), settings.ValidationSplit);

        // Parsed (and each layer built once) before anything loads, so a bad layer, argument or value stops here.
        var augmentation = settings.Augment is { } layers ? AugmentationSpec.Parse(layers) : null;
        bool inPipeline = augmentation is not null && settings.AugmentIn.Trim().ToLowerInvariant() == "pipeline";

        using var backend = Backends.Create(settings.Backend);
        using var model = settings.Resume ? RestoreCheckpoint(settings, output, dataset, backend)
            : BuildModel(settings, dataset, backend, inPipeline ? null : augmentation);
        var head = ModelHead.Of(model);
        head.RequireFits(dataset.ClassNames, dataset.Name);
        var (imageSize, colorMode) = InputImage(model);
        var batches = dataset.Open(head.LabelMode, imageSize, colorMode, settings.BatchSize, settings.Seed);
        using var stage = inPipeline ? PipelineStage(augmentation!, model, backend, (ulong)settings.Seed) : null;
        IBatchSource trainSource = stage is null ? batches.Train : new TransformedBatches(batches.Train, stage);
        IBatchSource train = settings.StepsPerEpoch is { } steps ? new FirstBatches(trainSource, steps, settings.BatchSize) : trainSource;
        IBatchSource? validation = batches.Validation is { } v && settings.ValidationSteps is { } vSteps
            ? new FirstBatches(v, vSteps, settings.BatchSize) : batches.Validation;

        writer.WriteLine(batches.Summary);
        if (augmentation is not null)
            writer.WriteLine(inPipeline
                ? $"Augmentation in the data pipeline, on the training batches only (the saved model has none): {augmentation.Description}."
                : $"Augmentation in the model after its input, active in training only (identity at inference): {augmentation.Description}.");
        writer.WriteLine(model.Summary());
        writer.WriteLine($"Loss {model.Loss!.Name}, metric {string.Join(", ", model.Metrics.Select(m => m.Name))}, " +
                          $"optimizer {model.Optimizer!.ToJson()["config"]!.ToJsonString()}, backend {backend.Name} ({backend.Device.Name}), " +
                          $"{train.BatchCount} steps of {settings.BatchSize} per epoch.");
        // Nothing goes into the output folder until an epoch has run (every image decoded once): a run that fails
        // before leaves an earlier output, and the class names beside its model, as they were.
        var datasetInfo = new DatasetInfo(dataset.ClassNames, imageSize.Height, imageSize.Width, colorMode, dataset.Name);

        var progress = new ProgressBarCallback(writer, live: console.Profile.Out.IsTerminal && console.Profile.Capabilities.Ansi,
            width: console.Profile.Width);
        // The history files follow each epoch, so an interrupted or long run can be looked at as it goes.
        var historyFiles = new LambdaCallback
        {
            EpochEnd = (_, _) =>
            {
                datasetInfo.Write(output.DatasetFile);
                WriteHistoryFiles(model.History!, output);
            },
        };
        bool trains = model.EpochsCompleted < settings.Epochs;
        if (trains)
            model.Fit(train, validation, settings.Epochs, [progress, historyFiles], output.CheckpointDirectory, initialEpoch: model.EpochsCompleted,
                keepCheckpoints: settings.KeepCheckpoints, cancellationToken: cancellationToken);
        else
            writer.WriteLine($"The checkpoint has already trained {model.EpochsCompleted} epochs (--epochs {settings.Epochs}); nothing to train.");

        var history = model.History ?? throw new InvalidOperationException("Fit left no history.");
        model.Save(output.ModelDirectory, directory => datasetInfo.Write(Path.Combine(directory, TrainingOutput.DatasetFileName)));
        datasetInfo.Write(output.DatasetFile);
        string? accuracyKey = trains ? HistoryFiles.AccuracyKey(history) : WriteHistoryFiles(history, output);
        ReportResults(writer, output, history, accuracyKey, progress.Timings);
        writer.Flush();
        return 0;
    }

    /// <summary>history.csv, loss.png and accuracy.png (when an accuracy is logged); returns the accuracy key.</summary>
    private static string? WriteHistoryFiles(History history, TrainingOutput output)
    {
        HistoryFiles.WriteCsv(history, output.HistoryCsv);
        HistoryFiles.WritePlot(history, "loss", "Loss", output.LossPlot);
        string? accuracyKey = HistoryFiles.AccuracyKey(history);
        if (accuracyKey is not null) HistoryFiles.WritePlot(history, accuracyKey, "Accuracy", output.AccuracyPlot);
        return accuracyKey;
    }

    /// <summary>--augment-in pipeline: the layers on the training batches, on the prefetch task; they must keep the image size the model takes.</summary>
    private static LayerAugmentation PipelineStage(AugmentationSpec augmentation, Model model, IBackend backend, ulong seed)
    {
        var shape = ModelAugmentation.OutputShape(augmentation, model.InputShape, backend);
        var resizing = augmentation.ClassNames.Where(c => c is "RandomWidth" or "RandomHeight").ToList();
        if (!shape.SequenceEqual(model.InputShape) || resizing.Count > 0)
            throw new ArgumentException($"--augment-in pipeline: {augmentation.Description} changes the image size " +
                $"({(resizing.Count > 0 ? string.Join(" and ", resizing) + " in training" : $"{SymbolicTensor.FormatShape(model.InputShape)} to {SymbolicTensor.FormatShape(shape)}")}), " +
                "but every batch must fit the model's input; use --augment-in model.");
        return new LayerAugmentation(augmentation.CreateLayers(), model.InputShape, seed);
    }

    private static Model BuildModel(Settings settings, TrainingDataset dataset, IBackend backend, AugmentationSpec? augmentation)
    {
        string name = settings.ModelPath ?? BuiltInModels.CustomConvnet;
        ulong seed = (ulong)settings.Seed;
        Model model;
        if (BuiltInModels.IsBuiltIn(name))
        {
            var size = settings.ImageSize is { } text ? ParseImageSize(text)!.Value : dataset.NativeSize;
            var colour = ParseColorMode(settings.ColorMode) ?? dataset.NativeColorMode;
            int[] imageShape = [size.Height, size.Width, colour == ColorMode.Rgb ? 3 : 1];
            // A built-in model takes what the augmentation gives (RandomCrop's crop, Resizing's size).
            var modelShape = augmentation is null ? imageShape : ModelAugmentation.OutputShape(augmentation, imageShape, backend);
            model = BuiltInModels.Create(name, modelShape, dataset.ClassNames.Count, backend, seed);
            if (augmentation is not null)
            {
                using var plain = model;
                model = ModelAugmentation.Insert(plain, augmentation, imageShape, backend, seed, $"model '{name}'");
            }
        }
        else
        {
            if (!File.Exists(name))
                throw new FileNotFoundException($"--model '{name}' is neither a built-in model ({string.Join(", ", BuiltInModels.Names)}) nor a JSON config file.", name);
            model = Model.FromJsonFile(name, backend, seed);
            RequireOptionsMatchInput(settings, model, $"model config '{name}'");
            if (augmentation is not null)
            {
                using var plain = model;
                model = ModelAugmentation.Insert(plain, augmentation, plain.InputShape, backend, seed, $"model config '{name}'");
            }
        }

        var head = ModelHead.Of(model);
        double? rate = settings.LearningRate;
        Optimizer optimizer = settings.Optimizer.Trim().ToLowerInvariant() == "sgd"
            ? new Sgd(rate ?? 0.01)
            : new Adam(rate ?? 0.001, epsilon: settings.Epsilon ?? BuiltInModels.DefaultAdamEpsilon(BuiltInModels.IsBuiltIn(name) ? name : null));
        model.Compile(optimizer, head.CreateLoss(), [head.CreateAccuracy()]);
        return model;
    }

    /// <summary>The options must agree with a loaded model's input (a JSON config's or a checkpoint's), which fixes the image size and channels.</summary>
    private static void RequireOptionsMatchInput(Settings settings, Model model, string source)
    {
        if (model.InputShape.Length != 3 || model.InputShape[2] is not (1 or 3))
            throw new ArgumentException(
                $"The input of {source} is {SymbolicTensor.FormatShape(model.InputShape)}; images need (None, H, W, 1) or (None, H, W, 3).");
        var (size, colour) = InputImage(model);
        if (settings.ImageSize is { } text && ParseImageSize(text)!.Value != size)
            throw new ArgumentException($"--image-size {text} disagrees with the input {SymbolicTensor.FormatShape(model.InputShape)} of {source}.");
        if (ParseColorMode(settings.ColorMode) is { } wanted && wanted != colour)
            throw new ArgumentException($"--color-mode {settings.ColorMode} disagrees with the input {SymbolicTensor.FormatShape(model.InputShape)} of {source}.");
    }

    private static Model RestoreCheckpoint(Settings settings, TrainingOutput output, TrainingDataset dataset, IBackend backend)
    {
        if (Checkpoint.FindLatest(output.CheckpointDirectory) is null)
            throw new FileNotFoundException($"--resume: there is no checkpoint in {output.CheckpointDirectory} to continue from; train without --resume first.");
        var model = Checkpoint.LoadLatest(output.CheckpointDirectory, backend);
        if (File.Exists(output.DatasetFile))
        {
            var trained = DatasetInfo.Read(output.DatasetFile);
            if (!trained.ClassNames.SequenceEqual(dataset.ClassNames))
                throw new ArgumentException(
                    $"--resume: the checkpoint was trained on classes [{string.Join(", ", trained.ClassNames)}] but {dataset.Name} has [{string.Join(", ", dataset.ClassNames)}].");
        }
        RequireOptionsMatchInput(settings, model, $"the checkpoint in {output.CheckpointDirectory}");
        if (settings.LearningRate is { } rate) model.Optimizer!.LearningRate = rate;
        return model;
    }

    private static ((int Height, int Width) Size, ColorMode Colour) InputImage(Model model) =>
        (ModelImageInput.SizeOf(model), ModelImageInput.ColorModeOf(model));

    private static void ReportResults(TextWriter writer, TrainingOutput output, History history, string? accuracyKey, IReadOnlyList<EpochTiming> timings)
    {
        writer.WriteLine($"Wrote {output.ModelDirectory} (config.json, model.safetensors), {TrainingOutput.DatasetFileName}, history.csv, loss.png" +
                          (accuracyKey is null ? "" : ", accuracy.png") + $" and checkpoints/ in {output.Directory}.");
        if (timings.Count > 0)
        {
            var totals = timings.Select(t => t.TotalSeconds).Order().ToList();
            int middle = totals.Count / 2;
            double median = totals.Count % 2 == 1 ? totals[middle] : (totals[middle - 1] + totals[middle]) / 2;
            double imagesPerSecond = timings.Sum(t => t.Samples) / timings.Sum(t => t.TrainSeconds);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Time per epoch: {median:F1} s (median of {timings.Count}, validation included); training {imagesPerSecond:F0} images/s."));
        }
        int last = history.Count - 1;
        string epoch = (history.Epochs[last] + 1).ToString(CultureInfo.InvariantCulture);
        if (accuracyKey is not null && history.Contains("val_" + accuracyKey))
            writer.WriteLine($"Final validation accuracy: {ProgressBarCallback.FormatValue(history["val_" + accuracyKey][last])} (val_{accuracyKey} after epoch {epoch}; " +
                              $"val_loss {ProgressBarCallback.FormatValue(history["val_loss"][last])}).");
        else if (accuracyKey is not null)
            writer.WriteLine($"No validation data; final training accuracy: {ProgressBarCallback.FormatValue(history[accuracyKey][last])} ({accuracyKey} after epoch {epoch}).");
    }

    /// <summary>"128x128", "128,96" or "28" (square).</summary>
    public static (int Height, int Width)? ParseImageSize(string text)
    {
        var parts = text.Split(['x', 'X', ',', '×'], StringSplitOptions.TrimEntries);
        var numbers = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : (int?)null).ToList();
        if (numbers.Any(n => n is null)) return null;
        return numbers.Count switch
        {
            1 => (numbers[0]!.Value, numbers[0]!.Value),
            2 => (numbers[0]!.Value, numbers[1]!.Value),
            _ => null,
        };
    }

    /// <summary>The colour mode named, or null for auto.</summary>
    internal static ColorMode? ParseColorMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "grayscale" or "greyscale" => Data.Images.ColorMode.Grayscale,
        "rgb" => Data.Images.ColorMode.Rgb,
        _ => null,
    };
}
