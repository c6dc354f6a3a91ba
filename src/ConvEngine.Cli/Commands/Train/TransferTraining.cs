using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ConvEngine.Cli.Commands;
using ConvEngine.Data;
using ConvEngine.Data.Images;
using ConvEngine.Import.Transfer;
using ConvEngine.Kernels;
using ConvEngine.Training;
using Spectre.Console;

namespace ConvEngine.Cli.Commands;

/// <summary>The transfer-learning settings of `convengine train --base`, from the options and an optional JSON config.</summary>
internal sealed record TransferOptions
{
    public string Base { get; init; } = "resnet18";
    public string? BaseWeights { get; init; }
    public bool FreezeBase { get; init; } = true;
    public string Head { get; init; } = "dense:256,dropout:0.5";
    public int UnfreezeTop { get; init; }
    public int FineTuneEpochs { get; init; } = 2;
    public double FineTuneLearningRate { get; init; } = 1e-5;
    public string? FeatureCache { get; init; }

    /// <summary>
    /// The options of <paramref name="settings"/>, on top of its --transfer-config file when one is given. The file is a JSON
    /// object with keys base, base_weights, freeze_base, head, unfreeze_top, fine_tune_epochs, fine_tune_learning_rate,
    /// feature_cache; an option given on the command line wins.
    /// </summary>
    public static TransferOptions From(TrainCommand.Settings settings)
    {
        var options = settings.TransferConfig is { } path ? FromJsonFile(path) : new TransferOptions();
        return options with
        {
            Base = settings.Base ?? options.Base,
            BaseWeights = settings.BaseWeights ?? options.BaseWeights,
            FreezeBase = settings.FreezeBase ?? options.FreezeBase,
            Head = settings.Head ?? options.Head,
            UnfreezeTop = settings.UnfreezeTop ?? options.UnfreezeTop,
            FineTuneEpochs = settings.FineTuneEpochs ?? options.FineTuneEpochs,
            FineTuneLearningRate = settings.FineTuneLearningRate ?? options.FineTuneLearningRate,
            FeatureCache = settings.FeatureCache ?? options.FeatureCache,
        };
    }

    private static TransferOptions FromJsonFile(string path)
    {
        var json = ConvEngine.Serialization.JsonFile.ReadObject(path, "--transfer-config");
        var known = new[] { "base", "base_weights", "freeze_base", "head", "unfreeze_top", "fine_tune_epochs", "fine_tune_learning_rate", "feature_cache" };
        if (json.Select(kv => kv.Key).FirstOrDefault(k => !known.Contains(k)) is { } unknown)
            throw new FormatException($"--transfer-config '{path}': unknown key '{unknown}' (known: {string.Join(", ", known)}).");
        T Get<T>(string key, T fallback)
        {
            if (json[key] is null) return fallback;
            try
            {
                return json[key]!.GetValue<T>();
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new FormatException($"--transfer-config '{path}': '{key}' must be a {typeof(T).Name.ToLowerInvariant()}, got {json[key]!.ToJsonString()}.", e);
            }
        }
        var defaults = new TransferOptions();
        return new TransferOptions
        {
            Base = Get("base", defaults.Base),
            BaseWeights = Get<string?>("base_weights", null),
            FreezeBase = Get("freeze_base", defaults.FreezeBase),
            Head = Get("head", defaults.Head),
            UnfreezeTop = Get("unfreeze_top", defaults.UnfreezeTop),
            FineTuneEpochs = Get("fine_tune_epochs", defaults.FineTuneEpochs),
            FineTuneLearningRate = Get("fine_tune_learning_rate", defaults.FineTuneLearningRate),
            FeatureCache = Get<string?>("feature_cache", null),
        };
    }
}

