namespace ConvEngine.Layers;

/// <summary>
/// Keras's image preprocessing layers as the engine knows them: each class name with its constructor's arguments in
/// Keras's order (for positional arguments, as <c>RandomRotation(0.2, 'constant')</c> passes them), and the older
/// qualified spellings (<c>preprocessing.RandomFlip</c>, <c>keras.layers.experimental.preprocessing.RandomFlip</c> of
/// tf.keras 2.2–2.5) mapped to the class name.
/// </summary>
public static class PreprocessingLayers
{
    /// <summary>Arguments in Keras 2.15's order; RandomContrast also takes Keras 3's value_range and the engine's semantics by keyword.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Arguments { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["RandomFlip"] = ["mode", "seed"],
        ["RandomContrast"] = ["factor", "seed", "value_range", "semantics"],
        ["RandomBrightness"] = ["factor", "value_range", "seed"],
        ["RandomRotation"] = ["factor", "fill_mode", "interpolation", "seed", "fill_value"],
        ["RandomTranslation"] = ["height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"],
        ["RandomZoom"] = ["height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value"],
        ["RandomWidth"] = ["factor", "interpolation", "seed"],
        ["RandomHeight"] = ["factor", "interpolation", "seed"],
        ["RandomCrop"] = ["height", "width", "seed"],
        ["Resizing"] = ["height", "width", "interpolation", "crop_to_aspect_ratio"],
        ["CenterCrop"] = ["height", "width"],
        ["Rescaling"] = ["scale", "offset"],
    };

    /// <summary>Keyword arguments every preprocessing layer takes besides its own.</summary>
    public static IReadOnlyList<string> CommonArguments { get; } = ["name", "trainable", "dtype", "data_format"];

    /// <summary>The Keras class names of the preprocessing layers.</summary>
    public static IReadOnlyCollection<string> ClassNames => (IReadOnlyCollection<string>)Arguments.Keys;

    /// <summary>The Random* layers: active only in training.</summary>
    public static bool IsRandom(string className) => className.StartsWith("Random", StringComparison.Ordinal) && Arguments.ContainsKey(className);

    /// <summary>
    /// The class name of a qualified spelling whose last part is a preprocessing layer ("preprocessing.RandomFlip",
    /// "tf.keras.layers.experimental.preprocessing.RandomFlip", "Custom>RandomFlip"); any other name as given.
    /// </summary>
    public static string CanonicalName(string className)
    {
        int cut = Math.Max(className.LastIndexOf('.'), className.LastIndexOf('>'));
        if (cut < 0) return className;
        string last = className[(cut + 1)..];
        return Arguments.ContainsKey(last) ? last : className;
    }
}
