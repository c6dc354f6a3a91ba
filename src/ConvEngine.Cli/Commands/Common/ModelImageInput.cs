using ConvEngine.Data.Images;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Cli.Commands;

/// <summary>The images a model's (None, H, W, C) input takes, read one way by train, evaluate and predict.</summary>
internal static class ModelImageInput
{
    /// <summary>The input's (height, width).</summary>
    public static (int Height, int Width) SizeOf(Model model) => (model.InputShape[0], model.InputShape[1]);

    /// <summary>The colour mode a model's input takes: 3 channels are RGB, 1 is greyscale.</summary>
    public static ColorMode ColorModeOf(Model model) => model.InputShape[^1] switch
    {
        3 => ColorMode.Rgb,
        1 => ColorMode.Grayscale,
        _ => throw new ArgumentException(
            $"Model '{model.Name}' takes inputs {SymbolicTensor.FormatShape(model.InputShape)}; images need (None, H, W, 1) or (None, H, W, 3)."),
    };
}