/// <summary>
/// `convengine train --base resnet18|vgg16|inceptionv1`: Keras's transfer-learning recipe. The base (with its own
/// preprocessing) is frozen and a new head (--head, default dense:256,dropout:0.5, then the output layer) is trained.
/// With the base frozen and nothing random before it, the base runs once per image: its features are computed once
/// (and with --feature-cache DIR kept on disk) and the head trains on them. --unfreeze-top N then unfreezes the top N
/// blocks of the base and fine-tunes the whole model on the images at --fine-tune-learning-rate. Writes what
/// `convengine train` writes: model/ (the whole classifier, base included), dataset.json, history.csv, loss.png,
/// accuracy.png.
/// </summary>
internal static class TransferTraining
{
    /// <summary>Checks the options that --base combines with; null when they fit.</summary>
    public static string? Validate(TrainCommand.Settings settings)
    {
        if (settings.Base is null && settings.TransferConfig is null)
        {
            bool transferOnly = settings.BaseWeights is not null || settings.FreezeBase is not null || settings.Head is not null
                || settings.UnfreezeTop is not null || settings.FineTuneEpochs is not null || settings.FineTuneLearningRate is not null || settings.FeatureCache is not null;
            return transferOnly ? "--base-weights, --freeze-base, --train-base, --head, --unfreeze-top, --fine-tune-* and --feature-cache go with --base (or --transfer-config)." : null;
        }
        if (settings.ModelPath is not null) return "--base builds the model (base + head); leave out --model.";
        if (settings.FreezeBaseFlag && settings.TrainBaseFlag) return "--freeze-base and --train-base contradict each other; give one.";
        if (settings.Resume) return "--resume is not available with --base; run the transfer training again (its features can be cached with --feature-cache).";
        if (settings.FashionMnist?.IsSet == true) return "--base trains on an image folder (--data, default the bundled sample); --fashion-mnist is not supported with it.";
        if (settings.UnfreezeTop is < 0) return $"--unfreeze-top must be at least 0; got {settings.UnfreezeTop}.";
        if (settings.FineTuneEpochs is < 1) return $"--fine-tune-epochs must be at least 1; got {settings.FineTuneEpochs}.";
        if (settings.FineTuneLearningRate is { } rate && !(rate > 0)) return $"--fine-tune-learning-rate must be positive; got {rate}.";
        if (settings.Optimizer.Trim().ToLowerInvariant() != "adam") return "--base trains with Adam; leave out --optimizer.";
        return null;
    }

