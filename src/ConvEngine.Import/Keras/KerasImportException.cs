using ConvEngine.Serialization;
namespace ConvEngine.Import.Keras;

/// <summary>A Keras file that cannot be read as one: the message names the file and, where there is one, the dataset or attribute.</summary>
public class KerasImportException : IOException
{
    public KerasImportException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A Keras layer class the engine has no layer for (e.g. BatchNormalization, ZeroPadding2D before they exist):
/// names the layer, its class and the model that holds it.
/// </summary>
public sealed class UnsupportedLayerException : NotSupportedException
{
    public UnsupportedLayerException(string layerName, string className, string modelName, string? source = null)
        : base($"Unsupported layer {QuotedName.Of(layerName)} of class {QuotedName.Of(className)} in model {QuotedName.Of(modelName)}{(source is null ? "" : $" ({source})")}: " +
               "the engine has no layer of that class.")
    {
        LayerName = layerName;
        ClassName = className;
        ModelName = modelName;
    }

    public string LayerName { get; }
    public string ClassName { get; }
    public string ModelName { get; }
}
