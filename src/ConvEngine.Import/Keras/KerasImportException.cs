using ConvEngine.Serialization;
namespace ConvEngine.Import.Keras;

/// <summary>A Keras file that cannot be read as one: the message names the file and, where there is one, the dataset or attribute.</summary>
public class KerasImportException : IOException
{
    /// <summary>Creates the exception with its one-line <paramref name="message"/> and the underlying error, if any.</summary>
    public KerasImportException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A Keras layer class the engine has no layer for (e.g. BatchNormalization, ZeroPadding2D before they exist):
/// names the layer, its class and the model that holds it.
/// </summary>
public sealed class UnsupportedLayerException : NotSupportedException
{
    /// <summary>Creates the exception; the message is built from the layer, its class, the model and the file (<paramref name="source"/>, may be null).</summary>
    public UnsupportedLayerException(string layerName, string className, string modelName, string? source = null)
        : base($"Unsupported layer {QuotedName.Of(layerName)} of class {QuotedName.Of(className)} in model {QuotedName.Of(modelName)}{(source is null ? "" : $" ({source})")}: " +
               "the engine has no layer of that class.")
    {
        LayerName = layerName;
        ClassName = className;
        ModelName = modelName;
    }

    /// <summary>The layer's name in the model.</summary>
    public string LayerName { get; }
    /// <summary>The layer's Keras class, e.g. "ZeroPadding2D".</summary>
    public string ClassName { get; }
    /// <summary>The name of the model that holds the layer.</summary>
    public string ModelName { get; }
}
