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
    public void Save(string directory) => Save(directory, null);

    /// <summary>
    /// As <see cref="Save(string)"/>, with <paramref name="writeExtraFiles"/> adding files of its own (e.g. the class
    /// names the model was trained with) into the same folder before it is renamed into place, so they change together.
    /// </summary>
    public void Save(string directory, Action<string>? writeExtraFiles) => AtomicDirectory.Write(directory, temp =>
    {
        ModelFiles.WriteInto(temp, this);
        writeExtraFiles?.Invoke(temp);
    });

    /// <summary>Loads a model saved by <see cref="Save(string)"/>, compiled again if it was compiled (optimizer state starts fresh).</summary>
    public static Model Load(string directory, IBackend? backend = null) => ModelFiles.ReadFrom(directory, backend);

    /// <summary>Writes all weights into one safetensors file (paths such as "conv2d/kernel").</summary>
    public void SaveWeights(string path) => ModelFiles.SaveWeights(this, path);

    /// <summary>Loads weights saved by <see cref="SaveWeights"/> into this model; names and shapes must match.</summary>
    public void LoadWeights(string path) => ModelFiles.LoadWeights(this, path);

    /// <summary>The architecture as Keras-like JSON (Keras's model.to_json()).</summary>
    public string ToJson() => ModelConfig.ToJson(this).ToJsonString(JsonConfig.Indented);

    /// <summary>
    /// A model from a JSON config file (<see cref="ToJson"/>'s format, or config.json of a saved model), read strictly
    /// (<see cref="JsonFile"/>); a "format" stamp, when present, must be this engine's. Errors name the file.
    /// </summary>
    public static Model FromJsonFile(string path, IBackend? backend = null, ulong? seed = null)
    {
        var json = JsonFile.ReadObject(path, "Model config");
        JsonFile.RequireFormat(json, path, ModelFiles.FormatName, ModelFiles.FormatVersion, required: false);
        try
        {
            return ModelConfig.FromJson(json, backend, seed);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new FormatException($"Model config '{path}': {e.Message}", e);
        }
    }

    /// <summary>A model from <see cref="ToJson"/>'s text (Keras's model_from_json); weights start uninitialized.</summary>
    public static Model FromJson(string json, IBackend? backend = null, ulong? seed = null) =>
        ModelConfig.FromJson(JsonFile.ParseObject(System.Text.Encoding.UTF8.GetBytes(json), "Model JSON"), backend, seed);
}
