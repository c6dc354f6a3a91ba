using System.Text.Json.Nodes;
using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Layers;

/// <summary>
/// Which Keras a preprocessing layer follows where Keras 2 (tf.keras ≤ 2.15, the course's) and Keras 3 differ.
/// Only RandomContrast differs in what it computes: Keras 2 draws one factor per batch and clips to [0, 255];
/// Keras 3 (≥ 3.6) draws one per image, clips to its <c>value_range</c>, and reads a single number f as [1, 1 + f].
/// </summary>
public enum KerasSemantics
{
    /// <summary>tf.keras ≤ 2.15, the course's.</summary>
    Keras2,
    /// <summary>Keras ≥ 3.6.</summary>
    Keras3,
}

/// <summary>The string values of Keras's preprocessing arguments, parsed with errors that name the layer and the value.</summary>
public static class PreprocessingOptions
{
    /// <summary>The fill_mode values Keras accepts.</summary>
    public static IReadOnlyList<string> FillModes { get; } = ["reflect", "wrap", "constant", "nearest"];
    /// <summary>The interpolation values the engine has.</summary>
    public static IReadOnlyList<string> Interpolations { get; } = ["bilinear", "nearest"];
    /// <summary>Keras accepts these for Resizing, RandomWidth and RandomHeight; the engine has bilinear and nearest.</summary>
    private static readonly string[] OtherResizeMethods = ["bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"];

    /// <summary>Reads a fill_mode; an error naming <paramref name="layer"/> and the value otherwise.</summary>
    public static FillMode ParseFillMode(string layer, string value) => value switch
    {
        "reflect" => FillMode.Reflect,
        "wrap" => FillMode.Wrap,
        "constant" => FillMode.Constant,
        "nearest" => FillMode.Nearest,
        _ => throw new ArgumentException($"{layer}: unknown fill_mode '{value}'; it is one of {string.Join(", ", FillModes)}."),
    };

    /// <summary>The fill_mode as Keras spells it.</summary>
    public static string Name(FillMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>Reads an interpolation; an error naming <paramref name="layer"/> and the value otherwise (saying when Keras has it and the engine does not).</summary>
    public static InterpolationMode ParseInterpolation(string layer, string value) => value switch
    {
        "bilinear" => InterpolationMode.Bilinear,
        "nearest" => InterpolationMode.Nearest,
        _ when OtherResizeMethods.Contains(value) =>
            throw new ArgumentException($"{layer}: interpolation '{value}' is one Keras has but the engine does not; use bilinear or nearest."),
        _ => throw new ArgumentException($"{layer}: unknown interpolation '{value}'; it is one of {string.Join(", ", Interpolations)}."),
    };

    /// <summary>The interpolation as Keras spells it.</summary>
    public static string Name(InterpolationMode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>Reads "keras2" or "keras3"; an error naming <paramref name="layer"/> and the value otherwise.</summary>
    public static KerasSemantics ParseSemantics(string layer, string value) => value switch
    {
        "keras2" => KerasSemantics.Keras2,
        "keras3" => KerasSemantics.Keras3,
        _ => throw new ArgumentException($"{layer}: semantics must be 'keras2' or 'keras3', got '{value}'."),
    };

    /// <summary>A [low, high] list of two numbers, such as value_range.</summary>
    internal static (double Low, double High) ReadRange(JsonObject config, string owner, string key)
    {
        var factor = Factor.Read(config, owner, key);
        if (!factor.IsRange) throw new FormatException($"{owner} config: '{key}' must be a list of two numbers, got {config[key]!.ToJsonString()}.");
        return (factor.First, factor.Second);
    }
}
