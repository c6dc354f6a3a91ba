using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

// The options several commands share, declared once. Spectre.Console.Cli reads a settings class's options up its
// base classes, so a command takes a level by deriving from it:
//   CommonSettings   --backend                      (every command that computes)
//   ModelSettings    + -m|--model                   (commands that load or build a model)
//   BatchSettings    + -b|--batch-size              (commands that run a model over many samples)
//   ReportSettings   + --format                     (commands that print a report in a choice of formats)
// A derived Validate() calls base.Validate() first, so each level checks its own options once.

/// <summary>Options every command that computes has: <c>--backend</c>.</summary>
internal abstract class CommonSettings : CommandSettings
{
    /// <summary>The backend that runs the kernels, by name (Backends.Create); an absent device is an error, never a fallback.</summary>
    [CommandOption("--backend <NAME>")]
    [Description("cpu, cuda, opencl, ilgpu-cpu or auto.")]
    [DefaultValue("cpu")]
    public string Backend { get; init; } = "cpu";

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Backend) ? ValidationResult.Error("--backend needs a name: cpu, cuda, opencl, ilgpu-cpu or auto.") : ValidationResult.Success();
}

/// <summary>
/// <c>-m|--model</c> on top of <see cref="CommonSettings"/>: the model a command loads (train: the one it builds).
/// Required unless <see cref="RequiresModel"/> says otherwise.
/// </summary>
internal abstract class ModelSettings : CommonSettings
{
    /// <summary>The model as given; null when left out (allowed only where <see cref="RequiresModel"/> is false).</summary>
    [CommandOption("-m|--model <MODEL>")]
    [Description("A model folder (a `convengine train` output or Model.Save folder) or its config.json, a Keras JSON config, full-model .h5 or Keras 3 .keras, " +
        "a TF.js model.json, or an .onnx file (recognised by content); " +
        "evaluate takes model folders only. train builds custom-convnet (default), custom-convnet-improved, custom-convnet-softmax or a model JSON config.")]
    public string? ModelPath { get; init; }

    /// <summary>Whether the command needs --model (train builds its default model without one).</summary>
    protected virtual bool RequiresModel => true;

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful) return result;
        if (RequiresModel && string.IsNullOrWhiteSpace(ModelPath)) return ValidationResult.Error("--model is required: give a model folder or file.");
        if (ModelPath is not null && string.IsNullOrWhiteSpace(ModelPath)) return ValidationResult.Error("--model needs a value.");
        return ValidationResult.Success();
    }
}

/// <summary><c>-b|--batch-size</c> on top of <see cref="ModelSettings"/>: how many samples go through the model at once.</summary>
internal abstract class BatchSettings : ModelSettings
{
    [CommandOption("-b|--batch-size <N>")]
    [Description("Samples per batch.")]
    [DefaultValue(64)]
    public int BatchSize { get; init; } = 64;

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful) return result;
        return BatchSize < 1 ? ValidationResult.Error($"--batch-size must be at least 1; got {BatchSize}.") : ValidationResult.Success();
    }
}

/// <summary><c>--format</c> on top of <see cref="BatchSettings"/>: the report's format, one of <see cref="Formats"/> (the first is the default).</summary>
internal abstract class ReportSettings : BatchSettings
{
    /// <summary>The format as given; <see cref="FormatName"/> is its normalised form.</summary>
    [CommandOption("--format <FORMAT>")]
    [Description("The report's format: text (default), csv or json, as the command offers them (evaluate: text or json).")]
    [DefaultValue("text")]
    public string Format { get; init; } = "text";

    /// <summary>The formats this command writes, lower case; the first is the default.</summary>
    protected abstract IReadOnlyList<string> Formats { get; }

    /// <summary>The chosen format, trimmed and lower case.</summary>
    public string FormatName => Format.Trim().ToLowerInvariant();

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful) return result;
        return Formats.Contains(FormatName)
            ? ValidationResult.Success()
            : ValidationResult.Error($"--format must be {string.Join(", ", Formats.SkipLast(1))}{(Formats.Count > 1 ? " or " : "")}{Formats[^1]}; got '{Format}'.");
    }
}