    public static int Run(TrainCommand.Settings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var writer = console.Profile.Out.Writer;
        var options = TransferOptions.From(settings);
        var head = HeadSpec.Parse(options.Head);
        ConvEngine.Serialization.AtomicDirectory.CheckTarget(settings.Out);
        var output = new TrainingOutput(settings.Out);
        var dataset = TrainingDataset.FromDirectory(settings.Data ?? SampleData.FindDefault(), settings.ValidationSplit);
        ulong seed = (ulong)settings.Seed;
        var imageSize = settings.ImageSize is { } text ? TrainCommand.ParseImageSize(text) : null;
        if (TrainCommand.ParseColorMode(settings.ColorMode) == ColorMode.Grayscale)
            throw new ArgumentException("--color-mode grayscale does not fit a pretrained base, which takes RGB images; leave it out.");

        // --augment goes between the image and the base; --augment-in pipeline runs it on the training batches instead;
        // read before the base is built, so a bad layer is reported at once.
        var augmentation = settings.Augment is { } augmentText ? AugmentationSpec.Parse(augmentText) : null;
        using var backend = Backends.Create(settings.Backend);
        var clock = Stopwatch.StartNew();
        var @base = TransferBases.Create(options.Base, options.BaseWeights, imageSize, backend, seed);
        bool inPipeline = augmentation is not null && settings.AugmentIn.Trim().ToLowerInvariant() == "pipeline";
        using var transfer = TransferModel.Create(@base, head, dataset.ClassNames.Count, seed, inPipeline ? null : augmentation?.CreateLayers());
        writer.WriteLine($"Base {@base.Name}: {@base.WeightsDescription}. Input {@base.ImageSize.Height}x{@base.ImageSize.Width}x3 (RGB 0-255, preprocessing inside the model), features {Layers.SymbolicTensor.FormatShape(@base.FeatureShape)}; built in {clock.Elapsed.TotalSeconds:F1} s.");
        if (!@base.Pretrained)
            writer.WriteLine($"WARNING: the {@base.Name} base has NO pretrained weights here (random initialisation); what the head learns shows the mechanics of transfer learning, not ImageNet features.");
        if (dataset.NativeSize != @base.ImageSize || dataset.NativeColorMode != ColorMode.Rgb)
            writer.WriteLine($"The images are {dataset.NativeSize.Height}x{dataset.NativeSize.Width} {(dataset.NativeColorMode == ColorMode.Rgb ? "RGB" : "greyscale")}; " +
                             $"they are resized to {@base.ImageSize.Height}x{@base.ImageSize.Width} (bilinear)" +
                             (dataset.NativeColorMode == ColorMode.Rgb ? "" : " and replicated to 3 channels (R = G = B)") + " for the base.");

        var batches = dataset.Open(transfer.LabelMode, @base.ImageSize, ColorMode.Rgb, settings.BatchSize, settings.Seed);
        var trainImages = batches.Train as ImageDatasetFromDirectory ?? throw new InvalidOperationException("Transfer training needs an image folder.");
        var validImages = batches.Validation as ImageDatasetFromDirectory;
        writer.WriteLine(batches.Summary);
        // Written with the model at the end, never before: a run that fails leaves an earlier output's labels alone.
        var datasetInfo = new DatasetInfo(dataset.ClassNames, @base.ImageSize.Height, @base.ImageSize.Width, ColorMode.Rgb, dataset.Name);

        double learningRate = settings.LearningRate ?? 1e-3;
        var progress = new ProgressBarCallback(writer, live: console.Profile.Out.IsTerminal && console.Profile.Capabilities.Ansi, width: console.Profile.Width);
        History history;
        using var stage = inPipeline ? new LayerAugmentation(augmentation!.CreateLayers(), [.. @base.Model.InputShape], seed) : null;
        if (stage is not null && !stage.OutputSampleShape([.. @base.Model.InputShape]).SequenceEqual(@base.Model.InputShape))
            throw new ArgumentException($"--augment-in pipeline: {augmentation!.Description} changes the {@base.ImageSize.Height}x{@base.ImageSize.Width} images the base takes; leave out the layers that change the size.");
        bool augmented = transfer.HasAugmentation || stage is not null;
        if (augmented)
        {
            // Random layers before a frozen base change its input every step, so its output cannot be computed once.
            writer.WriteLine($"Augmentation {(stage is null ? "in the model, before the base" : "in the data pipeline")} ({augmentation!.Description}) changes the base's input every batch: " +
                             "the feature cache is not used" + (options.FeatureCache is null ? "" : $" (--feature-cache {options.FeatureCache} is ignored)") +
                             $" and the {(options.FreezeBase ? "frozen " : "")}base runs on every batch of every epoch.");
        }
        if (options.FreezeBase && augmented)
        {
            writer.WriteLine($"The base is frozen ({@base.Model.ParameterCount:N0} weights): only the head's weights train.");
            transfer.CompileFull(learningRate);
            history = FitImages(transfer, stage is null ? trainImages : new TransformedBatches(trainImages, stage), validImages, settings, progress, 0, settings.Epochs, cancellationToken);
        }
        else if (options.FreezeBase)
        {
            writer.WriteLine($"The base is frozen ({@base.Model.ParameterCount:N0} weights) and nothing random comes before it: its features are computed once per image" +
                             (options.FeatureCache is null ? " (in memory)" : $" (cached in {Path.GetFullPath(options.FeatureCache)})") + ", then the head trains on them.");
            clock.Restart();
            var trainFeatures = FeatureCache.Extract(@base, trainImages, options.FeatureCache, settings.BatchSize, writer.WriteLine, cancellationToken);
            var validFeatures = validImages is null ? null : FeatureCache.Extract(@base, validImages, options.FeatureCache, settings.BatchSize, writer.WriteLine, cancellationToken);
            double seconds = clock.Elapsed.TotalSeconds;
            int images = trainFeatures.Count + (validFeatures?.Count ?? 0);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Features of {images} images in {seconds:F1} s ({images / Math.Max(seconds, 1e-9):F1} images/s, read back from the cache when it held them)."));

            transfer.CompileHead(learningRate);
            writer.WriteLine(transfer.Head.Summary());
            IBatchSource train = trainFeatures.ToBatchSource(transfer.LabelMode, settings.BatchSize, shuffle: true, settings.Seed);
            IBatchSource? validation = validFeatures?.ToBatchSource(transfer.LabelMode, settings.BatchSize, shuffle: false, settings.Seed);
            if (settings.StepsPerEpoch is { } steps) train = new FirstBatches(train, steps, settings.BatchSize);
            if (validation is not null && settings.ValidationSteps is { } vSteps) validation = new FirstBatches(validation, vSteps, settings.BatchSize);
            history = transfer.Head.Fit(train, validation, settings.Epochs, [progress], output.CheckpointDirectory,
                keepCheckpoints: settings.KeepCheckpoints, cancellationToken: cancellationToken);
        }
        else
        {
            writer.WriteLine($"The base is NOT frozen: all {@base.Model.ParameterCount:N0} of its weights train with the head, on the images, every epoch (--train-base; slow: the default --freeze-base trains the head on cached features).");
            @base.Model.Trainable = true;
            transfer.CompileFull(learningRate);
            history = FitImages(transfer, stage is null ? trainImages : new TransformedBatches(trainImages, stage), validImages, settings, progress, 0, settings.Epochs, cancellationToken);
        }

        if (options.UnfreezeTop > 0)
        {
            var unfrozen = transfer.UnfreezeTop(options.UnfreezeTop);
            transfer.CompileFull(options.FineTuneLearningRate);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Fine-tuning: unfroze the top {options.UnfreezeTop} block(s) of {@base.Name} ({string.Join(", ", unfrozen.Select(b => b.Name))}; " +
                $"{transfer.Full.TrainableParameterCount:N0} trainable weights with the head), Adam at {options.FineTuneLearningRate:G3}, {options.FineTuneEpochs} epoch(s) on the images."));
            int first = history.Count;
            var fineTune = FitImages(transfer, stage is null ? trainImages : new TransformedBatches(trainImages, stage), validImages, settings, progress, first, first + options.FineTuneEpochs, cancellationToken);
            history = Concatenate(history, fineTune);
        }

