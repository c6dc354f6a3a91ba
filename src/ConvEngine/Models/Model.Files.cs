using System.Text.Json.Nodes;
using ConvEngine.Kernels;
using ConvEngine.Serialization;

namespace ConvEngine.Models;

public partial class Model
{
    /// <summary>
    /// Saves the model into a folder: config.json (architecture and, if compiled, loss/metrics/optimizer
    /// config) and model.safetensors. The folder is written aside and renamed into place.
    /// </summary>
    public void Save(string directory) => AtomicDirectory.Write(directory, temp => ModelFiles.WriteInto(temp, this));

    /// <summary>Loads a model saved by <see cref="Save"/>, compiled again if it was compiled (optimizer state starts fresh).</summary>
    public static Model Load(string directory, IBackend? backend = null) => ModelFiles.ReadFrom(directory, backend);

    /// <summary>Writes all weights into one safetensors file (paths such as "conv2d/kernel").</summary>
    public void SaveWeights(string path) => ModelFiles.SaveWeights(this, path);

    /// <summary>Loads weights saved by <see cref="SaveWeights"/> into this model; names and shapes must match.</summary>
    public void LoadWeights(string path) => ModelFiles.LoadWeights(this, path);

    /// <summary>The architecture as Keras-like JSON (Keras's model.to_json()).</summary>
    public string ToJson() => ModelConfig.ToJson(this).ToJsonString(JsonConfig.Indented);

    /// <summary>A model from <see cref="ToJson"/>'s text (Keras's model_from_json); weights start uninitialized.</summary>
    public static Model FromJson(string json, IBackend? backend = null, ulong? seed = null) =>
        ModelConfig.FromJson(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("Model JSON must be an object."), backend, seed);
}
