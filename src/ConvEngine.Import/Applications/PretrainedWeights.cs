using ConvEngine.Import.Keras;
using ConvEngine.Models;

namespace ConvEngine.Import.Applications;

/// <summary>Loads a weights file into a model, by its extension: Keras HDF5 (either layout), a Keras 3 .keras, a TF.js manifest, or the engine's safetensors.</summary>
public static class PretrainedWeights
{
    /// <summary>Assigns the weights in <paramref name="path"/> to <paramref name="model"/>'s layers, the format told by the extension (.h5/.hdf5, .keras, .json, .safetensors).</summary>
    public static void Load(Model model, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{model.Name}: no weights file at {path}.", path);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".h5" or ".hdf5":
                KerasWeights.Load(model, path);
                break;
            case ".safetensors":
                model.LoadWeights(path);
                break;
            case ".keras":
                KerasFiles.LoadWeights(model, path);
                break;
            case ".json":
                TfJs.TfjsModels.LoadWeights(model, path);
                break;
            default:
                throw new ArgumentException($"{model.Name}: cannot tell the format of weights file {path}; expected .h5/.hdf5 (Keras 2 or 3), " +
                    ".keras (Keras 3), .json (a TF.js model.json or weights manifest) or .safetensors (engine).");
        }
    }
}
