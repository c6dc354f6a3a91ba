using System.Text.Json.Nodes;

namespace ConvEngine.Layers;

/// <summary>
/// Builds layers from their Keras-like JSON config by class name. Layers added by other parts of the
/// engine (Add, Concatenate, BatchNormalization, …) register their factory here.
/// </summary>
public static class LayerRegistry
{
    private static readonly Dictionary<string, Func<JsonObject, Layer>> Factories = new(StringComparer.Ordinal)
    {
        ["InputLayer"] = InputLayer.FromConfig,
        ["Conv2D"] = Conv2D.FromConfig,
        ["Convolution2D"] = Conv2D.FromConfig,
        ["Conv1D"] = Conv1D.FromConfig,
        ["Convolution1D"] = Conv1D.FromConfig,
        ["MaxPooling2D"] = MaxPool2D.FromConfig,
        ["MaxPool2D"] = MaxPool2D.FromConfig,
        ["AveragePooling2D"] = AveragePooling2D.FromConfig,
        ["AvgPool2D"] = AveragePooling2D.FromConfig,
        ["GlobalAveragePooling2D"] = GlobalAveragePooling2D.FromConfig,
        ["GlobalAvgPool2D"] = GlobalAveragePooling2D.FromConfig,
        ["MaxPooling1D"] = MaxPooling1D.FromConfig,
        ["MaxPool1D"] = MaxPooling1D.FromConfig,
        ["AveragePooling1D"] = AveragePooling1D.FromConfig,
        ["AvgPool1D"] = AveragePooling1D.FromConfig,
        ["GlobalAveragePooling1D"] = GlobalAveragePooling1D.FromConfig,
        ["GlobalAvgPool1D"] = GlobalAveragePooling1D.FromConfig,
        ["GlobalMaxPooling1D"] = GlobalMaxPooling1D.FromConfig,
        ["GlobalMaxPool1D"] = GlobalMaxPooling1D.FromConfig,
        ["Dense"] = Dense.FromConfig,
        ["Flatten"] = Flatten.FromConfig,
        ["Dropout"] = Dropout.FromConfig,
        ["Activation"] = Activation.FromConfig,
        ["Rescaling"] = Rescaling.FromConfig,
        ["Add"] = Add.FromConfig,
        ["Concatenate"] = Concatenate.FromConfig,
        ["BatchNormalization"] = BatchNormalization.FromConfig,
        ["LRN"] = LRN.FromConfig,
        ["ZeroPadding2D"] = ZeroPadding2D.FromConfig,
        ["Softmax"] = Softmax.FromConfig,
        ["DepthwiseConv2D"] = DepthwiseConv2D.FromConfig,
        ["SeparableConv2D"] = SeparableConv2D.FromConfig,
        ["SeparableConvolution2D"] = SeparableConv2D.FromConfig,
        ["ReLU"] = ReLU.FromConfig,
        ["GlobalMaxPooling2D"] = GlobalMaxPooling2D.FromConfig,
        ["GlobalMaxPool2D"] = GlobalMaxPooling2D.FromConfig,
        ["Multiply"] = Multiply.FromConfig,
        ["Reshape"] = Reshape.FromConfig,
        ["Cropping2D"] = Cropping2D.FromConfig,
        ["Conv2DTranspose"] = Conv2DTranspose.FromConfig,
        ["Convolution2DTranspose"] = Conv2DTranspose.FromConfig,
        ["Normalization"] = Normalization.FromConfig,
        ["Permute"] = Permute.FromConfig,
        ["LeakyReLU"] = LeakyReLU.FromConfig,
        // Image preprocessing (Layers/Preprocessing); older qualified spellings go through PreprocessingLayers.CanonicalName.
        ["RandomFlip"] = RandomFlip.FromConfig,
        ["RandomContrast"] = RandomContrast.FromConfig,
        ["RandomBrightness"] = RandomBrightness.FromConfig,
        ["RandomRotation"] = RandomRotation.FromConfig,
        ["RandomTranslation"] = RandomTranslation.FromConfig,
        ["RandomZoom"] = RandomZoom.FromConfig,
        ["RandomWidth"] = RandomWidth.FromConfig,
        ["RandomHeight"] = RandomHeight.FromConfig,
        ["RandomCrop"] = RandomCrop.FromConfig,
        ["Resizing"] = Resizing.FromConfig,
        ["CenterCrop"] = CenterCrop.FromConfig,
    };
    private static readonly Lock Gate = new();

    /// <summary>Registers (or replaces) the factory for a Keras class name.</summary>
    public static void Register(string className, Func<JsonObject, Layer> factory)
    {
        lock (Gate) Factories[className] = factory;
    }

    /// <summary>The Keras class names a config may use.</summary>
    public static IReadOnlyCollection<string> ClassNames
    {
        get { lock (Gate) return Factories.Keys.ToArray(); }
    }

    /// <summary>Creates a layer (not yet applied) from its class name and config.</summary>
    public static Layer Create(string className, JsonObject config)
    {
        Func<JsonObject, Layer>? factory;
        lock (Gate) Factories.TryGetValue(PreprocessingLayers.CanonicalName(className), out factory);
        if (factory is null)
            throw new FormatException($"Unknown layer class '{className}'; known: {string.Join(", ", ClassNames.Order())}.");
        return factory(config);
    }
}
