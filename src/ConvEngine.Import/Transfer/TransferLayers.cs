using ConvEngine.Layers;

namespace ConvEngine.Import.Transfer;

/// <summary>The layers the transfer-learning code adds to the engine, registered by class name so saved models load.</summary>
public static class TransferLayers
{
    /// <summary>Registers <see cref="ImagePreprocessing"/> with <see cref="LayerRegistry"/> (idempotent).</summary>
    public static void Register() => LayerRegistry.Register(ImagePreprocessing.KerasClassName, ImagePreprocessing.FromConfig);
}
