using System.ComponentModel;
using System.Globalization;
using ConvEngine.Data.Images;
using ConvEngine.Inspection;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Serialization;
using ConvEngine.Visualization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// `convengine visualize --model M INPUT`: what each chosen layer of a model outputs for one input, as a PNG grid of its
/// channels, and for conv layers a grid of the learned kernels.
/// </summary>
internal sealed class VisualizeCommand : Command<VisualizeCommand.Settings>
{
    public sealed class Settings : ModelSettings
    {
        [CommandArgument(0, "<INPUT>")]
        [Description("An image (resized to the model's input, bilinear) or a NumPy .npy float32 sample in the model's layout.")]
        public string Input { get; init; } = "";

        [CommandOption("-l|--layer <NAME>")]
        [Description("A layer to show (repeat the option for several; \"model/layer\" inside a nested model), or all: every layer but the input. Default: all.")]
        public string[] Layers { get; init; } = [];

        [CommandOption("-w|--weights <FILE>")]
        [Description("Weights for --model (a Keras .h5 or a .safetensors file).")]
        public string? Weights { get; init; }

        [CommandOption("--kernels <VIEW>")]
        [Description("How conv kernels are drawn: auto (RGB tiles for kernels reading 3 channels, per input channel up to 4, else summed), rgb, per-channel, summed or none. Depthwise kernels are always one tile per channel.")]
        [DefaultValue("auto")]
        public string Kernels { get; init; } = "auto";

        [CommandOption("--max-channels <N>")]
        [Description("Draw at most N channels per layer and N filters per kernel grid.")]
        [DefaultValue(256)]
        public int MaxChannels { get; init; } = 256;

        [CommandOption("--max-pixels <N>")]
        [Description("Refuse input images with more pixels than this.")]
        [DefaultValue(ImageIO.DefaultMaxPixels)]
        public long MaxPixels { get; init; } = ImageIO.DefaultMaxPixels;

        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for NN-<layer>.png (feature maps) and NN-<layer>-kernels.png (conv kernels), NN in model order.")]
        public string Out { get; init; } = "";

        public override ValidationResult Validate()
        {
            var result = base.Validate();
            if (!result.Successful) return result;
            if (string.IsNullOrWhiteSpace(Input)) return ValidationResult.Error("Give the INPUT image or .npy file.");
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out DIR is required.");
            if (MaxChannels < 1) return ValidationResult.Error($"--max-channels must be at least 1; got {MaxChannels}.");
            if (MaxPixels < 1) return ValidationResult.Error($"--max-pixels must be at least 1; got {MaxPixels}.");
            if (!TryParseView(Kernels, out _))
                return ValidationResult.Error($"--kernels must be auto, rgb, per-channel, summed or none; got '{Kernels}'.");
            return ValidationResult.Success();
        }
    }

    /// <summary>The --kernels value as a view; null for none (no kernel grids). False for an unknown value.</summary>
    private static bool TryParseView(string text, out KernelView? view)
    {
        (bool known, view) = text.Trim().ToLowerInvariant() switch
        {
            "auto" => (true, KernelView.Auto),
            "rgb" => (true, KernelView.Rgb),
            "per-channel" or "per-input-channel" => (true, KernelView.PerInputChannel),
            "summed" => (true, KernelView.Summed),
            "none" => (true, (KernelView?)null),
            _ => (false, null),
        };
        return known;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            TryParseView(settings.Kernels, out var view);
            using var backend = Backends.Create(settings.Backend);
            using var inspected = InspectableModel.Load(settings.ModelPath!, settings.Weights, backend);
            var model = inspected.Model;
            Console.Error.WriteLine($"convengine visualize: {inspected.Format} model '{model.Name}', input {SymbolicTensor.FormatShape(model.InputShape)}; {inspected.WeightsNote}.");

            var paths = FeatureMaps.LayerPaths(model);
            var chosen = ChooseLayers(model, settings.Layers, paths);
            var sample = inspected.LoadSample(settings.Input, settings.MaxPixels);

            var maps = FeatureMaps.Of(model, sample, 1, chosen.ToArray());
            try
            {
                Directory.CreateDirectory(settings.Out);
                var table = new Table().AddColumns("layer", "class", "output shape", "min", "max", "files");
                foreach (var map in maps)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    string stem = $"{paths.ToList().IndexOf(map.Path):D2}-{map.Path.Replace('/', '_')}";
                    var files = new List<string> { stem + ".png" };
                    AtomicFile.WriteAllBytes(Path.Combine(settings.Out, stem + ".png"), FeatureMapGrid.RenderPng(map, maxChannels: settings.MaxChannels));
                    if (view is { } kernelView && map.Layer is ConvolutionLayer { Kernel: not null } conv)
                    {
                        int inputChannels = conv.Kernel.Shape[-2];
                        // auto never asks for RGB where it cannot be drawn; an explicit rgb on another layer falls back to auto there.
                        var resolved = kernelView == KernelView.Rgb && inputChannels != 3 ? KernelView.Auto : kernelView;
                        AtomicFile.WriteAllBytes(Path.Combine(settings.Out, stem + "-kernels.png"), KernelGrid.RenderPng(conv, resolved, settings.MaxChannels));
                        files.Add(stem + "-kernels.png");
                    }
                    else if (view is not null && map.Layer is DepthwiseConv2D { DepthwiseKernel: not null } or SeparableConv2D { DepthwiseKernel: not null })
                    {
                        AtomicFile.WriteAllBytes(Path.Combine(settings.Out, stem + "-kernels.png"), KernelGrid.RenderDepthwisePng(map.Layer, settings.MaxChannels));
                        files.Add(stem + "-kernels.png");
                    }
                    var (min, max) = TileColors.Range(map.Values.ToArray());
                    table.AddRow(Markup.Escape(map.Path), map.Layer.ClassName, map.ShapeText, Number(min), Number(max), Markup.Escape(string.Join(", ", files)));
                }
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLineInterpolated($"Wrote the feature maps of {maps.Count} layer(s) for {settings.Input} to {Path.GetFullPath(settings.Out)}.");
            }
            finally
            {
                foreach (var map in maps) map.Dispose();
            }
            return 0;
        }
        catch (Exception e) when (CommandErrors.IsUserError(e) || e is NotSupportedException)
        {
            return CommandErrors.Report("visualize", e);
        }
    }

    /// <summary>The named layers, or for none or "all" every layer but input layers and nested models (whose own layers are listed).</summary>
    private static List<string> ChooseLayers(Models.Model model, string[] requested, IReadOnlyList<string> paths)
    {
        var names = requested.SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0 || names.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase)))
            return paths.Where(p => FeatureMaps.Find(model, p) is not (InputLayer or Models.Model)).ToList();
        foreach (var name in names) FeatureMaps.Find(model, name);   // an unknown name is an error listing the layers
        return names.Distinct().ToList();
    }

    private static string Number(float v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