        if (!transfer.Full.IsCompiled) transfer.CompileFull(learningRate);
        transfer.Full.Save(output.ModelDirectory, directory => datasetInfo.Write(Path.Combine(directory, TrainingOutput.DatasetFileName)));
        datasetInfo.Write(output.DatasetFile);
        HistoryFiles.WriteCsv(history, output.HistoryCsv);
        HistoryFiles.WritePlot(history, "loss", $"Loss ({@base.Name} base + head)", output.LossPlot);
        string? accuracyKey = HistoryFiles.AccuracyKey(history);
        if (accuracyKey is not null) HistoryFiles.WritePlot(history, accuracyKey, $"Accuracy ({@base.Name} base + head)", output.AccuracyPlot);

        writer.WriteLine($"Wrote {output.ModelDirectory} (the whole classifier: preprocessing, {@base.Name} base and head), {TrainingOutput.DatasetFileName}, history.csv, loss.png" +
                         (accuracyKey is null ? "" : ", accuracy.png") + $" in {output.Directory}.");
        int last = history.Count - 1;
        if (accuracyKey is not null && history.Contains("val_" + accuracyKey))
            writer.WriteLine($"Final validation accuracy: {ProgressBarCallback.FormatValue(history["val_" + accuracyKey][last])} " +
                             $"(val_{accuracyKey} after epoch {history.Epochs[last] + 1}; val_loss {ProgressBarCallback.FormatValue(history["val_loss"][last])}).");
        writer.Flush();
        return 0;
    }

    /// <summary>Trains the whole model on the images from epoch <paramref name="from"/> up to <paramref name="to"/> (no checkpoints: --resume is not offered).</summary>
    private static History FitImages(TransferModel transfer, IBatchSource train, ImageDatasetFromDirectory? validation,
        TrainCommand.Settings settings, ProgressBarCallback progress, int from, int to, CancellationToken cancellationToken)
    {
        IBatchSource trainSource = settings.StepsPerEpoch is { } steps ? new FirstBatches(train, steps, settings.BatchSize) : train;
        IBatchSource? validSource = validation is not null && settings.ValidationSteps is { } vSteps ? new FirstBatches(validation, vSteps, settings.BatchSize) : validation;
        return transfer.Full.Fit(trainSource, validSource, to, [progress], initialEpoch: from, cancellationToken: cancellationToken);
    }

    /// <summary>One history of the head's epochs followed by the fine-tuning ones (Keras users concatenate history.history the same way).</summary>
    public static History Concatenate(History first, History second)
    {
        var a = first.ToJson();
        var b = second.ToJson();
        var epochs = new JsonArray([.. a["epoch"]!.AsArray().Select(n => n?.DeepClone()), .. b["epoch"]!.AsArray().Select(n => n?.DeepClone())]);
        var values = new JsonObject();
        foreach (var (key, series) in a["history"]!.AsObject())
        {
            var later = b["history"]![key] as JsonArray
                ?? throw new InvalidOperationException($"The fine-tuning history has no '{key}'; the head's has {string.Join(", ", first.Keys)}.");
            values[key] = new JsonArray([.. series!.AsArray().Select(n => n?.DeepClone()), .. later.Select(n => n?.DeepClone())]);
        }
        return History.FromJson(new JsonObject { ["epoch"] = epochs, ["history"] = values });
    }
}
